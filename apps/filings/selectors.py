"""Reads for the filing pages and API: each starts from the actor's visible set (apps.filings.querysets)."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.errors import NotFound
from apps.filings import rules
from apps.filings.models import MONTHLY_COUNT_FIELDS, Filing, FilingStatus


def filing_get(*, actor, pk) -> Filing:
    try:
        return (Filing.objects.visible_to(actor).select_related("enterprise", "assigned_to", "monthly_report")
                .get(pk=pk))
    except (Filing.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def filing_list(*, actor, kind: str | None = None, status: str | None = None) -> QuerySet:
    qs = Filing.objects.visible_to(actor).select_related("enterprise", "assigned_to")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-period", "-created_at", "-id")


def filing_queue(*, actor, kind: str | None = None, province: str | None = None, enterprise: int | None = None,
                 search: str | None = None, status: str | None = None, older_than_days: int | None = None,
                 sort: str = "risk") -> QuerySet:
    """Open filings of every kind in the reviewer's provinces, each annotated with `risk` (apps.filings.risk); by
    default riskiest first — overdue, flagged, repeat offender (rules.risk_rank) — then the oldest. `search`
    matches the enterprise's name (contains) or unified social credit code (starts with)."""
    from apps.filings.risk import with_risk

    qs = Filing.objects.visible_to(actor).open().select_related("enterprise", "assigned_to")
    if kind:
        qs = qs.filter(kind=kind)
    if province:
        qs = qs.filter(province=province)
    if enterprise:
        qs = qs.filter(enterprise_id=enterprise)
    if search and search.strip():
        term = search.strip()
        from apps.enterprises.models import Enterprise

        # the matching enterprises first (a few), then their filings: the name test runs once per enterprise
        qs = qs.filter(enterprise_id__in=Enterprise.objects.filter(
            Q(name__icontains=term) | Q(uscc__startswith=term.upper())).values("pk"))
    if status in rules.OPEN_STATUSES:
        qs = qs.filter(status=status)
    if older_than_days:
        qs = qs.filter(submitted_at__lt=timezone.now() - dt.timedelta(days=older_than_days))
    qs = with_risk(qs)
    if sort == "newest":
        return qs.order_by("-submitted_at", "-id")
    if sort == "oldest":
        return qs.order_by("submitted_at", "id")
    return qs.order_by(*QUEUE_RISK_ORDER)


# The queue's default order; the API's keyset cursor follows the same three keys.
QUEUE_RISK_ORDER = ("-risk", "submitted_at", "id")


def filing_queue_keyset_ids(queryset: QuerySet, *, after: tuple | None, limit: int) -> list[int]:
    """Ids of the next `limit` filings of `queryset` (from filing_queue) in the risk order, after the row
    `after` = (risk, submitted_at, id): a keyset, so every page costs the same. The rank is computed once per row
    in an inner query and compared as a row value, (-risk, submitted_at, id) > (-r, s, i)."""
    from django.db import connection

    inner, params = queryset.order_by().values_list("pk", "risk", "submitted_at").query.sql_with_params()
    where, extra = "", []
    if after is not None:
        where = "WHERE (-q.risk, q.submitted_at, q.id) > (%s::integer, %s::timestamptz, %s::bigint)"
        extra = [-int(after[0]), after[1], int(after[2])]
    sql = (f"SELECT q.id FROM ({inner}) AS q (id, risk, submitted_at) {where}"
           " ORDER BY q.risk DESC, q.submitted_at, q.id LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *extra, int(limit)])
        return [row[0] for row in cursor.fetchall()]


def filing_queue_rows(queryset: QuerySet, ids: list[int]) -> list[Filing]:
    """The full rows (enterprise, reviewer, risk) of one page of the queue, in the page's order.

    Pages sort ids only (`queryset.values_list("pk", flat=True)` sliced: narrow rows, no join while ranking the
    whole queue), then read the 25 or 50 rows shown here, in one more statement."""
    rows = {f.pk: f for f in queryset.order_by().filter(pk__in=list(ids))}
    return [rows[pk] for pk in ids if pk in rows]


def monthly_report_ledger_mismatch(filing: Filing) -> list[str]:
    """The declared counts of a monthly report that differ from the ledger (one aggregate query)."""
    ledger = ledger_counts(enterprise_id=filing.enterprise_id, month=filing.period)
    return rules.counts_differing(filing.monthly_report.counts(), ledger, MONTHLY_COUNT_FIELDS)


# The one definition of "the ledger's count for an enterprise and month", shared by the comparison a reviewer
# sees on a report (ledger_counts) and by the reconciliation check (apps.reconciliation.checks): events with the
# enterprise as actor whose time falls in the month on the Asia/Shanghai calendar. A SQL fragment over
# batteries_batteryevent aliased `e`; {enterprise} and {month} are SQL expressions (placeholders or columns). The
# range form (not date_trunc on the column) lets the (actor, occurred_at) index serve it.
LEDGER_MONTH_EVENTS_WHERE = (
    "e.actor_id = {enterprise}"
    " AND e.occurred_at >= ({month}::timestamp AT TIME ZONE 'Asia/Shanghai')"
    " AND e.occurred_at < (({month}::date + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai')")


def ledger_counts(*, enterprise_id: int, month: dt.date) -> dict[str, int]:
    """Events the ledger records with this enterprise as actor in the month, by kind: one aggregate query."""
    from django.db import connection

    where = LEDGER_MONTH_EVENTS_WHERE.format(enterprise="%s", month="%s::date")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT e.kind, count(*) FROM batteries_batteryevent e WHERE {where} GROUP BY e.kind",
                       [enterprise_id, rules.month_start(month), rules.month_start(month)])
        return dict(cursor.fetchall())


def monthly_report_comparison(filing: Filing) -> list[dict]:
    """Each declared count beside the ledger's (None where the ledger has no event count to compare)."""
    report = filing.monthly_report
    ledger = ledger_counts(enterprise_id=filing.enterprise_id, month=filing.period)
    labels = {f.name: f.verbose_name for f in report._meta.fields}
    rows = []
    for name, event_kind in MONTHLY_COUNT_FIELDS:
        declared = getattr(report, name)
        in_ledger = ledger.get(event_kind, 0) if event_kind else None
        rows.append({"name": name, "label": labels[name], "declared": declared, "ledger": in_ledger,
                     "differs": in_ledger is not None and in_ledger != declared})
    return rows


def reviewers_for(filing: Filing) -> QuerySet:
    from apps.accounts.models import User

    return (User.objects.filter(kind="reviewer", is_active=True)
            .filter(Q(reviewer_provinces=[]) | Q(reviewer_provinces__contains=[filing.province]))
            .order_by("username"))


def reviewer_search(*, term: str, limit: int = 20) -> QuerySet:
    """Active reviewers whose username or name contains `term`, for the queue's bulk assignment."""
    from apps.accounts.models import User

    return (User.objects.filter(kind="reviewer", is_active=True)
            .filter(Q(username__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term))
            .order_by("username")[:limit])


OPEN_STATUS_CHOICES = [(s.value, s.label) for s in FilingStatus if s.value in rules.OPEN_STATUSES]
