"""Reads for the enforcement pages and API: each starts from the actor's visible set (querysets.visible_to)."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.core.errors import NotFound
from apps.enforcement.models import ActionKind, ActionStatus, EnforcementAction


def action_list(*, actor, kind: str | None = None, status: str | None = None, province: str | None = None,
                enterprise: int | None = None, q: str | None = None, overdue: bool = False) -> QuerySet:
    """Newest first; a filter that names no known value is ignored. `q` searches the number, the enterprise's
    name or credit code, and the facts."""
    qs = EnforcementAction.objects.visible_to(actor).select_related("enterprise", "created_by", "approved_by")
    if kind in ActionKind.values:
        qs = qs.filter(kind=kind)
    if status in ActionStatus.values:
        qs = qs.filter(status=status)
    if province:
        qs = qs.filter(province=province)
    if enterprise:
        qs = qs.filter(enterprise_id=enterprise)
    if overdue:  # rules.is_overdue, in SQL
        from django.utils import timezone

        qs = qs.filter(status=ActionStatus.ISSUED, deadline__lt=timezone.localdate())
    q = (q or "").strip()[:100]
    if q:
        match = Q(enterprise__name__icontains=q) | Q(enterprise__uscc__iexact=q) | Q(facts__icontains=q)
        if q.lstrip("#").isdigit() and len(q) < 12:
            match |= Q(pk=int(q.lstrip("#")))
        qs = qs.filter(match)
    return qs.order_by("-created_at", "-id")


def action_get(*, actor, pk) -> EnforcementAction:
    """One action the actor may see; another's (or, for an enterprise, a draft) looks exactly like a missing one."""
    try:
        return (EnforcementAction.objects.visible_to(actor)
                .select_related("enterprise", "created_by", "approved_by", "answered_by", "closed_by").get(pk=pk))
    except (EnforcementAction.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def action_evidence(action: EnforcementAction) -> dict:
    """The linked ledger events (with their battery codes), filings and discrepancies: three queries."""
    from apps.batteries.models import BatteryEvent
    from apps.filings.models import Filing
    from apps.reconciliation.models import Discrepancy

    event_ids = action.evidence_events.values("event_id")
    return {
        "events": list(BatteryEvent.objects.filter(pk__in=event_ids).select_related("battery")
                       .order_by("occurred_at", "pk")),
        "filings": list(Filing.objects.filter(pk__in=action.evidence_filings.values("filing_id")).order_by("pk")),
        "discrepancies": list(Discrepancy.objects.filter(pk__in=action.evidence_discrepancies.values("discrepancy_id"))
                              .order_by("pk")),
    }


def evidence_ids(action: EnforcementAction) -> dict:
    """The evidence as the draft form and the API take it back (numbers)."""
    return {
        "event_ids": list(action.evidence_events.order_by("event_id").values_list("event_id", flat=True)),
        "filing_ids": list(action.evidence_filings.order_by("filing_id").values_list("filing_id", flat=True)),
        "discrepancy_ids": list(action.evidence_discrepancies.order_by("discrepancy_id")
                                .values_list("discrepancy_id", flat=True)),
    }


def action_history(action: EnforcementAction, *, for_enterprise: bool) -> list:
    """The transitions a viewer may read. The enterprise reads what happened from the issue on (issued, answered,
    closed), without the approving reviewer's internal remark; the drafting and the second review (a return's
    reasons included) stay between reviewers."""
    transitions = list(action.transitions.select_related("actor"))
    if not for_enterprise:
        return transitions
    shown = []
    for transition in transitions:
        if transition.to_status not in ("issued", "answered", "closed"):
            continue
        if transition.verb == "approve":
            transition.comment = ""
        shown.append(transition)
    return shown
