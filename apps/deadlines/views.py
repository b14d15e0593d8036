"""Pages of apps.deadlines: the admins' reporting-deadline table, an enterprise's "what is due and overdue" page,
the reviewers' overdue list across enterprises, and the drill-down to late-reported battery codes. Thin: forms
check shape, services decide, selectors read within the viewer's visible set."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.decorators import persona_required
from apps.core.errors import DomainError
from apps.core.paging import paginate
from apps.deadlines import selectors, services
from apps.deadlines.forms import DeadlineForm, LateEventFilterForm, OverdueFilterForm
from apps.deadlines.models import ReportingDuty

LIST_PREVIEW = 10


# --- admins: the deadlines ------------------------------------------------------------------------------------


@persona_required("admin")
def deadline_settings(request):
    page, query = paginate(request, selectors.deadline_changes())
    return render(request, "deadlines/settings.html", {
        "rows": selectors.deadline_rows(), "form": DeadlineForm(), "page": page, "query": query})


@require_POST
@persona_required("admin")
def deadline_edit(request, duty: str):
    if duty not in ReportingDuty.values:
        raise Http404
    form = DeadlineForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("deadlines:settings")
    try:
        deadline = services.reporting_deadline_set(actor=request.user, duty=duty,
                                                   working_days=form.cleaned_data["working_days"],
                                                   reason=form.cleaned_data["reason"])
    except DomainError as exc:
        if exc.status == 403:
            raise PermissionDenied(str(exc.message))
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("“%(duty)s” is now %(days)d working days.")
                         % {"duty": deadline.get_duty_display(), "days": deadline.working_days})
    return redirect("deadlines:settings")


# --- an enterprise: what is due and overdue -------------------------------------------------------------------


@persona_required("company")
def due_overview(request):
    from apps.batteries.selectors import incoming_list
    from apps.scrapping import selectors as scrapping_selectors

    enterprise = request.user.enterprise
    if enterprise is None:
        raise Http404
    schedule = selectors.monthly_report_schedule(enterprise=enterprise)
    certificates, certificates_overdue = [], 0
    is_dismantler = "dismantler" in enterprise.roles
    if is_dismantler:
        open_certificates = scrapping_selectors.certificate_list(actor=request.user, deadline="open")
        certificates = [(c, scrapping_selectors.deadline_state(c))
                        for c in open_certificates.order_by("handover_deadline", "pk")[:LIST_PREVIEW]]
        certificates_overdue = scrapping_selectors.certificate_list(actor=request.user, deadline="overdue").count()
    incoming = incoming_list(actor=request.user)
    first, end = selectors.late_window()
    page, query = paginate(request, selectors.late_event_summary(actor=request.user, first_month=first,
                                                                 end_month=end, enterprise=enterprise.pk))
    return render(request, "deadlines/due.html", {
        "enterprise": enterprise, "schedule": schedule,
        "overdue_reports": sum(1 for row in schedule if row["state"] == "overdue"),
        "is_dismantler": is_dismantler, "certificates": certificates, "certificates_overdue": certificates_overdue,
        "incoming": incoming[:LIST_PREVIEW], "incoming_count": incoming.count(),
        "deadlines": selectors.deadline_rows(), "page": page, "query": query, "first_month": first,
    })


def _visible_enterprise(request, pk):
    from apps.enterprises.models import Enterprise

    enterprise = Enterprise.objects.visible_to(request.user).filter(pk=pk).first() if pk else None
    if enterprise is None:
        raise Http404
    return enterprise


@persona_required("company", "reviewer", "admin")
def late_events(request):
    """The battery codes behind one count of late-reported events (enterprise, kind, month)."""
    form = LateEventFilterForm(request.GET)
    if not form.is_valid():
        raise Http404
    data = form.cleaned_data
    enterprise_id = request.user.enterprise.pk if request.user.kind == "company" else data["enterprise"]
    enterprise = _visible_enterprise(request, enterprise_id)
    month = selectors.month_start(data["month"])
    page, query = paginate(request, selectors.late_event_list(actor=request.user, enterprise=enterprise.pk,
                                                              kind=data["kind"], month=month))
    from apps.batteries.models import EventKind

    return render(request, "deadlines/late_events.html", {
        "enterprise": enterprise, "kind": data["kind"], "kind_label": EventKind(data["kind"]).label, "month": month,
        "page": page, "query": query})


# --- reviewers: overdue across enterprises --------------------------------------------------------------------


@persona_required("reviewer", "admin")
def overdue(request):
    form = OverdueFilterForm(request.GET or None)
    filters = form.filters()
    reports_page, reports_query = paginate(request, selectors.overdue_reports(
        actor=request.user, province=filters["province"], enterprise=filters["enterprise"],
        kind=filters["report_kind"]))
    # One month at a time across enterprises (the previous one unless chosen): the query then reads one month of
    # the ledger for the provinces in scope, whatever the ledger's size.
    month = selectors.month_start(filters["month"] or selectors.previous_month(timezone.localdate()))
    first, end = month, selectors.next_month(month)
    late = selectors.late_event_summary(actor=request.user, first_month=first, end_month=end,
                                        province=filters["province"], enterprise=filters["enterprise"],
                                        kind=filters["kind"])
    from django.core.paginator import Paginator

    late_page = Paginator(late, 25).get_page(request.GET.get("late_page"))
    params = request.GET.copy()
    params.pop("late_page", None)
    return render(request, "deadlines/overdue.html", {
        "form": form, "page": reports_page, "query": reports_query, "late_page": late_page,
        "late_query": params.urlencode(), "first_month": first, "end_month": end})
