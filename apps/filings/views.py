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
from django.views.decorators.http import require_POST

from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.forms import add_domain_error
from apps.core.paging import paginate
from apps.filings import rules, selectors, services
from apps.filings.forms import AssignForm, CommentForm, DecisionForm, MonthlyReportForm, QueueFilterForm, ResubmitForm
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


@persona_required("reviewer", "admin")
def queue(request):
    form = QueueFilterForm(request.GET or None)
    page, query = paginate(request, selectors.filing_queue(actor=request.user, **form.filters()))
    return render(request, "filings/queue.html", {"form": form, "page": page, "query": query})


@persona_required("reviewer", "admin")
def review_detail(request, pk: int):
    filing = _get(request, pk)
    decision_form = DecisionForm(request.POST or None)
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
        "filing": filing,
        "comparison": selectors.monthly_report_comparison(filing) if filing.kind == FilingKind.MONTHLY_REPORT else [],
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
