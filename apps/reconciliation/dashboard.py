"""Selectors for the oversight dashboards (issue 6, item 4): one function per chart, each returning a `Chart`.

A chart is a table — column headings and rows of numbers — plus how to draw it. The same `Chart` feeds the page's
server-rendered table, the JSON the static script draws with ECharts, and the CSV download, so the three always
show the same numbers. Ledger and battery figures come only from the pre-aggregated views (apps.reconciliation.stats,
ADR 0013); discrepancies, filings and licences are small tables read directly. Every read starts from the actor's
visible set (`visible_to`): a reviewer sees the enterprises of their provinces, an enterprise itself.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from apps.batteries.models import BatteryStatus, EventKind
from apps.core.choices import Province
from apps.enterprises.models import Enterprise, RecyclerLicence
from apps.filings import rules as filing_rules
from apps.reconciliation.models import Check, Discrepancy, DiscrepancyStatus, Severity
from apps.reconciliation.stats import AggregateRefresh, FlowMonth, ReceivedWeightMonth, StatusCount

# The flows the dashboards show, each a group of ledger event kinds. "Retired or removed" is a battery leaving
# service: taken out at dismantling or in a repair, or declared waste (a swap is operational churn, not shown).
FLOW_GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("produced", (EventKind.PRODUCED,)),
    ("installed", (EventKind.INSTALLED, EventKind.SWAPPED_IN, EventKind.REPLACED_IN)),
    ("retired", (EventKind.REMOVED, EventKind.REPLACED_OUT, EventKind.DECLARED_WASTE)),
    ("handed_over", (EventKind.HANDED_OVER,)),
    ("received", (EventKind.RECEIVED,)),
    ("recycled", (EventKind.RECYCLED,)),
    ("remanufactured", (EventKind.REMANUFACTURED,)),
]
KIND_TO_GROUP = {kind: group for group, kinds in FLOW_GROUPS for kind in kinds}
# The Sankey: a battery's path from production to recovery (a chain, then the two ends of a received battery).
SANKEY_CHAIN = ["produced", "installed", "retired", "handed_over", "received"]
SANKEY_ENDS = ["recycled", "remanufactured"]
TOP_ENTERPRISES = 10
TOP_RECYCLERS = 30
MONTHS = 12


def flow_labels() -> dict[str, str]:
    return {"produced": _("Produced"), "installed": _("Installed"), "retired": _("Retired or removed"),
            "handed_over": _("Handed over"), "received": _("Received by recyclers"), "recycled": _("Recycled"),
            "remanufactured": _("Remanufactured")}


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # bar | stacked | line | sankey | hbar
    columns: list[str]
    rows: list[list]
    # Per row, per value column: where a click on that bar leads (drill-down), or None.
    links: list[list[str | None]] = field(default_factory=list)
    note: str = ""
    csv_url: str = ""
    # Which value columns are drawn (indexes into columns; default all but the first), and whether stacked.
    series: list[int] | None = None
    stack: bool = False

    def as_json(self) -> dict:
        return {"id": self.id, "title": self.title, "kind": self.kind, "columns": self.columns,
                "rows": [[_plain(v) for v in row] for row in self.rows], "links": self.links, "note": self.note,
                "csv_url": self.csv_url, "stack": self.stack,
                "series": self.series if self.series is not None else list(range(1, len(self.columns)))}

    def table_rows(self) -> list[list[tuple]]:
        """Rows as (value, link) pairs for the template: the first cell has no link."""
        out = []
        for i, row in enumerate(self.rows):
            links = self.links[i] if i < len(self.links) else []
            out.append([(row[0], None)] + [(v, links[j] if j < len(links) else None)
                                           for j, v in enumerate(row[1:])])
        return out


def _plain(value):
    """JSON-friendly numbers: Decimals become floats (tonnes with three decimals)."""
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value


class Scope:
    """Who asks, and the enterprises they may see. `own` is set for an enterprise's staff (its own dashboard)."""

    def __init__(self, user):
        self.user = user
        self.own = user.membership.enterprise_id if user.kind == "company" and user.membership else None
        self.national = user.kind == "admin" or (user.kind == "reviewer" and not user.reviewer_provinces)
        self.visible = Enterprise.objects.visible_to(user)
        self.today = timezone.localdate()

    def enterprise_filter(self, prefix: str = "enterprise") -> dict:
        if self.own is not None:
            return {f"{prefix}_id": self.own}
        if self.national:
            return {}
        return {f"{prefix}__in": self.visible.values("id")}

    def review_list_url(self, **params) -> str | None:
        if self.own is not None:
            params.pop("enterprise", None)
            return f"{reverse('reconciliation:list')}?{urlencode(params)}"
        return f"{reverse('reconciliation:review_list')}?{urlencode(params)}"


def _months(today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    months = [first]
    for _i in range(MONTHS - 1):
        prev = months[-1] - dt.timedelta(days=1)
        months.append(prev.replace(day=1))
    return list(reversed(months))


def status_by_province(scope: Scope) -> Chart:
    qs = (StatusCount.objects.filter(**scope.enterprise_filter()).values("enterprise__province", "status")
          .annotate(n=Sum("batteries")))
    table: dict[str, dict[str, int]] = {}
    for r in qs:
        table.setdefault(r["enterprise__province"], {})[r["status"]] = r["n"]
    statuses = BatteryStatus.choices
    labels = dict(Province.choices)
    rows = [[str(labels.get(p, p))] + [table[p].get(s, 0) for s, _l in statuses] + [sum(table[p].values())]
            for p in sorted(table)]
    return Chart("status_by_province", _("Batteries by status and province (holder's province)"), "stacked",
                 [_("Province")] + [str(label) for _s, label in statuses] + [_("Total")], rows,
                 series=list(range(1, len(statuses) + 1)), stack=True)


def status_totals(scope: Scope, by_province: Chart | None = None) -> Chart:
    """The national (or the actor's whole scope) figure per status: the column sums of the province chart."""
    by_province = by_province or status_by_province(scope)
    statuses = BatteryStatus.choices
    rows = [[str(label), sum(r[i + 1] for r in by_province.rows)] for i, (_s, label) in enumerate(statuses)]
    title = _("Our batteries by status") if scope.own else (
        _("Batteries by status, nationally") if scope.national else _("Batteries by status, in your provinces"))
    return Chart("status", title, "bar", [_("Status"), _("Batteries")], rows)


def monthly_flows(scope: Scope) -> Chart:
    months = _months(scope.today)
    kinds = list(KIND_TO_GROUP)
    qs = (FlowMonth.objects.filter(month__gte=months[0], kind__in=kinds, **scope.enterprise_filter())
          .values("month", "kind").annotate(n=Sum("events")))
    table: dict[dt.date, dict[str, int]] = {m: {} for m in months}
    for r in qs:
        group = KIND_TO_GROUP[r["kind"]]
        if r["month"] in table:
            table[r["month"]][group] = table[r["month"]].get(group, 0) + r["n"]
    labels = flow_labels()
    rows = [[m.strftime("%Y-%m")] + [table[m].get(g, 0) for g, _k in FLOW_GROUPS] for m in months]
    return Chart("flows", _("Monthly flows, last 12 months (ledger events)"), "line",
                 [_("Month")] + [labels[g] for g, _k in FLOW_GROUPS], rows)


def flow_sankey(scope: Scope, flows: Chart | None = None) -> Chart:
    """From production to recovery over the last 12 months. Each stage with batteries is reached from the nearest
    earlier stage that has some, carrying its own count: a battery maker's flow goes produced → handed over (it
    installs nothing), a recycler's starts at received. Stages with no batteries are left out."""
    flows = flows or monthly_flows(scope)
    totals = {g: sum(r[i + 1] for r in flows.rows) for i, (g, _k) in enumerate(FLOW_GROUPS)}
    labels = flow_labels()
    rows, previous = [], None
    for stage in SANKEY_CHAIN:
        if totals[stage] > 0:
            if previous is not None:
                rows.append([labels[previous], labels[stage], totals[stage]])
            previous = stage
    for end in SANKEY_ENDS:
        if totals[end] > 0 and previous is not None:
            rows.append([labels[previous], labels[end], totals[end]])
    return Chart("sankey", _("Battery flow from production to recovery, last 12 months"), "sankey",
                 [_("From"), _("To"), _("Batteries (events)")], rows)


def discrepancies_by_check(scope: Scope) -> Chart:
    qs = (Discrepancy.objects.visible_to(scope.user).filter(status=DiscrepancyStatus.OPEN)
          .values("kind", "severity").annotate(n=Count("id")))
    table: dict[str, dict[str, int]] = {}
    for r in qs:
        table.setdefault(r["kind"], {})[r["severity"]] = r["n"]
    severities = [Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    rows, links = [], []
    for kind, label in Check.choices:
        if kind not in table:
            continue
        rows.append([str(label)] + [table[kind].get(s, 0) for s in severities])
        links.append([scope.review_list_url(check=kind, severity=s) for s in severities])
    return Chart("discrepancies_by_check", _("Open discrepancies by check and severity"), "hbar",
                 [_("Check")] + [str(Severity(s).label) for s in severities], rows, links, stack=True,
                 note=_("Click a bar to list those discrepancies."))


def discrepancies_by_enterprise(scope: Scope) -> Chart:
    qs = (Discrepancy.objects.visible_to(scope.user).filter(status=DiscrepancyStatus.OPEN)
          .values("enterprise_id", "enterprise__name", "kind").annotate(n=Count("id")))
    per: dict[int, dict] = {}
    for r in qs:
        e = per.setdefault(r["enterprise_id"], {"name": r["enterprise__name"], "kinds": {}})
        e["kinds"][r["kind"]] = r["n"]
    top = sorted(per.items(), key=lambda item: (-sum(item[1]["kinds"].values()), item[1]["name"]))[:TOP_ENTERPRISES]
    kinds = [k for k, _l in Check.choices if any(k in e["kinds"] for _i, e in top)]
    rows, links = [], []
    for ent_id, e in top:
        rows.append([e["name"]] + [e["kinds"].get(k, 0) for k in kinds])
        links.append([scope.review_list_url(enterprise=ent_id, check=k) for k in kinds])
    return Chart("discrepancies_by_enterprise",
                 _("Open discrepancies by enterprise and check (top %(n)s)") % {"n": TOP_ENTERPRISES}, "hbar",
                 [_("Enterprise")] + [str(Check(k).label) for k in kinds], rows, links, stack=True,
                 note=_("Click a bar to list those discrepancies."))


# Monthly reports past due, counted in SQL over (enterprise × month): the due date is the one of
# apps.filings.rules.monthly_report_due_date (day FILINGS_MONTHLY_REPORT_DUE_DAY of the next month, clamped to 1–28);
# a month counts from the month the enterprise was approved (as on the deadlines pages, apps.deadlines.selectors). "Missing" = not submitted (no filing, or a draft) and
# past due; "late" = first submitted after the due date.
OVERDUE_SQL = """
WITH months AS (
    SELECT m::date AS month, (m + interval '1 month' + ({due_day} - 1) * interval '1 day')::date AS due
    FROM generate_series(%s::date, %s::date, interval '1 month') m
)
SELECT e.id, e.name, e.province, m.month, m.due, f.id AS filing_id, f.status,
       (f.first_submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS submitted_on
FROM enterprises_enterprise e
CROSS JOIN months m
LEFT JOIN filings_filing f ON f.enterprise_id = e.id AND f.kind = 'monthly_report' AND f.period = m.month
     AND f.status <> 'rejected'
WHERE e.status = 'active' AND m.month >= date_trunc('month', coalesce(e.approved_at, e.created_at) AT TIME ZONE 'Asia/Shanghai')::date
  AND e.id IN ({visible})
"""


def _report_months(scope: Scope, *, include_current_due: bool) -> list[dict]:
    months = _months(scope.today)
    last = months[-1] if include_current_due else months[-2]
    visible_sql, visible_params = scope.visible.values("id").query.sql_with_params()
    due_day = max(1, min(int(settings.FILINGS_MONTHLY_REPORT_DUE_DAY), 28))
    sql = OVERDUE_SQL.replace("{due_day}", str(due_day)).replace("{visible}", visible_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, [months[0], last, *visible_params])
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def _report_state(r: dict, today: dt.date) -> str:
    submitted_on = r["submitted_on"]
    if filing_rules.is_overdue(due_date=r["due"], submitted_on=submitted_on, today=today):
        return "late" if submitted_on else "missing"
    return "on_time" if submitted_on else "due"


def overdue_reports(scope: Scope) -> Chart:
    provinces = dict(Province.choices)
    table: dict[str, list[int]] = {}
    for r in _report_months(scope, include_current_due=False):
        state = _report_state(r, scope.today)
        counts = table.setdefault(r["province"], [0, 0])
        if state == "missing":
            counts[0] += 1
        elif state == "late":
            counts[1] += 1
    rows = [[str(provinces.get(p, p)), c[0], c[1]] for p, c in sorted(table.items()) if c[0] or c[1]]
    return Chart("overdue_reports", _("Monthly reports past due, last 12 months"), "stacked",
                 [_("Province"), _("Not submitted, past due"), _("Submitted late")], rows, stack=True,
                 note=_("One report per active enterprise and month, from the month it was approved."))


def report_deadlines(scope: Scope) -> list[dict]:
    """An enterprise's monthly reports of the last 12 months and the one due next: due date, state, filing."""
    labels = {"missing": _("Not submitted, past due"), "late": _("Submitted late"), "on_time": _("Submitted on time"),
              "due": _("Due")}
    out = []
    for r in _report_months(scope, include_current_due=True):
        state = _report_state(r, scope.today)
        out.append({"month": r["month"], "due": r["due"], "state": state, "state_label": labels[state],
                    "filing_id": r["filing_id"]})
    return sorted(out, key=lambda r: r["month"], reverse=True)


def recycler_capacity(scope: Scope) -> Chart:
    """Weight received this calendar year against the annual capacity of the licences in force today."""
    year_start = scope.today.replace(month=1, day=1)
    licences = (RecyclerLicence.objects.in_force_on(scope.today).filter(**scope.enterprise_filter())
                .values("enterprise_id", "enterprise__name").annotate(cap=Sum("annual_capacity_tonnes")))
    caps = {r["enterprise_id"]: (r["enterprise__name"], r["cap"]) for r in licences}
    received = dict(ReceivedWeightMonth.objects.filter(month__gte=year_start, enterprise_id__in=list(caps))
                    .values("enterprise_id").annotate(w=Sum("weight_kg")).values_list("enterprise_id", "w"))
    rows = []
    for ent_id, (name, cap) in caps.items():
        tonnes = (received.get(ent_id) or 0) / 1000
        rows.append([name, round(float(tonnes), 3), float(cap), round(float(tonnes) / float(cap) * 100, 1)])
    rows.sort(key=lambda r: (-r[3], r[0]))
    return Chart("capacity", _("Licensed capacity used this year per recycler (top %(n)s)") % {"n": TOP_RECYCLERS},
                 "hbar", [_("Recycler"), _("Received this year (t)"), _("Licensed annual capacity (t)"),
                          _("Used (%)")], rows[:TOP_RECYCLERS], series=[3],
                 note=_("Share of the annual capacity of the licences in force today."))


CHARTS_REVIEWER = ("status", "status_by_province", "flows", "sankey", "discrepancies_by_check",
                   "discrepancies_by_enterprise", "overdue_reports", "capacity")
CHARTS_ENTERPRISE = ("status", "flows", "sankey", "discrepancies_by_check")


def charts(scope: Scope, only: str | None = None) -> list[Chart]:
    """The dashboard's charts in page order (or just `only`), sharing the queries they have in common."""
    wanted = CHARTS_ENTERPRISE if scope.own is not None else CHARTS_REVIEWER
    if only is not None:
        if only not in wanted:
            return []
        wanted = (only,)
    built: dict[str, Chart] = {}
    if {"status", "status_by_province"} & set(wanted):
        built["status_by_province"] = status_by_province(scope)
        built["status"] = status_totals(scope, built["status_by_province"])
    if {"flows", "sankey"} & set(wanted):
        built["flows"] = monthly_flows(scope)
        built["sankey"] = flow_sankey(scope, built["flows"])
    makers = {"discrepancies_by_check": discrepancies_by_check, "discrepancies_by_enterprise":
              discrepancies_by_enterprise, "overdue_reports": overdue_reports, "capacity": recycler_capacity}
    for name in wanted:
        if name in makers:
            built[name] = makers[name](scope)
    url_name = "reconciliation:dashboard_csv" if scope.own is not None else "reconciliation:review_dashboard_csv"
    out = []
    for name in wanted:
        chart = built[name]
        chart.csv_url = reverse(url_name, kwargs={"chart": name})
        out.append(chart)
    return out


def last_refresh() -> AggregateRefresh | None:
    return AggregateRefresh.objects.order_by("-finished_at", "-id").first()
