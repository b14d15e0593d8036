from celery import shared_task


@shared_task(acks_late=True)
def reconciliation_run_all() -> dict:
    """Nightly: every check for every enterprise. A run already in progress makes this one a recorded no-op."""
    from apps.reconciliation.services import reconciliation_run

    result = reconciliation_run()
    return {"run": result.run.pk, "skipped": result.skipped, "counts": result.counts, "closed": result.closed}


@shared_task(acks_late=True)
def reconciliation_run_enterprise(enterprise_id: int) -> dict:
    """One enterprise, when it files a monthly report: its discrepancies are current when the reviewer opens it."""
    from apps.reconciliation.services import reconciliation_run

    result = reconciliation_run(enterprise=enterprise_id)
    return {"run": result.run.pk, "skipped": result.skipped, "counts": result.counts, "closed": result.closed}
