"""Reads of apps.deadlines: the deadlines in force, what is due and overdue for an enterprise, overdue reports
across enterprises for reviewers, and late-reported ledger events.

Every read starts from `Enterprise.objects.visible_to(actor)` (company staff: their enterprise; reviewers: their
provinces; admins: all); the visible set is embedded in the SQL as a subquery. The late-event queries are one
aggregate each over batteries_batteryevent, served by the (actor, occurred_at) index: the working-day arithmetic
runs once per calendar day in Python (apps.deadlines.rules.cutoff_table) and the query joins on that small table.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.workdays import WorkdayCalendar
from apps.deadlines import rules
from apps.deadlines.models import ReportingDeadline, ReportingDuty
from apps.filings.rules import month_start, next_month

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTHS_SHOWN = 12


def months_back(start: dt.date, n: int) -> dt.date:
    index = start.year * 12 + start.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def previous_month(today: dt.date) -> dt.date:
    return months_back(month_start(today), 1)


def late_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """[first, end) months of the late-event summaries: the last MONTHS_SHOWN months and the current one."""
    current = month_start(today or timezone.localdate())
    return months_back(current, MONTHS_SHOWN), next_month(current)


def _instant(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


# --- the deadlines in force ---------------------------------------------------------------------------------


def deadlines_in_force() -> dict[str, int]:
    """duty -> working days: the table, with the settings default for a duty that has no row yet."""
    days = dict(settings.REPORTING_DEADLINE_DEFAULTS)
    days.update(dict(ReportingDeadline.objects.values_list("duty", "working_days")))
    return {duty: days[duty] for duty in ReportingDuty.values if duty in days}


@dataclass(frozen=True)
class DeadlineRow:
    duty: str
    label: str
    role: str
    kinds: tuple[str, ...]
    working_days: int
    updated_by: object
    updated_at: dt.datetime | None


def deadline_rows() -> list[DeadlineRow]:
    rows = {d.duty: d for d in ReportingDeadline.objects.select_related("updated_by")}
    days = deadlines_in_force()
    result = []
    for duty in ReportingDuty:
        role, kinds = rules.DUTY_SCOPE[duty.value]
        row = rows.get(duty.value)
        result.append(DeadlineRow(duty.value, duty.label, role, tuple(sorted(kinds)), days[duty.value],
                                  row.updated_by if row and row.updated_by_id else None,
                                  row.updated_at if row else None))
    return result


def deadline_changes():
    from apps.deadlines.models import ReportingDeadlineChange

    return ReportingDeadlineChange.objects.select_related("deadline", "actor")


# --- a paginated raw query ------------------------------------------------------------------------------------


class RawRows:
    """A sequence over one SQL query that Django's Paginator (and the API's page numbers) can slice: `count()`
    runs count(*) over the query, a slice runs it with LIMIT/OFFSET. Rows are dicts."""

    def __init__(self, sql: str, params: dict, order_by: str, convert=None, *, materialize: bool = False):
        self.sql, self.params, self.order_by, self.convert = sql, params, order_by, convert or (lambda row: row)
        self._count = None
        # An aggregate's result is small while its query is not: run it once and page in memory.
        self.materialize, self._rows = materialize, None

    def _all(self) -> list[dict]:
        if self._rows is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM ({self.sql}) AS q ORDER BY {self.order_by}", self.params)
                names = [c.name for c in cursor.description]
                self._rows = [self.convert(dict(zip(names, row))) for row in cursor.fetchall()]
        return self._rows

    def count(self) -> int:
        if self.materialize:
            return len(self._all())
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM ({self.sql}) AS q", self.params)
                self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        if self.materialize:
            return self._all()[index]
        start, stop = index.start or 0, index.stop
        limit = "" if stop is None else f" LIMIT {int(stop) - int(start)}"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({self.sql}) AS q ORDER BY {self.order_by}{limit} OFFSET {int(start)}",
                           self.params)
            names = [c.name for c in cursor.description]
            return [self.convert(dict(zip(names, row))) for row in cursor.fetchall()]


def _visible_enterprises_sql(actor, *, province: str | None = None, enterprise: int | None = None
                             ) -> tuple[str, tuple]:
    """The ids of the enterprises `actor` may see (tenant scoping through visible_to), as a SQL subquery."""
    from apps.enterprises.models import Enterprise

    qs = Enterprise.objects.visible_to(actor).filter(status="active")
    if province:
        qs = qs.filter(province=province)
    if enterprise:
        qs = qs.filter(pk=enterprise)
    sql, params = qs.values("id").query.sql_with_params()
    return sql, params


def _inline(sql: str, params: tuple) -> str:
    """The visible-set subquery with its parameters bound by the driver (psycopg's own quoting), so that it can sit
    inside a query that uses named parameters."""
    return connection.ops.compose_sql(sql, params)


def _labelled(row: dict) -> dict:
    from apps.batteries.models import EventKind
    from apps.core.choices import Province

    if "kind" in row:
        row["kind_label"] = EventKind(row["kind"]).label if row["kind"] in EventKind.values else row["kind"]
    if "province" in row:
        row["province_label"] = Province(row["province"]).label if row["province"] in Province.values \
            else row["province"]
    return row


# --- late-reported ledger events ----------------------------------------------------------------------------------


def _late_event_params(first_month: dt.date, end_month: dt.date, *, kind: str | None,
                       calendar: WorkdayCalendar | None = None) -> dict:
    days = deadlines_in_force()
    scope = [(role, k, days[duty]) for duty, (role, kinds) in rules.DUTY_SCOPE.items() if duty in days
             for k in sorted(kinds) if kind in (None, k)]
    calendar = calendar or WorkdayCalendar()
    today = timezone.localdate()
    last_day = min(end_month - dt.timedelta(days=1), today)
    cut = rules.cutoff_table(first_month, max(last_day, first_month), {n for _r, _k, n in scope}, calendar.verdict)
    return {
        "scope_role": [s[0] for s in scope], "scope_kind": [s[1] for s in scope], "scope_n": [s[2] for s in scope],
        "cut_n": [c[0] for c in cut], "cut_day": [c[1] for c in cut],
        "cut_at": [_instant(c[2] + dt.timedelta(days=1)) for c in cut],
        "start": _instant(first_month), "end": _instant(end_month),
    }


# `eff`: per enterprise in the visible set, the event kinds it must report and their deadlines (parallel arrays).
# `ev`: each enterprise's events of those kinds in [start, end) — one range scan of the (actor, occurred_at) index per
# enterprise, in a LATERAL subquery so that no join order repeats it (reading only columns the index carries, so
# the scan is index-only) — keeping only those recorded more than n
# calendar days after they happened (n working days are at least n calendar days, so nothing late is dropped); it
# is MATERIALIZED so that the join with the calendar table `cut` cannot be planned around it.
LATE_EVENTS_CTE = """
WITH scope(role, kind, n) AS (
       SELECT * FROM unnest(%(scope_role)s::text[], %(scope_kind)s::text[], %(scope_n)s::int[])),
     cut(n, day, cutoff) AS (
       SELECT * FROM unnest(%(cut_n)s::int[], %(cut_day)s::date[], %(cut_at)s::timestamptz[])),
     per_kind AS (
       SELECT ent.id AS actor_id, s.kind, min(s.n) AS n
         FROM enterprises_enterprise ent JOIN scope s ON s.role = ANY(ent.roles)
        WHERE ent.id IN ({visible})
        GROUP BY ent.id, s.kind),
     eff AS (
       SELECT actor_id, array_agg(kind ORDER BY kind) AS kinds, array_agg(n ORDER BY kind) AS ns, min(n) AS min_n
         FROM per_kind GROUP BY actor_id),
     ev AS MATERIALIZED (
       SELECT a.actor_id, x.*, a.ns[array_position(a.kinds, x.kind::text)] AS n
         FROM eff a
        CROSS JOIN LATERAL (
              SELECT e.kind, e.occurred_at, e.recorded_at
                FROM batteries_batteryevent e
               WHERE e.actor_id = a.actor_id AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
                 AND e.kind = ANY(a.kinds) AND e.recorded_at > e.occurred_at + a.min_n * interval '1 day') x)
"""

LATE_EVENTS_FROM = """
  FROM ev e
  JOIN cut c ON c.n = e.n AND c.day = (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date
 WHERE e.recorded_at >= c.cutoff
"""


def late_event_summary(*, actor, first_month: dt.date, end_month: dt.date, province: str | None = None,
                       enterprise: int | None = None, kind: str | None = None) -> RawRows:
    """Events reported after their deadline (recorded_at later than the deadline counted from occurred_at), per
    enterprise, month and kind: `late` (how many) and `max_days_late` (calendar days past the deadline of the
    latest one). Sorted by how late, then how many."""
    visible = _inline(*_visible_enterprises_sql(actor, province=province, enterprise=enterprise))
    params = _late_event_params(first_month, end_month, kind=kind)
    sql = LATE_EVENTS_CTE.format(visible=visible) + """
SELECT s.actor_id AS enterprise_id, ent.name AS enterprise_name, ent.province, s.month, s.kind, s.late,
       s.max_days_late
  FROM (SELECT e.actor_id, date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
               e.kind, count(*) AS late,
               floor(max(extract(epoch FROM e.recorded_at - c.cutoff)) / 86400)::int + 1 AS max_days_late
        """ + LATE_EVENTS_FROM + """
         GROUP BY 1, 2, 3) s
  JOIN enterprises_enterprise ent ON ent.id = s.actor_id
"""
    return RawRows(sql, params, "max_days_late DESC, late DESC, month DESC, enterprise_id, kind", _labelled,
                   materialize=True)


def late_event_list(*, actor, enterprise: int, kind: str, month: dt.date) -> RawRows:
    """The drill-down: each late event of one enterprise, kind and month, with its battery code and deadline."""
    visible = _inline(*_visible_enterprises_sql(actor, enterprise=enterprise))
    start = month_start(month)
    params = _late_event_params(start, next_month(start), kind=kind)
    # The late rows come from the index alone; only they are looked up again (by the index's own columns) for
    # their event and battery ids. DISTINCT: a bulk file may give many events the same moments.
    sql = LATE_EVENTS_CTE.format(visible=visible) + """
SELECT x.id, b.code, x.kind, x.occurred_at, x.recorded_at, (l.cutoff AT TIME ZONE 'Asia/Shanghai')::date - 1
       AS deadline, floor(extract(epoch FROM x.recorded_at - l.cutoff) / 86400)::int + 1 AS days_late
  FROM (SELECT DISTINCT e.actor_id, e.kind, e.occurred_at, e.recorded_at, c.cutoff
        """ + LATE_EVENTS_FROM + """) l
  JOIN batteries_batteryevent x
    ON x.actor_id = l.actor_id AND x.occurred_at = l.occurred_at AND x.kind = l.kind AND x.recorded_at = l.recorded_at
  JOIN batteries_battery b ON b.id = x.battery_id
"""
    return RawRows(sql, params, "occurred_at, id")


# --- monthly reports: due and overdue -----------------------------------------------------------------------------


def monthly_report_schedule(*, enterprise, today: dt.date | None = None) -> list[dict]:
    """The enterprise's monthly reports over the last 12 months and the current one: each month's due date, its
    report (if any) and its state (rules.monthly_report_state). Newest first; one query."""
    from apps.filings.models import Filing
    from apps.filings.rules import monthly_report_due_date

    today = today or timezone.localdate()
    current = month_start(today)
    since = timezone.localdate(enterprise.approved_at or enterprise.created_at)
    first = max(months_back(current, MONTHS_SHOWN), month_start(since))
    filings = {f.period: f for f in Filing.objects.filter(
        enterprise=enterprise, kind="monthly_report", period__gte=first).exclude(status="rejected")}
    rows = []
    month = current
    while month >= first:
        due = monthly_report_due_date(month, due_day=settings.FILINGS_MONTHLY_REPORT_DUE_DAY)
        filing = filings.get(month)
        submitted_on = timezone.localdate(filing.first_submitted_at) if filing and filing.first_submitted_at else None
        rows.append({"month": month, "due_date": due, "filing": filing,
                     "state": rules.monthly_report_state(due=due, submitted_on=submitted_on, today=today,
                                                         month_ended=next_month(month) <= today),
                     "days_late": rules.days_late(due=due, submitted_on=submitted_on, today=today)})
        month = months_back(month, 1)
    return rows


def _report_labelled(row: dict) -> dict:
    from apps.core.choices import Province
    from apps.filings.models import FilingKind

    row["kind_label"] = FilingKind(row["kind"]).label if row["kind"] in FilingKind.values else row["kind"]
    row["province_label"] = Province(row["province"]).label if row["province"] in Province.values else row["province"]
    return row


def overdue_reports(*, actor, province: str | None = None, enterprise: int | None = None, kind: str | None = None,
                    today: dt.date | None = None) -> RawRows:
    """Periodic reports (rules.PERIODIC_REPORTS: the monthly pack-count report from every enterprise, the recovery
    report from recyclers) past their due date and never submitted, across the enterprises the reviewer may see,
    over the last 12 months: one row per enterprise, kind and month (a month with no report at all counts), most
    overdue first. An enterprise owes reports from the month it was approved."""
    from apps.filings.rules import monthly_report_due_date

    today = today or timezone.localdate()
    current = month_start(today)
    months, dues = [], []
    month = months_back(current, MONTHS_SHOWN)
    while month < current:
        due = monthly_report_due_date(month, due_day=settings.FILINGS_MONTHLY_REPORT_DUE_DAY)
        if due < today:
            months.append(month)
            dues.append(due)
        month = next_month(month)
    kinds = {k: role for k, role in rules.PERIODIC_REPORTS.items() if kind in (None, k)}
    visible = _inline(*_visible_enterprises_sql(actor, province=province, enterprise=enterprise))
    sql = f"""
SELECT ent.id AS enterprise_id, ent.name AS enterprise_name, ent.province, k.kind, m.month, m.due AS due_date,
       f.id AS filing_id, f.status, %(today)s::date - m.due AS days_late
  FROM enterprises_enterprise ent
  CROSS JOIN unnest(%(months)s::date[], %(dues)s::date[]) AS m(month, due)
  CROSS JOIN unnest(%(kinds)s::text[], %(roles)s::text[]) AS k(kind, role)
  LEFT JOIN filings_filing f
    ON f.enterprise_id = ent.id AND f.kind = k.kind AND f.period = m.month AND f.status <> 'rejected'
 WHERE ent.id IN ({visible})
   AND (k.role = '' OR k.role = ANY(ent.roles))
   AND coalesce(ent.approved_at, ent.created_at) < (m.month + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai'
   AND (f.id IS NULL OR f.first_submitted_at IS NULL)
"""
    return RawRows(sql, {"today": today, "months": months, "dues": dues, "kinds": list(kinds),
                         "roles": list(kinds.values())},
                   "days_late DESC, enterprise_id, kind, month", _report_labelled)
