"""Pages for scrapping: the dismantler takes in vehicles, sees the check and issues certificates; reviewers see the
enforcement leads (blocked and mismatched intakes) by province and dismantler, decide on mismatches and void or
re-issue certificates; anyone checks a certificate on its public verification page. All thin: forms check shape,
services decide, and another dismantler's intake or certificate is a 404."""
from __future__ import annotations

from functools import wraps
from pathlib import PurePath

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core import exports
from apps.core.choices import Province
from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.forms import add_domain_error
from apps.core.paging import paginate
from apps.core.workdays import WorkdayCalendar
from apps.enterprises.models import Enterprise
from apps.scrapping import intake_file, rules, selectors, services
from apps.scrapping.forms import (
    CertificateSearchForm,
    DecisionForm,
    ExplanationForm,
    IntakeFileForm,
    IntakeForm,
    IntakeSearchForm,
    IssueForm,
    PhotoForm,
    ReissueForm,
    VoidForm,
)
from apps.scrapping.models import CertificateStatus, IntakeStatus
from apps.scrapping.verification import verification_url


def _not_found(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except NotFound:
            raise Http404
    return wrapper


def _dismantler_gate(request) -> None:
    """Company pages of this app are for dismantlers: another role is a 403 (the answer depends on no object)."""
    if request.user.kind == "company" and not request.user.enterprise.has_role("dismantler"):
        raise PermissionDenied


def _is_dismantler(user) -> bool:
    return user.kind == "company" and user.enterprise is not None and user.enterprise.has_role("dismantler")


# --- intakes ---------------------------------------------------------------------------------------------------


# The columns of the lists' exports (apps.core.exports). No owner's identity number: the lists never show it.
INTAKE_COLUMNS = [
    exports.Column(gettext_lazy("VIN"), "vin"),
    exports.Column(gettext_lazy("Plate number"), "plate_number"),
    exports.Column(gettext_lazy("Taken in on"), "received_on"),
    exports.Column(gettext_lazy("Battery check"), "get_outcome_display"),
    exports.Column(gettext_lazy("Status"), "get_status_display"),
    exports.Column(gettext_lazy("Dismantler"), "dismantler.name"),
    exports.Column(gettext_lazy("Province"), "dismantler.get_province_display"),
    exports.Column(gettext_lazy("Explanation"), "explanation"),
]
CERTIFICATE_COLUMNS = [
    exports.Column(gettext_lazy("Certificate number"), "number"),
    exports.Column(gettext_lazy("Issued on"), "issued_on"),
    exports.Column(gettext_lazy("VIN"), "vin"),
    exports.Column(gettext_lazy("Status"), "get_status_display"),
    exports.Column(gettext_lazy("Battery handover deadline"), "handover_deadline"),
    exports.Column(gettext_lazy("Dismantler"), "dismantler.name"),
]

@persona_required("company", "reviewer", "admin")
def intake_list(request):
    _dismantler_gate(request)
    form = IntakeSearchForm(request.GET or None, user=request.user)
    qs = selectors.intake_list(actor=request.user, **form.filters())
    if response := exports.export_response(request, qs, INTAKE_COLUMNS, filename="scrapping-intakes"):
        return response
    page, query = paginate(request, qs)
    return render(request, "scrapping/intake_list.html", {
        "form": form, "page": page, "query": query, "searched": bool(query),
        "is_dismantler": _is_dismantler(request.user),
    })


@persona_required("reviewer", "admin")
def lead_list(request):
    """Enforcement leads: intakes blocked for a missing battery, and mismatches awaiting a decision, with counts
    by the dismantler's province and by dismantler."""
    province = request.GET.get("province") or None
    if province not in (None, *Province.values):
        province = None
    dismantler = None
    if (request.GET.get("dismantler") or "").isdigit():
        dismantler = Enterprise.objects.visible_to(request.user).filter(pk=request.GET["dismantler"]).first()
    status = request.GET.get("status") if request.GET.get("status") in ("blocked", "awaiting_decision") else None
    qs = selectors.intake_list(actor=request.user, leads_only=True, province=province, dismantler=dismantler,
                               status=status, q=request.GET.get("q"))
    if response := exports.export_response(request, qs, INTAKE_COLUMNS, filename="scrapping-leads"):
        return response
    page, query = paginate(request, qs)
    counts = selectors.lead_counts(actor=request.user)
    provinces = dict(Province.choices)
    for row in counts["by_province"]:
        row["label"] = provinces.get(row["dismantler__province"], row["dismantler__province"])
    for row in counts["by_dismantler"]:
        row["province_label"] = provinces.get(row["dismantler__province"], row["dismantler__province"])
    return render(request, "scrapping/lead_list.html", {
        "page": page, "query": query, "counts": counts, "province": province, "dismantler": dismantler,
        "status": status, "q": request.GET.get("q", ""), "provinces": Province.choices,
    })


@persona_required("company")
@require_http_methods(["GET", "POST"])
def intake_new(request):
    _dismantler_gate(request)
    form = IntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            intake = services.scrapping_intake_create(actor=request.user, **form.service_arguments())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            _say_outcome(request, intake)
            return redirect("scrapping:intake", pk=intake.pk)
    return render(request, "scrapping/intake_new.html", {"form": form})


@persona_required("company")
@require_http_methods(["GET", "POST"])
def intake_file_upload(request):
    """Many vehicles at once from a CSV or XLSX file, all or nothing, through the same service as the form."""
    _dismantler_gate(request)
    form = IntakeFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record, already = intake_file.intake_file_apply(actor=request.user, upload=form.cleaned_data["file"])
        except DomainError as exc:
            if exc.status == 403:
                raise PermissionDenied(str(exc.message))
            add_domain_error(form, exc)
        else:
            if already:
                messages.warning(request, _("This file was already applied on %(date)s; it was not applied again.")
                                 % {"date": record.created_at.strftime("%Y-%m-%d %H:%M")})
            elif record.status == record.Status.SUCCEEDED:
                messages.success(request, record.message)
            else:
                messages.error(request, record.message)
            return redirect("scrapping:intake_file_result", pk=record.pk)
    return render(request, "scrapping/intake_file.html", {
        "form": form, "columns": intake_file.column_names(), "max_rows": intake_file.INTAKE_FILE_MAX_ROWS,
        "uploads": selectors.intake_files(actor=request.user)[:10],
    })


@persona_required("company")
@require_GET
def intake_file_template(request):
    _dismantler_gate(request)
    response = HttpResponse(intake_file.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="scrapping-intake-template.csv"'
    return response


@persona_required("company")
@require_GET
@_not_found
def intake_file_result(request, pk: int):
    _dismantler_gate(request)
    record = selectors.intake_file_get(actor=request.user, pk=pk)
    intakes = record.intakes.select_related("dismantler").order_by("pk")
    return render(request, "scrapping/intake_file_result.html", {
        "record": record, "intakes": intakes,
        "shown_errors": record.errors, "more_errors": record.error_count - len(record.errors),
    })


@persona_required("company")
@require_GET
@_not_found
def intake_file_errors(request, pk: int):
    _dismantler_gate(request)
    record = selectors.intake_file_get(actor=request.user, pk=pk)
    if not record.errors_csv:
        raise Http404
    response = HttpResponse(record.errors_csv.encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="intake-file-{record.pk}-errors.csv"'
    return response


def _say_outcome(request, intake) -> None:
    """What the check found, in the words the dismantler acts on."""
    if intake.status == IntakeStatus.READY:
        messages.success(request, _("Vehicle %(vin)s was taken in: %(outcome)s. You may issue the certificate.")
                         % {"vin": intake.vin, "outcome": intake.get_outcome_display()})
    elif intake.status == IntakeStatus.BLOCKED:
        messages.error(request, _("Vehicle %(vin)s was taken in without its battery: no certificate may be issued. A "
                                  "missing battery counts as a missing vehicle (电池缺失视为车辆缺失); the case goes to "
                                  "the reviewers.") % {"vin": intake.vin})
    else:
        messages.warning(request, _("Vehicle %(vin)s was taken in, but a battery found differs from the ledger: a "
                                    "reviewer must decide before any certificate. Add your explanation below.")
                         % {"vin": intake.vin})


def _intake_page(request, intake, **forms):
    user = request.user
    own = _is_dismantler(user) and intake.dismantler_id == user.enterprise.pk
    regulator = user.kind in ("reviewer", "admin")
    context = {
        "intake": intake, "batteries": selectors.intake_batteries(intake),
        "leads": selectors.lead_batteries(intake, actor=user), "own": own, "regulator": regulator,
        "certificates": intake.certificates.order_by("-pk"),
        "handover_days": selectors.handover_working_days(),
    }
    if own and intake.status == IntakeStatus.READY:
        context["issue_form"] = forms.get("issue_form") or IssueForm()
    if own and intake.status in (IntakeStatus.READY, IntakeStatus.AWAITING_DECISION, IntakeStatus.BLOCKED,
                                 IntakeStatus.REFUSED):
        context["photo_form"] = forms.get("photo_form") or PhotoForm()
    if own and intake.status == IntakeStatus.AWAITING_DECISION:
        context["explanation_form"] = forms.get("explanation_form") or ExplanationForm(
            initial={"explanation": intake.explanation})
    if own and intake.status in (IntakeStatus.READY, IntakeStatus.AWAITING_DECISION):
        context["may_withdraw"] = True
    if regulator and intake.status == IntakeStatus.AWAITING_DECISION and \
            user.has_perm("scrapping.decide_mismatch", intake):
        context["decision_form"] = forms.get("decision_form") or DecisionForm()
    return render(request, "scrapping/intake_detail.html", context)


@persona_required("company", "reviewer", "admin")
@require_GET
@_not_found
def intake_detail(request, pk: int):
    _dismantler_gate(request)
    return _intake_page(request, selectors.intake_get(actor=request.user, pk=pk))


def _intake_action(request, pk: int, form_class, form_name: str, call, done: str, *, files: bool = False):
    """POST one form of the intake page to one service; a refusal is shown on that form, on the page as it is."""
    intake = selectors.intake_get(actor=request.user, pk=pk)
    form = form_class(request.POST, request.FILES) if files else form_class(request.POST)
    if form.is_valid():
        try:
            result = call(intake, form.cleaned_data)
        except NotFound:
            raise
        except DomainError as exc:
            if exc.status == 403:
                raise PermissionDenied(str(exc.message))
            if exc.field not in form.fields:
                messages.error(request, str(exc.message))
                return redirect("scrapping:intake", pk=intake.pk)
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            if hasattr(result, "number"):
                return redirect("scrapping:certificate", pk=result.pk)
            return redirect("scrapping:intake", pk=intake.pk)
    return _intake_page(request, intake, **{form_name: form})


@persona_required("company")
@require_POST
@_not_found
def intake_issue(request, pk: int):
    _dismantler_gate(request)
    return _intake_action(
        request, pk, IssueForm, "issue_form",
        lambda intake, d: services.scrapping_certificate_issue(actor=request.user, intake_id=intake.pk,
                                                               number=d["number"]),
        _("The scrapping certificate was issued. The vehicle is recorded as scrapped and its batteries as removed; "
          "hand them to a licensed recycler before the deadline shown."))


@persona_required("company")
@require_POST
@_not_found
def intake_photo(request, pk: int):
    _dismantler_gate(request)
    return _intake_action(
        request, pk, PhotoForm, "photo_form",
        lambda intake, d: services.scrapping_intake_photo_attach(actor=request.user, intake_id=intake.pk,
                                                                 kind=d["kind"], upload=d["file"]),
        _("The photo was saved."), files=True)


@persona_required("company")
@require_POST
@_not_found
def intake_explain(request, pk: int):
    _dismantler_gate(request)
    return _intake_action(
        request, pk, ExplanationForm, "explanation_form",
        lambda intake, d: services.scrapping_intake_explain(actor=request.user, intake_id=intake.pk,
                                                            explanation=d["explanation"]),
        _("Your explanation was saved for the reviewer."))


@persona_required("company")
@require_POST
@_not_found
def intake_withdraw(request, pk: int):
    _dismantler_gate(request)
    intake = selectors.intake_get(actor=request.user, pk=pk)
    try:
        services.scrapping_intake_withdraw(actor=request.user, intake_id=intake.pk)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The intake was withdrawn; vehicle %(vin)s may be taken in again.")
                         % {"vin": intake.vin})
    return redirect("scrapping:intake", pk=intake.pk)


@persona_required("reviewer", "admin")
@require_POST
@_not_found
def intake_decide(request, pk: int):
    return _intake_action(
        request, pk, DecisionForm, "decision_form",
        lambda intake, d: services.scrapping_intake_decide(actor=request.user, intake_id=intake.pk,
                                                           decision=d["decision"], reason=d["reason"]),
        _("Decision recorded."))


@persona_required("company", "reviewer", "admin")
@require_GET
@_not_found
def intake_photo_file(request, pk: int, kind: str):
    """An intake photo, only for those who may see the intake (never served as media)."""
    _dismantler_gate(request)
    intake = selectors.intake_get(actor=request.user, pk=pk)
    field = services.PHOTO_FIELDS.get(kind)
    photo = getattr(intake, field) if field else None
    if not photo:
        raise Http404
    suffix = PurePath(photo.name).suffix
    return FileResponse(photo.open("rb"), content_type="image/png" if suffix == ".png" else "image/jpeg",
                        filename=f"intake-{intake.pk}-{kind}{suffix}")


# --- certificates --------------------------------------------------------------------------------------------------


@persona_required("company", "reviewer", "admin")
def certificate_list(request):
    _dismantler_gate(request)
    form = CertificateSearchForm(request.GET or None, user=request.user)
    qs = selectors.certificate_list(actor=request.user, **form.filters())
    if response := exports.export_response(request, qs, CERTIFICATE_COLUMNS, filename="scrapping-certificates"):
        return response
    page, query = paginate(request, qs)
    calendar = WorkdayCalendar()
    rows = [(c, selectors.deadline_state(c, calendar=calendar)) for c in page.object_list]
    return render(request, "scrapping/certificate_list.html", {
        "form": form, "page": page, "rows": rows, "query": query, "searched": bool(query),
        "is_dismantler": _is_dismantler(request.user),
    })


def _certificate_page(request, certificate, **forms):
    user = request.user
    regulator = user.kind in ("reviewer", "admin") and user.has_perm("scrapping.void_certificate", certificate)
    superseded = hasattr(certificate, "replaced_by")
    context = {
        "certificate": certificate, "intake": certificate.intake,
        "batteries": [b for b in selectors.intake_batteries(certificate.intake) if b.found],
        "state": selectors.deadline_state(certificate), "changes": certificate.changes.select_related("actor"),
        "verify_url": verification_url(certificate.pk), "superseded": superseded,
        "handover_days": selectors.certificate_handover_days(certificate),
    }
    if regulator and certificate.status == CertificateStatus.VALID:
        context["void_form"] = forms.get("void_form") or VoidForm()
    if regulator and not superseded:
        context["reissue_form"] = forms.get("reissue_form") or ReissueForm()
    return render(request, "scrapping/certificate_detail.html", context)


@persona_required("company", "reviewer", "admin")
@require_GET
@_not_found
def certificate_detail(request, pk: int):
    _dismantler_gate(request)
    return _certificate_page(request, selectors.certificate_get(actor=request.user, pk=pk))


def _certificate_action(request, pk: int, form_class, form_name: str, call, done):
    certificate = selectors.certificate_get(actor=request.user, pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            result = call(certificate, form.cleaned_data)
        except NotFound:
            raise
        except DomainError as exc:
            if exc.status == 403:
                raise PermissionDenied(str(exc.message))
            if exc.field not in form.fields:
                messages.error(request, str(exc.message))
                return redirect("scrapping:certificate", pk=certificate.pk)
            add_domain_error(form, exc)
        else:
            messages.success(request, done(result))
            return redirect("scrapping:certificate", pk=result.pk)
    return _certificate_page(request, certificate, **{form_name: form})


@persona_required("reviewer", "admin")
@require_POST
@_not_found
def certificate_void(request, pk: int):
    return _certificate_action(
        request, pk, VoidForm, "void_form",
        lambda c, d: services.scrapping_certificate_void(actor=request.user, certificate_id=c.pk, reason=d["reason"]),
        lambda c: _("Certificate %(number)s was voided; its public verification page now says so.")
        % {"number": c.number})


@persona_required("reviewer", "admin")
@require_POST
@_not_found
def certificate_reissue(request, pk: int):
    return _certificate_action(
        request, pk, ReissueForm, "reissue_form",
        lambda c, d: services.scrapping_certificate_reissue(actor=request.user, certificate_id=c.pk,
                                                            number=d["number"], reason=d["reason"]),
        lambda c: _("Certificate %(number)s was issued in place of %(old)s.")
        % {"number": c.number, "old": c.replaces.number})


@persona_required("company", "reviewer", "admin")
@require_GET
@_not_found
def certificate_pdf(request, pk: int):
    """The PDF, for those who may see the certificate; rendered now if the background task has not yet."""
    _dismantler_gate(request)
    certificate = selectors.certificate_get(actor=request.user, pk=pk)
    if not certificate.pdf or not certificate.pdf.storage.exists(certificate.pdf.name):
        certificate = services.scrapping_certificate_pdf_store(certificate_id=certificate.pk, actor=request.user)
    return FileResponse(certificate.pdf.open("rb"), content_type="application/pdf",
                        filename=f"scrapping-certificate-{certificate.number}.pdf")


# --- public -------------------------------------------------------------------------------------------------------


def verify(request, token: str):
    """Public: is this certificate valid? Only non-personal facts (ADR 0008); a bad or tampered token reads
    *unknown*, never an error page."""
    certificate = selectors.certificate_public_get(token=token)
    if certificate is None:
        return render(request, "scrapping/verify.html", {"state": "unknown"}, status=404)
    replaced_by = getattr(certificate, "replaced_by", None)  # the reverse one-to-one raises when there is none
    return render(request, "scrapping/verify.html", {
        "state": certificate.status, "certificate": certificate, "masked_vin": rules.mask_vin(certificate.vin),
        "replaced_by": replaced_by, "battery_count": certificate.intake.batteries.filter(found=True).count(),
        "is_nev": certificate.intake.is_nev,
    })

