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
    return list(ReconciliationRun.objects.select_related("enterprise").order_by("-started_at", "-id")[:limit])
