"""Pages of the recovery (utilization) report and of the explanation: create and edit while a draft or returned.
The detail and review pages are the workflow's (apps.filings.views), which show a kind's content through
templates/filings/_kind_content.html. Thin: forms check shape, the services decide."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.forms import add_domain_error
from apps.core.paging import paginate
from apps.filings import explanation_services, kind_selectors, recovery_services
from apps.filings.kind_forms import CompositionForm, ExplanationForm, RecoveryReportForm
from apps.core.choices import Chemistry
from apps.filings.models import FilingKind
from apps.filings.views import _get, _refused


@persona_required("company")
def recovery_report_create(request):
    form = RecoveryReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            filing = recovery_services.recovery_report_create(actor=request.user, month=form.cleaned_data["month"],
                                                              inputs=form.inputs(), outputs=form.outputs())
        except DomainError as exc:
            _refused(request, exc, form)
        else:
            messages.success(request, _("Draft saved. Check the recovery rates, then submit it for review."))
            return redirect("filings:detail", pk=filing.pk)
    return render(request, "filings/recovery_form.html", {"form": form, "filing": None,
                                                          "compositions": kind_selectors.compositions()})


@persona_required("company")
def recovery_report_edit(request, pk: int):
    filing = _get(request, pk)
    if filing.kind != FilingKind.RECOVERY_REPORT:
        raise Http404
    form = RecoveryReportForm(request.POST or None, editing=True,
                              initial=RecoveryReportForm.initial_from(filing.recovery_report))
    if request.method == "POST" and form.is_valid():
        try:
            recovery_services.recovery_report_update(actor=request.user, filing_id=filing.pk, inputs=form.inputs(),
                                                     outputs=form.outputs())
        except DomainError as exc:
            if _refused(request, exc, form):
                return redirect("filings:detail", pk=pk)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("filings:detail", pk=pk)
    return render(request, "filings/recovery_form.html", {"form": form, "filing": filing,
                                                          "compositions": kind_selectors.compositions()})


@login_required
def composition_table(request):
    """The composition table the expected metal content is computed from (read-only for everyone signed in; an
    administrator also sees the change history and an edit link per chemistry)."""
    context = {"compositions": kind_selectors.compositions(), "can_edit": request.user.kind == "admin"}
    if context["can_edit"]:
        context["page"], context["query"] = paginate(request, kind_selectors.composition_changes())
    return render(request, "filings/compositions.html", context)


@persona_required("admin")
def composition_edit(request, chemistry: str):
    """An administrator changes one chemistry's fractions, with the reason; audited by the service."""
    if chemistry not in Chemistry.values:
        raise Http404
    composition = kind_selectors.composition(chemistry)
    form = CompositionForm(request.POST or None, initial=CompositionForm.initial_from(composition)
                           if composition else {})
    if request.method == "POST" and form.is_valid():
        try:
            recovery_services.chemistry_composition_set(actor=request.user, chemistry=chemistry,
                                                        fractions=form.fractions(),
                                                        reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if exc.status == 403:
                raise PermissionDenied(str(exc.message))
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The fractions of %(chemistry)s are saved; recovery reports saved from now "
                                        "on use them.") % {"chemistry": Chemistry(chemistry).label})
            return redirect("filings:compositions")
    return render(request, "filings/composition_form.html", {
        "form": form, "chemistry": Chemistry(chemistry), "composition": composition,
        "changes": kind_selectors.composition_changes(chemistry=chemistry)[:10]})


def _explanation_create(request, *, discrepancy_id=None, intake_id=None):
    try:
        subject = kind_selectors.explanation_subject_for(actor=request.user, discrepancy_id=discrepancy_id,
                                                         intake_id=intake_id)
    except NotFound:
        raise Http404
    form = ExplanationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            filing = explanation_services.explanation_create(actor=request.user, discrepancy_id=discrepancy_id,
                                                             intake_id=intake_id, text=form.cleaned_data["text"])
        except DomainError as exc:
            if _refused(request, exc, form):
                return redirect(request.path)
        else:
            messages.success(request, _("Draft saved. Attach any documents, then submit it for review."))
            return redirect("filings:detail", pk=filing.pk)
    return render(request, "filings/explanation_form.html", {"form": form, "filing": None, "subject": subject,
                                                             "is_intake": intake_id is not None})


@persona_required("company")
def explanation_create_for_discrepancy(request, pk: int):
    return _explanation_create(request, discrepancy_id=pk)


@persona_required("company")
def explanation_create_for_intake(request, pk: int):
    return _explanation_create(request, intake_id=pk)


@persona_required("company")
def explanation_edit(request, pk: int):
    filing = _get(request, pk)
    if filing.kind != FilingKind.EXPLANATION:
        raise Http404
    explanation = filing.explanation
    form = ExplanationForm(request.POST or None, initial={"text": explanation.text})
    if request.method == "POST" and form.is_valid():
        try:
            explanation_services.explanation_update(actor=request.user, filing_id=filing.pk,
                                                    text=form.cleaned_data["text"])
        except DomainError as exc:
            if _refused(request, exc, form):
                return redirect("filings:detail", pk=pk)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("filings:detail", pk=pk)
    return render(request, "filings/explanation_form.html", {
        "form": form, "filing": filing, "subject": explanation.discrepancy or explanation.intake,
        "is_intake": explanation.intake_id is not None})
