"""Reads for the discrepancy pages and API: each starts from the actor's visible set (querysets.visible_to)."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.reconciliation.models import Check, Discrepancy, DiscrepancyStatus, ReconciliationRun, Severity


def discrepancy_list(*, actor, kind: str | None = None, severity: str | None = None, enterprise: int | None = None,
                     province: str | None = None, status: str | None = DiscrepancyStatus.OPEN) -> QuerySet:
    """Newest first; filters that do not name a known value are ignored."""
    qs = Discrepancy.objects.visible_to(actor).select_related("enterprise")
    if kind in Check.values:
        qs = qs.filter(kind=kind)
    if severity in Severity.values:
        qs = qs.filter(severity=severity)
    if enterprise:
        qs = qs.filter(enterprise_id=enterprise)
    if province:
        qs = qs.filter(enterprise__province=province)
    if status in DiscrepancyStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-last_seen", "-id")


def discrepancy_get(*, actor, pk) -> Discrepancy:
    """One discrepancy the actor may see; another enterprise's looks exactly like a missing one."""
    from apps.core.errors import NotFound

    try:
        return Discrepancy.objects.visible_to(actor).select_related("enterprise").get(pk=pk)
    except (Discrepancy.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def recent_runs(limit: int = 10) -> list[ReconciliationRun]:
    """The latest runs, for administrators (whether the nightly job ran, what it found, whether it was skipped)."""
    return list(run_list()[:limit])


def run_list(*, status: str | None = None, dry_run: bool | None = None) -> QuerySet:
    """The runs as they were started — full, per-enterprise, and split (the parent; its batches are on its detail
    page) — newest first, for administrators."""
    qs = ReconciliationRun.objects.filter(parent__isnull=True).select_related("enterprise")
    if status in ReconciliationRun.Status.values:
        qs = qs.filter(status=status)
    if dry_run is not None:
        qs = qs.filter(dry_run=dry_run)
    return qs.order_by("-started_at", "-id")


def run_get(*, pk) -> ReconciliationRun:
    from apps.core.errors import NotFound

    try:
        return ReconciliationRun.objects.select_related("enterprise", "parent").get(pk=pk)
    except (ReconciliationRun.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def run_counts(run: ReconciliationRun) -> list[tuple[str, int | None]]:
    """Each check's label with what the run found (None: the run did not perform that check)."""
    return [(label, run.counts.get(value)) for value, label in Check.choices]
