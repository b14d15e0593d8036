"""Pages of the review workflow: the enterprise's filings and monthly reports, the reviewer queue and the review
page with the ledger beside the report, the comment thread and the notifications. Thin: forms check shape,
services decide, and a filing the viewer may not see is a 404, exactly like one that does not exist."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core import exports
from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.exports import Column
from apps.core.forms import add_domain_error
from apps.core.paging import paginate
from apps.filings import rules, selectors, services
from apps.filings.forms import (
    AssignForm,
    BulkActionForm,
    CommentForm,
    DecisionForm,
    MonthlyReportForm,
    QueueFilterForm,
    ResubmitForm,
)
from apps.filings.models import MONTHLY_COUNT_FIELDS, Filing, FilingComment, FilingKind, FilingStatus, Notification


def _get(request, pk):
    try:
        return selectors.filing_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404


def _refused(request, exc: DomainError, form=None):
    """A service's refusal: 403 and 404 as such; otherwise on the form, or above the page."""
    if exc.status == 403:
        raise PermissionDenied(str(exc.message))
    if exc.status == 404:
        raise Http404
    if form is not None and exc.field in form.fields:
        add_domain_error(form, exc)
        return False
    messages.error(request, str(exc.message))
    return True


def _thread(filing):
    return {
        "transitions": filing.transitions.select_related("actor", "assignee"),
        "comments": filing.comments.select_related("author"),
    }


def _counts(filing) -> list[tuple]:
    if filing.kind != FilingKind.MONTHLY_REPORT:
        return []
    report = filing.monthly_report
    return [(report._meta.get_field(name).verbose_name, getattr(report, name)) for name, _kind in MONTHLY_COUNT_FIELDS]


# --- the enterprise's side ------------------------------------------------------------------------------------


@persona_required("company")
def filing_list(request):
    status = request.GET.get("status") if request.GET.get("status") in FilingStatus.values else None
    page, query = paginate(request, selectors.filing_list(actor=request.user, status=status))
    return render(request, "filings/list.html", {"page": page, "query": query, "status": status,
                                                 "statuses": FilingStatus.choices})


@persona_required("company")
def monthly_report_create(request):
    form = MonthlyReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            filing = services.monthly_report_create(actor=request.user, month=form.cleaned_data["month"],
                                                    counts=form.counts())
        except DomainError as exc:
            _refused(request, exc, form)
        else:
            messages.success(request, _("Draft saved. Check it, then submit it for review."))
            return redirect("filings:detail", pk=filing.pk)
    return render(request, "filings/report_form.html", {"form": form, "filing": None})


@persona_required("company")
def monthly_report_edit(request, pk: int):
    filing = _get(request, pk)
    if filing.kind != FilingKind.MONTHLY_REPORT:
        raise Http404
    report = filing.monthly_report
    form = MonthlyReportForm(request.POST or None, editing=True, initial=report.counts())
    if request.method == "POST" and form.is_valid():
        try:
            services.monthly_report_update(actor=request.user, filing_id=filing.pk, counts=form.counts())
        except DomainError as exc:
            if _refused(request, exc, form):
                return redirect("filings:detail", pk=pk)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("filings:detail", pk=pk)
    return render(request, "filings/report_form.html", {"form": form, "filing": filing})


@persona_required("company")
def filing_detail(request, pk: int):
    filing = _get(request, pk)
    return render(request, "filings/detail.html", {
        "filing": filing, "counts": _counts(filing),
        "editable": filing.status in rules.EDITABLE_STATUSES,
        "can_submit": filing.status == FilingStatus.DRAFT,
        "resubmit_form": ResubmitForm() if filing.status == FilingStatus.RETURNED else None,
        "comment_form": CommentForm(), **_thread(filing),
    })


@require_POST
@persona_required("company")
def filing_submit(request, pk: int):
    filing = _get(request, pk)
    try:
        services.filing_submit(actor=request.user, filing_id=filing.pk)
        messages.success(request, _("Submitted for review."))
    except DomainError as exc:
        _refused(request, exc)
    return redirect("filings:detail", pk=pk)


@require_POST
@persona_required("company")
def filing_resubmit(request, pk: int):
    filing = _get(request, pk)
    form = ResubmitForm(request.POST)
    try:
        services.filing_resubmit(actor=request.user, filing_id=filing.pk,
                                 comment=form.cleaned_data["comment"] if form.is_valid() else "")
        messages.success(request, _("Resubmitted for review."))
    except DomainError as exc:
        _refused(request, exc)
    return redirect("filings:detail", pk=pk)


@require_POST
@login_required
def filing_comment(request, pk: int):
    filing = _get(request, pk)
    form = CommentForm(request.POST, request.FILES)
    back = "filings:review_detail" if request.user.is_regulator else "filings:detail"
    if form.is_valid():
        try:
            services.filing_comment_add(actor=request.user, filing_id=filing.pk, body=form.cleaned_data["body"],
                                        attachment=form.cleaned_data["attachment"])
            messages.success(request, _("Comment added."))
        except DomainError as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Write a comment."))
    return redirect(back, pk=pk)


@login_required
def comment_attachment(request, pk: int):
    comment = FilingComment.objects.filter(pk=pk, filing__in=Filing.objects.visible_to(request.user)).first()
    if comment is None or not comment.attachment:
        raise Http404
    return FileResponse(comment.attachment.open("rb"), as_attachment=True,
                        filename=comment.attachment_name or comment.attachment.name.rsplit("/", 1)[-1])


@persona_required("company")
def notification_list(request):
    page, query = paginate(request, Notification.objects.for_user(request.user).select_related("filing"))
    response = render(request, "filings/notifications.html", {"page": page, "query": query})
    if request.method == "GET":
        services.notifications_mark_read(actor=request.user)
    return response


# --- the reviewers' side ----------------------------------------------------------------------------------------


def _queue_columns() -> list[Column]:
    from apps.filings.risk import flag_label, risk_badges

    return [
        Column(gettext_lazy("No."), "pk"),
        Column(gettext_lazy("Kind"), "get_kind_display"),
        Column(gettext_lazy("Enterprise"), "enterprise.name"),
        Column(gettext_lazy("Unified social credit code"), "enterprise.uscc"),
        Column(gettext_lazy("Province"), "get_province_display"),
        Column(gettext_lazy("Period"), lambda f: f.period.strftime("%Y-%m") if f.period else ""),
        Column(gettext_lazy("Status"), "get_status_display"),
        Column(gettext_lazy("Why it is risky"), lambda f: [label for _css, label in risk_badges(f)]),
        Column(gettext_lazy("Flags"), lambda f: [flag_label(flag) for flag in f.flags]),
        Column(gettext_lazy("Due date"), "due_date"),
        Column(gettext_lazy("Submitted"), "submitted_at"),
        Column(gettext_lazy("Reviewer"), "assigned_to.username"),
    ]


@persona_required("reviewer", "admin")
def queue(request):
    from apps.filings.risk import risk_badges

    form = QueueFilterForm(request.GET or None)
    filings = selectors.filing_queue(actor=request.user, **form.filters())
    if response := exports.export_response(request, filings, _queue_columns(), filename="filings-queue"):
        return response
    page, query = paginate(request, filings.values_list("pk", flat=True))
    page.object_list = selectors.filing_queue_rows(filings, list(page.object_list))
    for filing in page.object_list:
        filing.badges = risk_badges(filing)
    return render(request, "filings/queue.html", {"form": form, "page": page, "query": query,
                                                  "bulk_form": BulkActionForm(), "bulk_max": services.BULK_MAX})


@require_POST
@persona_required("reviewer", "admin")
def queue_bulk(request):
    """Ticked rows of the queue: first a confirmation page listing them and the action, then (confirmed) each
    filing through its single-filing service, and a page saying what happened to each."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("filings:queue")
    data = form.cleaned_data
    if not data["confirmed"]:
        try:
            services.filings_bulk_arguments(action=data["action"], reviewer=data["reviewer"], comment=data["comment"])
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("filings:queue")
        filings = list(selectors.filing_queue(actor=request.user).filter(pk__in=data["ids"])[:services.BULK_MAX])
        return render(request, "filings/bulk_confirm.html", {
            "form": form, "filings": filings, "action_label": dict(BulkActionForm.ACTIONS)[data["action"]],
            "missing": len(set(data["ids"])) - len(filings)})
    try:
        results = services.filings_bulk_act(actor=request.user, action=data["action"], filing_ids=data["ids"],
                                            reviewer=data["reviewer"], comment=data["comment"])
    except DomainError as exc:
        _refused(request, exc)
        return redirect("filings:queue")
    return render(request, "filings/bulk_result.html", {
        "results": results, "action_label": dict(BulkActionForm.ACTIONS)[data["action"]],
        "done": sum(1 for r in results if r["ok"]), "failed": sum(1 for r in results if not r["ok"])})


@persona_required("reviewer", "admin")
def reviewer_search(request):
    """Suggestions for the bulk assignment's username box (htmx fills a datalist): at most 20 active reviewers."""
    term = (request.GET.get("reviewer") or request.GET.get("q") or "").strip()[:150]
    reviewers = selectors.reviewer_search(term=term) if term else []
    return render(request, "filings/_reviewer_options.html", {"reviewers": reviewers})


@persona_required("reviewer", "admin")
def review_detail(request, pk: int):
    from apps.filings.review_panels import panel_context
    from apps.filings.risk import filing_risk_badges

    filing = _get(request, pk)
    decision_form = DecisionForm(request.POST or None)
    if filing.kind == FilingKind.LICENCE_APPLICATION and request.user.kind != "admin":
        # only an administrator grants a licence (the service refuses it too); reviewers return or reject
        decision_form.fields["decision"].choices = [
            choice for choice in decision_form.fields["decision"].choices if choice[0] != "approve"]
    if request.method == "POST" and decision_form.is_valid():
        data = decision_form.cleaned_data
        decide = {"approve": services.filing_approve, "reject": services.filing_reject,
                  "return": services.filing_return}[data["decision"]]
        try:
            decide(actor=request.user, filing_id=filing.pk, comment=data["comment"], confirmed=data["confirm"])
        except DomainError as exc:
            if _refused(request, exc, decision_form):
                return redirect("filings:review_detail", pk=pk)
        else:
            messages.success(request, _("Decision recorded; the enterprise has been notified."))
            return redirect("filings:review_detail", pk=pk)
    in_review = filing.status == FilingStatus.IN_REVIEW
    return render(request, "filings/review_detail.html", {
        "filing": filing, **panel_context(filing),
        "risk_badges": filing_risk_badges(filing),
        "can_claim": filing.status in (FilingStatus.SUBMITTED, FilingStatus.RESUBMITTED),
        "assign_form": AssignForm(reviewers=selectors.reviewers_for(filing))
        if filing.status in rules.OPEN_STATUSES else None,
        "decision_form": decision_form if in_review and (
            request.user.kind == "admin" or filing.assigned_to_id == request.user.pk) else None,
        "comment_form": CommentForm(), **_thread(filing),
    })


@require_POST
@persona_required("reviewer", "admin")
def filing_claim(request, pk: int):
    filing = _get(request, pk)
    try:
        services.filing_claim(actor=request.user, filing_id=filing.pk)
        messages.success(request, _("You have claimed this filing."))
    except DomainError as exc:
        _refused(request, exc)
    return redirect("filings:review_detail", pk=pk)


@require_POST
@persona_required("reviewer", "admin")
def filing_assign(request, pk: int):
    filing = _get(request, pk)
    try:
        services.filing_assign(actor=request.user, filing_id=filing.pk, reviewer_id=request.POST.get("reviewer", ""))
        messages.success(request, _("Filing assigned."))
    except DomainError as exc:
        _refused(request, exc)
    return redirect("filings:review_detail", pk=pk)
