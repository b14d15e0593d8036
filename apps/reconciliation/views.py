"""Discrepancy pages: the reviewers' list (their provinces) and an enterprise's own. Thin over selectors."""
from __future__ import annotations

from django.shortcuts import render

from apps.core.choices import Province
from apps.core.decorators import persona_required
from apps.core.paging import paginate
from apps.reconciliation import selectors
from apps.reconciliation.models import Check, DiscrepancyStatus, Severity


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


@persona_required("reviewer", "admin")
def review_list(request):
    filters = _filters(request)
    page, query = paginate(request, selectors.discrepancy_list(actor=request.user, **filters))
    context = _context(filters, page, query)
    if request.user.kind == "admin":
        context["runs"] = selectors.recent_runs()
    return render(request, "reconciliation/review_list.html", context)


@persona_required("company")
def discrepancy_list(request):
    filters = {**_filters(request), "province": None, "enterprise": None}
    page, query = paginate(request, selectors.discrepancy_list(actor=request.user, **filters))
    return render(request, "reconciliation/list.html", _context(filters, page, query))
