"""Discrepancy pages: the reviewers' list (their provinces) and an enterprise's own. Thin over selectors."""
from __future__ import annotations

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core import exports
from apps.core.choices import Province
from apps.core.decorators import persona_required
from apps.core.errors import NotFound
from apps.core.paging import paginate
from apps.reconciliation import dashboard, selectors
from apps.reconciliation.models import Check, DiscrepancyStatus, ReconciliationRun, Severity


def _filters(request) -> dict:
    get = request.GET
    enterprise = get.get("enterprise", "")
    return {
        "kind": get.get("check") if get.get("check") in Check.values else None,
        "severity": get.get("severity") if get.get("severity") in Severity.values else None,
        "province": get.get("province") if get.get("province") in Province.values else None,
        "enterprise": int(enterprise) if enterprise.isdigit() and len(enterprise) < 12 else None,
        "status": get.get("status") if get.get("status") in DiscrepancyStatus.values else DiscrepancyStatus.OPEN,
    }


def _context(filters: dict, page, query) -> dict:
    return {"page": page, "query": query, "filters": filters, "checks": Check.choices,
            "severities": Severity.choices, "statuses": DiscrepancyStatus.choices, "provinces": Province.choices}


DISCREPANCY_COLUMNS = [
    exports.Column(gettext_lazy("No."), "pk"),
    exports.Column(gettext_lazy("Enterprise"), "enterprise.name"),
    exports.Column(gettext_lazy("Unified social credit code"), "enterprise.uscc"),
    exports.Column(gettext_lazy("Province"), "enterprise.get_province_display"),
    exports.Column(gettext_lazy("Check"), "get_kind_display"),
    exports.Column(gettext_lazy("Period"), lambda d: d.period.strftime("%Y-%m") if d.period else ""),
    exports.Column(gettext_lazy("Figure"), "figure_label"),
    exports.Column(gettext_lazy("Figure code"), "figure"),
    exports.Column(gettext_lazy("Expected"), "expected"),
    exports.Column(gettext_lazy("Found"), "found"),
    exports.Column(gettext_lazy("Severity"), "get_severity_display"),
    exports.Column(gettext_lazy("Status"), "get_status_display"),
    exports.Column(gettext_lazy("Number of batteries"), "code_count"),
    exports.Column(gettext_lazy("Battery codes"), "codes"),
    exports.Column(gettext_lazy("Last seen"), "last_seen"),
]


@persona_required("reviewer", "admin")
def review_list(request):
    filters = _filters(request)
    discrepancies = selectors.discrepancy_list(actor=request.user, **filters)
    if response := exports.export_response(request, discrepancies, DISCREPANCY_COLUMNS, filename="discrepancies"):
        return response
    page, query = paginate(request, discrepancies)
    context = _context(filters, page, query)
    if request.user.kind == "admin":
        context["runs"] = selectors.recent_runs()
    return render(request, "reconciliation/review_list.html", context)


# --- the runs, for administrators: whether the nightly job ran, how long it took, what it found ------------------


@persona_required("admin")
def runs(request):
    status = request.GET.get("status")
    dry = {"1": True, "0": False}.get(request.GET.get("dry_run", ""))
    page, query = paginate(request, selectors.run_list(status=status, dry_run=dry))
    return render(request, "reconciliation/runs.html", {
        "page": page, "query": query, "statuses": ReconciliationRun.Status.choices,
        "filters": {"status": status if status in ReconciliationRun.Status.values else "",
                    "dry_run": request.GET.get("dry_run", "") if dry is not None else ""}})


@persona_required("admin")
def run_detail(request, pk: int):
    from django.http import Http404

    from apps.core.errors import NotFound

    try:
        run = selectors.run_get(pk=pk)
    except NotFound:
        raise Http404
    children = run.children.order_by("id") if run.children_total else None
    return render(request, "reconciliation/run_detail.html", {
        "run": run, "counts": selectors.run_counts(run), "children": children})


@persona_required("company")
def discrepancy_list(request):
    filters = {**_filters(request), "province": None, "enterprise": None}
    discrepancies = selectors.discrepancy_list(actor=request.user, **filters)
    if response := exports.export_response(request, discrepancies, DISCREPANCY_COLUMNS, filename="discrepancies"):
        return response
    page, query = paginate(request, discrepancies)
    return render(request, "reconciliation/list.html", _context(filters, page, query))


# --- discrepancy detail: the battery codes behind a discrepancy --------------------------------------------------


def _detail(request, pk: int, *, reviewer: bool):
    try:
        discrepancy = selectors.discrepancy_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404  # another enterprise's (or province's) discrepancy looks exactly like a missing one
    cap = settings.RECONCILIATION_CODES_CAP
    return render(request, "reconciliation/detail.html", {
        "d": discrepancy, "reviewer": reviewer, "codes": discrepancy.codes,
        "more": max(0, discrepancy.code_count - len(discrepancy.codes)), "cap": cap,
    })


@persona_required("reviewer", "admin")
def review_detail(request, pk: int):
    return _detail(request, pk, reviewer=True)


@persona_required("company")
def discrepancy_detail(request, pk: int):
    return _detail(request, pk, reviewer=False)


# --- oversight dashboards (issue 6, item 4; ADR 0013) -----------------------------------------------------------


def _dashboard_payload(scope, charts) -> dict:
    refresh = dashboard.last_refresh()
    return {"charts": [c.as_json() for c in charts],
            "refreshed_at": timezone.localtime(refresh.finished_at).isoformat() if refresh else None,
            "labels": {"table": _("Table"), "csv": _("Download CSV"), "empty": _("No figures yet."),
                       "open_list": _("Open the list")}}


def _dashboard_page(request, *, reviewer: bool):
    scope = dashboard.Scope(request.user)
    charts = dashboard.charts(scope)
    context = {"charts": charts, "payload": _dashboard_payload(scope, charts), "reviewer": reviewer,
               "refresh": dashboard.last_refresh(), "scope": scope}
    if not reviewer:
        context["deadlines"] = dashboard.report_deadlines(scope)
        context["deadlines_url"] = _deadlines_url()
    return render(request, "reconciliation/dashboard.html", context)


def _deadlines_url() -> str | None:
    """The enterprise's deadlines page (apps.deadlines), when that app is installed."""
    try:
        return reverse("deadlines:due")
    except NoReverseMatch:
        return None


def _dashboard_data(request):
    scope = dashboard.Scope(request.user)
    charts = dashboard.charts(scope)
    return JsonResponse(_dashboard_payload(scope, charts), json_dumps_params={"ensure_ascii": False})


def _dashboard_csv(request, chart: str):
    scope = dashboard.Scope(request.user)
    found = dashboard.charts(scope, only=chart)
    if not found:
        raise Http404
    c = found[0]
    columns = [exports.Column(header, (lambda row, i=i: row[i])) for i, header in enumerate(c.columns)]
    return exports.csv_response(c.rows, columns, filename=f"dashboard-{c.id}")


@persona_required("reviewer", "admin")
def review_dashboard(request):
    return _dashboard_page(request, reviewer=True)


@persona_required("reviewer", "admin")
def review_dashboard_data(request):
    return _dashboard_data(request)


@persona_required("reviewer", "admin")
def review_dashboard_csv(request, chart: str):
    return _dashboard_csv(request, chart)


@persona_required("company")
def enterprise_dashboard(request):
    return _dashboard_page(request, reviewer=False)


@persona_required("company")
def enterprise_dashboard_data(request):
    return _dashboard_data(request)


@persona_required("company")
def enterprise_dashboard_csv(request, chart: str):
    return _dashboard_csv(request, chart)
