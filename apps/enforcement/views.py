"""Enforcement pages: the reviewers' list, draft form, detail with evidence, second approval and closure; the
enterprise's list and detail with its answer form; the reviewer's resolve/escalate page for a discrepancy.
Thin: forms check shape, services decide, and an action the viewer may not see is a 404."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core import exports
from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.forms import add_domain_error
from apps.core.paging import paginate
from apps.enforcement import rules, selectors, services
from apps.enforcement.forms import (
    ActionForm,
    AnswerForm,
    CloseForm,
    ConfirmForm,
    DiscrepancyDecisionForm,
    ListFilterForm,
    RefuseForm,
)
from apps.enforcement.models import ActionStatus


def _get(request, pk):
    try:
        return selectors.action_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404


def _refused(request, exc: DomainError, form=None) -> bool:
    """A service's refusal: 403 and 404 as such; otherwise on the form (False), or above the page (True)."""
    if exc.status == 403:
        raise PermissionDenied(str(exc.message))
    if exc.status == 404 and exc.field is None:
        raise Http404
    if form is not None and exc.field in form.fields:
        add_domain_error(form, exc)
        return False
    messages.error(request, str(exc.message))
    return True


def _history(action, *, for_enterprise: bool = False):
    return selectors.action_history(action, for_enterprise=for_enterprise)


# --- the reviewers' side ----------------------------------------------------------------------------------------


def _export_columns() -> list:
    from django.utils.translation import gettext_lazy, pgettext_lazy

    return [
        exports.Column(gettext_lazy("No."), "pk"),
        exports.Column(gettext_lazy("Kind"), "get_kind_display"),
        exports.Column(gettext_lazy("Enterprise"), "enterprise.name"),
        exports.Column(gettext_lazy("Unified social credit code"), "enterprise.uscc"),
        exports.Column(gettext_lazy("Province"), "get_province_display"),
        exports.Column(gettext_lazy("Amount (yuan)"), "amount"),
        exports.Column(gettext_lazy("Status"), "get_status_display"),
        exports.Column(gettext_lazy("Deadline to comply"), "deadline"),
        exports.Column(pgettext_lazy("enforcement", "Issued"), "issued_at"),
        exports.Column(gettext_lazy("Outcome"), "get_outcome_display"),
        exports.Column(gettext_lazy("Drafted by"), lambda a: a.created_by.username if a.created_by else ""),
        exports.Column(gettext_lazy("Approved by"), lambda a: a.approved_by.username if a.approved_by else ""),
        exports.Column(gettext_lazy("Facts"), "facts"),
    ]


@persona_required("reviewer", "admin")
def review_list(request):
    form = ListFilterForm(request.GET or None)
    queryset = selectors.action_list(actor=request.user, **form.filters())
    if response := exports.export_response(request, queryset, _export_columns(), filename="enforcement-actions"):
        return response
    page, query = paginate(request, queryset)
    return render(request, "enforcement/review_list.html", {"form": form, "page": page, "query": query})


@persona_required("reviewer", "admin")
def action_create(request):
    initial = {"enterprise": request.GET.get("enterprise")} if str(request.GET.get("enterprise", "")).isdigit() else {}
    form = ActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            action = services.enforcement_action_create(actor=request.user,
                                                        enterprise_id=form.cleaned_data["enterprise"],
                                                        **form.arguments())
        except DomainError as exc:
            _refused(request, exc, form)
        else:
            messages.success(request, _("Draft saved. Check the evidence, then submit it for a second approval."))
            return redirect("enforcement:review_detail", pk=action.pk)
    return render(request, "enforcement/form.html", {"form": form, "action": None})


@persona_required("reviewer", "admin")
def action_edit(request, pk: int):
    action = _get(request, pk)
    ids = selectors.evidence_ids(action)
    initial = {"kind": action.kind, "amount": action.amount or "", "facts": action.facts,
               "legal_basis": action.legal_basis, "deadline": action.deadline,
               **{name: ", ".join(str(i) for i in values) for name, values in ids.items()}}
    form = ActionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.enforcement_action_update(actor=request.user, action_id=action.pk, **form.arguments())
        except DomainError as exc:
            if _refused(request, exc, form):
                return redirect("enforcement:review_detail", pk=pk)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("enforcement:review_detail", pk=pk)
    return render(request, "enforcement/form.html", {"form": form, "action": action})


@persona_required("reviewer", "admin")
def review_detail(request, pk: int):
    action = _get(request, pk)
    user = request.user
    drafter = action.created_by_id == user.pk
    awaiting = action.status == ActionStatus.AWAITING_APPROVAL
    return render(request, "enforcement/review_detail.html", {
        "action": action, **selectors.action_evidence(action), "transitions": _history(action),
        "is_drafter": drafter,
        "can_edit": drafter and action.status in rules.EDITABLE_STATUSES,
        "can_submit": drafter and action.status in rules.EDITABLE_STATUSES,
        "can_decide": awaiting and not drafter,
        "four_eyes_note": awaiting and drafter,
        "approve_form": ConfirmForm() if awaiting and not drafter else None,
        "refuse_form": RefuseForm() if awaiting and not drafter else None,
        "close_form": CloseForm() if action.status in (ActionStatus.ISSUED, ActionStatus.ANSWERED) else None,
    })


def _step(request, pk: int, call, form_class, success: str, template_key: str):
    action = _get(request, pk)
    form = form_class(request.POST, request.FILES) if form_class else None
    data = form.cleaned_data if form is not None and form.is_valid() else {}
    try:
        call(action, data)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, success)
    return redirect(template_key, pk=pk)


@require_POST
@persona_required("reviewer", "admin")
def action_submit(request, pk: int):
    return _step(request, pk, lambda a, d: services.enforcement_action_submit(actor=request.user, action_id=a.pk),
                 None, _("Submitted: a second reviewer must now approve it."), "enforcement:review_detail")


@require_POST
@persona_required("reviewer", "admin")
def action_approve(request, pk: int):
    return _step(request, pk, lambda a, d: services.enforcement_action_approve(
        actor=request.user, action_id=a.pk, comment=d.get("comment", ""), confirmed=d.get("confirm", False)),
        ConfirmForm, _("Approved: the action is issued and the enterprise has been notified."),
        "enforcement:review_detail")


@require_POST
@persona_required("reviewer", "admin")
def action_refuse(request, pk: int):
    return _step(request, pk, lambda a, d: services.enforcement_action_refuse(
        actor=request.user, action_id=a.pk, comment=d.get("comment", "")),
        RefuseForm, _("Returned to the drafter."), "enforcement:review_detail")


@require_POST
@persona_required("reviewer", "admin")
def action_close(request, pk: int):
    return _step(request, pk, lambda a, d: services.enforcement_action_close(
        actor=request.user, action_id=a.pk, outcome=d.get("outcome", ""), comment=d.get("comment", ""),
        confirmed=d.get("confirm", False)),
        CloseForm, _("Closed; the enterprise has been notified."), "enforcement:review_detail")


@persona_required("reviewer", "admin")
def discrepancy_decide(request, pk: int):
    """Resolve (with a comment) or escalate one discrepancy of the reviewer's provinces."""
    from apps.reconciliation import selectors as reconciliation_selectors
    from apps.reconciliation import services as reconciliation_services

    try:
        discrepancy = reconciliation_selectors.discrepancy_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404
    form = DiscrepancyDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decision, data = request.POST.get("decision"), form.cleaned_data
        try:
            if decision == "escalate":
                action = reconciliation_services.discrepancy_escalate(
                    actor=request.user, discrepancy_id=discrepancy.pk, comment=data["comment"],
                    kind=data["kind"] or "order_to_correct")
                messages.success(request, _("Escalated: complete the draft action and submit it for a second "
                                            "approval."))
                return redirect("enforcement:edit", pk=action.pk)
            if decision == "resolve":
                reconciliation_services.discrepancy_review_resolve(actor=request.user, discrepancy_id=discrepancy.pk,
                                                                   comment=data["comment"])
                messages.success(request, _("The discrepancy is resolved."))
                return redirect("enforcement:discrepancy_decide", pk=pk)
            form.add_error(None, _("Choose to resolve or to escalate."))
        except DomainError as exc:
            _refused(request, exc, form)
    from apps.enforcement.models import DiscrepancyDecision

    return render(request, "enforcement/discrepancy_decide.html", {
        "d": discrepancy, "form": form, "decidable": discrepancy.status in rules.DISCREPANCY_DECIDABLE,
        "decisions": DiscrepancyDecision.objects.filter(discrepancy=discrepancy).select_related("actor", "action"),
    })


# --- the enterprise's side -----------------------------------------------------------------------------------


@persona_required("company")
def action_list(request):
    status = request.GET.get("status") if request.GET.get("status") in ActionStatus.values else None
    page, query = paginate(request, selectors.action_list(actor=request.user, status=status))
    return render(request, "enforcement/list.html", {"page": page, "query": query, "status": status})


@persona_required("company")
def action_detail(request, pk: int):
    action = _get(request, pk)
    form = AnswerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enforcement_action_answer(actor=request.user, action_id=action.pk,
                                               text=form.cleaned_data["text"],
                                               attachment=form.cleaned_data["attachment"])
        except DomainError as exc:
            if _refused(request, exc, form):
                return redirect("enforcement:detail", pk=pk)
        else:
            messages.success(request, _("Your answer has been sent to the reviewers."))
            return redirect("enforcement:detail", pk=pk)
    return render(request, "enforcement/detail.html", {
        "action": action, **selectors.action_evidence(action), "transitions": _history(action, for_enterprise=True),
        "answer_form": form if action.status == ActionStatus.ISSUED else None,
    })


@persona_required("company", "reviewer", "admin")
def answer_attachment(request, pk: int):
    action = _get(request, pk)
    if not action.answer_attachment:
        raise Http404
    return FileResponse(action.answer_attachment.open("rb"), as_attachment=True,
                        filename=action.answer_attachment_name or "answer.pdf")
