from celery import shared_task


@shared_task(bind=True, acks_late=True)
def reconciliation_run_all(self) -> dict:
    """Nightly: every check for every enterprise, split into batches of enterprises that the workers share (one
    reconciliation_run_batch task each, under the parent run recorded here). While a full run is in progress this
    one is a recorded no-op."""
    from apps.reconciliation.services import reconciliation_run_split

    queue = (self.request.delivery_info or {}).get("routing_key")
    parent = reconciliation_run_split(queue=queue)
    return {"run": parent.pk, "skipped": parent.status == parent.Status.SKIPPED, "batches": parent.children_total}


@shared_task(acks_late=True)
def reconciliation_run_batch(parent_id: int, enterprise_ids: list[int], dry_run: bool = False) -> dict:
    """One batch of a split run. The batch that finishes the parent refreshes the dashboards' aggregates, which
    then show what the whole run found against fresh flows."""
    from apps.reconciliation.models import ReconciliationRun
    from apps.reconciliation.services import reconciliation_run

    result = reconciliation_run(enterprises=enterprise_ids, parent=parent_id, dry_run=dry_run)
    parent = ReconciliationRun.objects.get(pk=parent_id)
    if parent.finished_at is not None and not dry_run and parent.status == parent.Status.SUCCEEDED:
        dashboard_aggregates_refresh.delay()
    return {"run": result.run.pk, "skipped": result.skipped, "counts": result.counts, "closed": result.closed}


@shared_task(acks_late=True)
def reconciliation_run_enterprise(enterprise_id: int) -> dict:
    """One enterprise, when it files a monthly report: its discrepancies are current when the reviewer opens it."""
    from apps.reconciliation.services import reconciliation_run

    result = reconciliation_run(enterprise=enterprise_id)
    return {"run": result.run.pk, "skipped": result.skipped, "counts": result.counts, "closed": result.closed}


@shared_task(acks_late=True)
def dashboard_aggregates_refresh() -> dict:
    """After the nightly run (and on demand): the dashboards' pre-aggregated figures (ADR 0013)."""
    from apps.reconciliation.services import dashboard_aggregates_refresh as refresh

    result = refresh()
    return {"refresh": result.pk if result else None, "skipped": result is None}
