"""The reviewer queue's risk order in SQL (the rule is `apps.filings.rules.risk_rank`), and the labels of the flags.

Everything here is set-based: the queue annotates each open filing with one integer `risk` (4 × overdue +
2 × flagged + 1 × repeat offender) and sorts on it. The set of repeat offenders is computed set-based (one
aggregate statement per source of evidence), at most once a minute, and cached (repeat_offender_ids); the queue
tests each row against that set (a hashed IN list), so it stays one statement whatever the number of filings,
and the history tables are not read on every page view.

The evidence of a repeat offender comes from REPEAT_OFFENCE_SOURCES: filings returned or rejected, open
discrepancies, open enforcement actions. Another app adds its own by appending a callable to it in its
AppConfig.ready(): `callable(since) -> QuerySet` of one column, the enterprise id (a `values("enterprise_id")`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db.models import Case, Count, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.filings import rules

# What each flag a service may set means, for the queue's badges (a flag missing here shows its name).
FLAG_LABELS = {
    rules.LEDGER_MISMATCH: _("Counts differ from the ledger"),
    "below_threshold": _("Recovery rate below threshold"),
    "impossible_yield": _("Physically impossible yield"),
}

RISK_LABELS = {
    rules.RISK_OVERDUE: _("Overdue"),
    rules.RISK_FLAGGED: _("Flagged"),
    rules.RISK_REPEAT_OFFENDER: _("Repeat offender"),
}


def flag_label(flag: str) -> str:
    return str(FLAG_LABELS.get(flag, flag))


def _returned_or_rejected(since: dt.datetime) -> QuerySet:
    """Enterprises with at least FILINGS_REPEAT_OFFENDER_THRESHOLD filings returned or rejected since `since`."""
    from apps.filings.models import FilingTransition

    return (FilingTransition.objects.filter(action__in=("return", "reject"), created_at__gte=since)
            .values("filing__enterprise_id")
            .annotate(n=Count("filing_id", distinct=True))
            .filter(n__gte=settings.FILINGS_REPEAT_OFFENDER_THRESHOLD)
            .values("filing__enterprise_id"))


def _open_discrepancies(since: dt.datetime) -> QuerySet:
    """Enterprises with a discrepancy seen in the period that was escalated, or has stayed open (unexplained) for
    FILINGS_REPEAT_OFFENDER_DISCREPANCY_DAYS: a discrepancy the reconciliation raised minutes ago, often because of
    the very filing under review, does not make its enterprise a repeat offender."""
    from apps.reconciliation.models import Discrepancy, DiscrepancyStatus

    # `since` is now − 365 days; the age cut-off is counted from now.
    stale = since + dt.timedelta(days=365 - settings.FILINGS_REPEAT_OFFENDER_DISCREPANCY_DAYS)
    return (Discrepancy.objects.filter(last_seen__gte=since)
            .filter(Q(status=DiscrepancyStatus.ESCALATED)
                    | Q(status=DiscrepancyStatus.OPEN, first_seen__lte=stale))
            .values("enterprise_id"))


def _open_enforcement_actions(since: dt.datetime) -> QuerySet:
    """Enterprises with an enforcement action issued to them and not closed (whatever its age: still open)."""
    from apps.enforcement.models import ActionStatus, EnforcementAction

    return (EnforcementAction.objects.filter(status__in=(ActionStatus.ISSUED, ActionStatus.ANSWERED))
            .values("enterprise_id"))


REPEAT_OFFENCE_SOURCES: list[Callable[[dt.datetime], QuerySet]] = [
    _returned_or_rejected, _open_discrepancies, _open_enforcement_actions]


# The repeat offenders change rarely (a filing returned or rejected, a discrepancy opened or closed, the 12-month
# window sliding), while the queue is read all day: their ids are computed set-based (one statement over all the
# sources) and kept in the cache for REPEAT_OFFENDERS_CACHE_SECONDS. A return or rejection clears it at once
# (repeat_offenders_changed, on commit); anything else shows within that time.
REPEAT_OFFENDERS_CACHE_KEY = "filings:repeat-offenders"
REPEAT_OFFENDERS_CACHE_SECONDS = 60


def repeat_offender_ids(*, now: dt.datetime | None = None) -> list[int]:
    """The ids of the enterprises that are repeat offenders over the last 12 months: any enterprise one of
    REPEAT_OFFENCE_SOURCES names (at least FILINGS_REPEAT_OFFENDER_THRESHOLD filings returned or rejected, a
    discrepancy escalated or left open FILINGS_REPEAT_OFFENDER_DISCREPANCY_DAYS, an open enforcement action)."""
    from django.core.cache import cache

    ids = cache.get(REPEAT_OFFENDERS_CACHE_KEY) if now is None else None
    if ids is None:
        since = (now or timezone.now()) - dt.timedelta(days=365)
        found: set[int] = set()
        for source in REPEAT_OFFENCE_SOURCES:
            found.update(value for row in source(since) for value in row.values())
        ids = sorted(found)
        if now is None:
            cache.set(REPEAT_OFFENDERS_CACHE_KEY, ids, REPEAT_OFFENDERS_CACHE_SECONDS)
    return ids


def repeat_offenders_changed() -> None:
    from django.core.cache import cache

    cache.delete(REPEAT_OFFENDERS_CACHE_KEY)


def repeat_offender_condition(*, now: dt.datetime | None = None) -> Q:
    """Filings of an enterprise that is a repeat offender (a hashed IN list: one probe per row)."""
    return Q(enterprise_id__in=repeat_offender_ids(now=now))


def overdue_condition(*, today: dt.date | None = None) -> Q:
    """rules.is_overdue in SQL: first submitted after the due date, or not submitted and the due date passed."""
    today = today or timezone.localdate()
    return (Q(due_date__isnull=False, first_submitted_at__isnull=False, first_submitted_at__date__gt=F("due_date"))
            | Q(due_date__lt=today, first_submitted_at__isnull=True))


def flagged_condition() -> Q:
    return ~Q(flags=[])


def _weight(condition: Q, reason: str) -> Case:
    return Case(When(condition, then=Value(rules.RISK_WEIGHTS[reason])), default=Value(0), output_field=IntegerField())


def with_risk(queryset: QuerySet) -> QuerySet:
    """Annotate `risk` = rules.risk_rank(overdue, flagged, repeat offender), computed in the same statement; the
    reasons are read back from it with rules.risk_reasons (each condition is evaluated once per row)."""
    return queryset.annotate(risk=ExpressionWrapper(
        _weight(overdue_condition(), rules.RISK_OVERDUE)
        + _weight(flagged_condition(), rules.RISK_FLAGGED)
        + _weight(repeat_offender_condition(), rules.RISK_REPEAT_OFFENDER),
        output_field=IntegerField()))


def risk_badges(filing) -> list[tuple[str, str]]:
    """(css class, label) of each reason a queue row is risky, in sort order; each flag named."""
    reasons = rules.risk_reasons(getattr(filing, "risk", 0) or 0)
    badges = []
    if rules.RISK_OVERDUE in reasons:
        badges.append(("filing-overdue", str(RISK_LABELS[rules.RISK_OVERDUE])))
    for flag in filing.flags or ():
        badges.append(("filing-flagged", flag_label(flag)))
    if rules.RISK_REPEAT_OFFENDER in reasons:
        badges.append(("filing-repeat", str(RISK_LABELS[rules.RISK_REPEAT_OFFENDER])))
    return badges


def filing_risk_badges(filing) -> list[tuple[str, str]]:
    """The badges of one filing outside the queue (the review page): its rank in one small query."""
    from apps.filings.models import Filing

    if not hasattr(filing, "risk"):
        filing.risk = with_risk(Filing.objects.filter(pk=filing.pk)).values_list("risk", flat=True).first() or 0
    return risk_badges(filing)
