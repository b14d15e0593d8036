"""Pages for enterprises: registration, the applicant's status page, staff and API keys, reviewer decisions,
manufacturer codes, the licence register and the public list of licensed recyclers. All thin: forms check
shape, services decide."""
from __future__ import annotations

import pghistory.models
from django.contrib import messages
from django.contrib.auth import login
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import services as account_services
from apps.accounts.forms import APIKeyCreateForm, StaffInviteForm
from apps.accounts.models import APIKey
from apps.core import exports
from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.exports import Column
from apps.core.forms import add_domain_error
from apps.core.paging import paginate
from apps.enterprises import selectors, services
from apps.enterprises.forms import (
    DecisionForm,
    EnterpriseSearchForm,
    LicenceActionForm,
    LicenceGrantForm,
    ManufacturerCodeForm,
    ReasonForm,
    RecyclerSearchForm,
    RegistrationForm,
    ResubmitForm,
)
from apps.enterprises.models import Enterprise, LicenceScope, RecyclerLicence


def _not_found(view):
    from functools import wraps

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except NotFound:
            raise Http404
    return wrapper


# --- public ---------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    form = RegistrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.enterprise_register(
                company=form.company(), business_licence=form.cleaned_data["business_licence"],
                applicant_username=form.cleaned_data["applicant_username"],
                applicant_email=form.cleaned_data["applicant_email"],
                applicant_password=form.cleaned_data["applicant_password"],
                applicant_full_name=form.cleaned_data["applicant_full_name"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            user = enterprise.memberships.get().user
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your application was submitted. A reviewer will examine it."))
            return redirect("enterprises:application")
    return render(request, "enterprises/register.html", {"form": form})


def licensed_recyclers(request):
    """The published list of licensed recyclers, like the ministry's own, searchable by province and scope."""
    form = RecyclerSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.public_licensed_recyclers(
        on_date=timezone.localdate(), province=data.get("province") or None, scope=data.get("scope") or None,
        q=data.get("q") or None,
    )
    page, query = paginate(request, qs)
    return render(request, "enterprises/licensed_recyclers.html", {"form": form, "page": page, "query": query})


# --- the applicant ------------------------------------------------------------------------------------------


@persona_required("company")
def application(request):
    enterprise = request.user.enterprise
    if enterprise.status == Enterprise.Status.ACTIVE:
        return redirect("enterprises:profile")
    from apps.filings.forms import CommentForm

    from apps.enterprises.models import EnterpriseRegistration

    registration = EnterpriseRegistration.objects.select_related("filing").filter(enterprise=enterprise).first()
    filing = registration.filing if registration is not None else None
    return render(request, "enterprises/application.html", {
        "enterprise": enterprise, "changes": enterprise.status_changes.select_related("actor")[:50],
        "filing": filing, "comment_form": CommentForm(),
        "comments": filing.comments.select_related("author") if filing is not None else [],
    })


@persona_required("enterprise_admin")
@require_http_methods(["GET", "POST"])
def application_edit(request):
    enterprise = request.user.enterprise
    if enterprise.status != Enterprise.Status.RETURNED:
        return redirect("enterprises:application")
    initial = {f: getattr(enterprise, f) for f in ResubmitForm.COMPANY_FIELDS}
    form = ResubmitForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_registration_resubmit(
                actor=request.user, enterprise=enterprise, company=form.company(),
                business_licence=form.cleaned_data.get("business_licence") or None,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your corrected application was resubmitted."))
            return redirect("enterprises:application")
    return render(request, "enterprises/application_edit.html", {"form": form, "enterprise": enterprise})


@persona_required("company", "reviewer", "admin")
@_not_found
def business_licence_download(request, pk: int):
    enterprise = selectors.enterprise_get(actor=request.user, pk=pk)
    if not enterprise.business_licence:
        raise Http404
    return FileResponse(enterprise.business_licence.open("rb"), content_type="application/pdf",
                        filename=f"business-licence-{enterprise.uscc}.pdf")


# --- company staff ------------------------------------------------------------------------------------------


@persona_required("company")
def profile(request):
    enterprise = request.user.enterprise
    return render(request, "enterprises/profile.html", {
        "enterprise": enterprise,
        "codes": enterprise.manufacturer_codes.all(),
        "licences": enterprise.licences.all(),
    })


@persona_required("company")
@require_http_methods(["GET", "POST"])
def staff(request):
    enterprise = request.user.enterprise
    is_admin = request.user.membership.role == "admin"
    form = StaffInviteForm(request.POST or None) if is_admin else None
    if request.method == "POST":
        if not is_admin:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied  # a filer sees the list but may not invite: a role question, so 403
        if form.is_valid():
            try:
                account_services.staff_invite(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
                return redirect("enterprises:staff")
    page, query = paginate(request, selectors.staff_list(actor=request.user, enterprise=enterprise))
    return render(request, "enterprises/staff.html", {"page": page, "query": query, "form": form, "is_admin": is_admin})


@persona_required("enterprise_admin")
@require_POST
@_not_found
def staff_toggle(request, pk: int, action: str):
    try:
        if action == "deactivate":
            membership = account_services.staff_deactivate(actor=request.user, membership_id=pk)
            messages.success(request, _("%(user)s can no longer sign in.") % {"user": membership.user})
        else:
            membership = account_services.staff_reactivate(actor=request.user, membership_id=pk)
            messages.success(request, _("%(user)s can sign in again.") % {"user": membership.user})
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("enterprises:staff")


@persona_required("enterprise_admin")
@require_http_methods(["GET", "POST"])
def api_keys(request):
    form = APIKeyCreateForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            key, new_secret = account_services.api_key_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            form = APIKeyCreateForm()
    keys = APIKey.objects.filter(enterprise=request.user.enterprise).select_related("created_by").order_by("-created_at")
    page, query = paginate(request, keys)
    return render(request, "enterprises/api_keys.html", {"form": form, "page": page, "query": query,
                                                         "new_secret": new_secret})


@persona_required("enterprise_admin")
@require_POST
@_not_found
def api_key_revoke(request, pk: int):
    key = account_services.api_key_revoke(actor=request.user, key_id=pk)
    messages.success(request, _("API key %(key)s was revoked.") % {"key": key})
    return redirect("enterprises:api_keys")


# --- reviewers and admins -----------------------------------------------------------------------------------


# The columns of the reviewers' exports (apps.core.exports), as the lists show them.
ENTERPRISE_COLUMNS = [
    Column(gettext_lazy("Company name"), "name"),
    Column(gettext_lazy("Unified social credit code"), "uscc"),
    Column(gettext_lazy("Province"), "get_province_display"),
    Column(gettext_lazy("Roles"), "roles_display"),
    Column(gettext_lazy("Status"), "get_status_display"),
    Column(gettext_lazy("Submitted"), "created_at"),
]
LICENCE_COLUMNS = [
    Column(gettext_lazy("Licence number"), "number"),
    Column(gettext_lazy("Recycler"), "enterprise.name"),
    Column(gettext_lazy("Unified social credit code"), "enterprise.uscc"),
    Column(gettext_lazy("Scope"), "scopes_display"),
    Column(gettext_lazy("Annual capacity (tonnes)"), "annual_capacity_tonnes"),
    Column(gettext_lazy("Valid from"), "valid_from"),
    Column(gettext_lazy("Valid to"), "valid_to"),
    Column(gettext_lazy("Status"), "get_status_display"),
]


@persona_required("reviewer", "admin")
def review_list(request):
    form = EnterpriseSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.enterprise_list(actor=request.user, status=data.get("status") or None,
                                   province=data.get("province") or None, q=data.get("q") or None)
    counts = dict(
        Enterprise.objects.visible_to(request.user).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    if response := exports.export_response(request, qs, ENTERPRISE_COLUMNS, filename="enterprises"):
        return response
    page, query = paginate(request, qs)
    return render(request, "enterprises/review_list.html", {"form": form, "page": page, "query": query,
                                                            "counts": counts})


@persona_required("reviewer", "admin")
@require_http_methods(["GET", "POST"])
@_not_found
def review_detail(request, pk: int):
    enterprise = selectors.enterprise_get(actor=request.user, pk=pk)
    decision_form = DecisionForm(request.POST if "decision" in request.POST else None)
    reason_form = ReasonForm(request.POST if "reason" in request.POST and "decision" not in request.POST else None)
    code_form = ManufacturerCodeForm(request.POST if "code" in request.POST else None)
    if request.method == "POST":
        try:
            if decision_form.is_bound and decision_form.is_valid():
                action = {
                    "approve": services.enterprise_registration_approve,
                    "return": services.enterprise_registration_return,
                    "reject": services.enterprise_registration_reject,
                }[decision_form.cleaned_data["decision"]]
                action(actor=request.user, enterprise=enterprise, comment=decision_form.cleaned_data["comment"])
                messages.success(request, _("Decision recorded."))
                return redirect("enterprises:review_detail", pk=pk)
            if reason_form.is_bound and reason_form.is_valid():
                if enterprise.status == Enterprise.Status.SUSPENDED:
                    services.enterprise_reinstate(actor=request.user, enterprise=enterprise,
                                                  reason=reason_form.cleaned_data["reason"])
                    messages.success(request, _("The enterprise was reinstated."))
                else:
                    services.enterprise_suspend(actor=request.user, enterprise=enterprise,
                                                reason=reason_form.cleaned_data["reason"])
                    messages.success(request, _("The enterprise was suspended."))
                return redirect("enterprises:review_detail", pk=pk)
            if code_form.is_bound and code_form.is_valid():
                services.manufacturer_code_assign(actor=request.user, enterprise=enterprise,
                                                  code=code_form.cleaned_data["code"])
                messages.success(request, _("Manufacturer code assigned."))
                return redirect("enterprises:review_detail", pk=pk)
        except DomainError as exc:
            if exc.status == 403:
                from django.core.exceptions import PermissionDenied

                raise PermissionDenied(str(exc.message))
            target = decision_form if decision_form.is_bound else reason_form if reason_form.is_bound else code_form
            if exc.field not in target.fields:
                # Not about a field (e.g. another reviewer decided first): the form may no longer be on the page,
                # so say it above the page as it now is.
                messages.error(request, str(exc.message))
                return redirect("enterprises:review_detail", pk=pk)
            add_domain_error(target, exc)
    return render(request, "enterprises/review_detail.html", {
        "enterprise": enterprise,
        "decision_form": decision_form, "reason_form": reason_form, "code_form": code_form,
        "changes": enterprise.status_changes.select_related("actor")[:50],
        "members": enterprise.memberships.select_related("user").order_by("user__username"),
        "codes": enterprise.manufacturer_codes.all(),
        "licences": enterprise.licences.all(),
    })


@persona_required("reviewer", "admin")
@_not_found
def enterprise_history(request, pk: int):
    """Every recorded change of the enterprise and of its memberships, codes and licences (pghistory)."""
    enterprise = selectors.enterprise_get(actor=request.user, pk=pk)
    # references(): the enterprise's own events plus those of every tracked row with a foreign key to it
    # (memberships, manufacturer codes, licences).
    events = pghistory.models.Events.objects.references(enterprise).order_by("-pgh_created_at")
    page, query = paginate(request, events, per_page=50)
    return render(request, "enterprises/history.html", {"enterprise": enterprise, "page": page, "query": query})


@persona_required("admin", "reviewer")
@require_http_methods(["GET", "POST"])
def licence_list(request):
    """Reviewers read the register; only admins grant."""
    is_admin = request.user.kind == "admin"
    form = LicenceGrantForm(request.POST or None) if is_admin else None
    if request.method == "POST" and not is_admin:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        try:
            licence = services.recycler_licence_grant(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Licence %(number)s granted.") % {"number": licence.number})
            return redirect("enterprises:licence_detail", pk=licence.pk)
    status = request.GET.get("status") or None
    qs = selectors.licence_list(actor=request.user, status=status)
    if response := exports.export_response(request, qs, LICENCE_COLUMNS, filename="licences"):
        return response
    page, query = paginate(request, qs)
    return render(request, "enterprises/licence_list.html", {"form": form, "page": page, "query": query,
                                                             "status": status,
                                                             "statuses": RecyclerLicence.Status.choices})


@persona_required("admin", "reviewer")
@require_http_methods(["GET", "POST"])
@_not_found
def licence_detail(request, pk: int):
    licence = selectors.licence_list(actor=request.user).filter(pk=pk).first()
    if licence is None:
        raise Http404
    form = LicenceActionForm(request.POST or None) if request.user.kind == "admin" else None
    if request.method == "POST":
        if form is None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            action = {
                "suspend": services.recycler_licence_suspend,
                "reinstate": services.recycler_licence_reinstate,
                "revoke": services.recycler_licence_revoke,
            }[form.cleaned_data["action"]]
            try:
                action(actor=request.user, licence=licence, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                if exc.field not in form.fields:
                    # e.g. revoked meanwhile by another admin: the form is gone from the page, so say it above it
                    messages.error(request, str(exc.message))
                    return redirect("enterprises:licence_detail", pk=pk)
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Licence updated."))
                return redirect("enterprises:licence_detail", pk=pk)
    return render(request, "enterprises/licence_detail.html", {
        "licence": licence, "form": form, "changes": licence.changes.select_related("actor"),
        "scopes": dict(LicenceScope.choices),
    })


# --- licence applications (a filing: the shared detail, review and thread pages do the rest) ----------------


@persona_required("company")
@require_http_methods(["GET", "POST"])
def licence_application_create(request):
    from apps.enterprises.forms import LicenceApplicationForm

    form = LicenceApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            filing = services.licence_application_create(actor=request.user, data=form.data_for_service(),
                                                         document=form.cleaned_data["document"])
        except DomainError as exc:
            if exc.status == 403:
                from django.core.exceptions import PermissionDenied

                raise PermissionDenied(str(exc.message))
            if exc.field in form.fields:
                add_domain_error(form, exc)
            else:
                form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Draft saved. Check it, then submit it for review."))
            return redirect("filings:detail", pk=filing.pk)
    return render(request, "enterprises/licence_application_form.html", {"form": form, "filing": None})


@persona_required("company")
@require_http_methods(["GET", "POST"])
@_not_found
def licence_application_edit(request, pk: int):
    from apps.enterprises.forms import LicenceApplicationForm
    from apps.filings.selectors import filing_get

    filing = filing_get(actor=request.user, pk=pk)
    if filing.kind != "licence_application":
        raise Http404
    application = filing.licence_application
    initial = {k: getattr(application, k) for k in application.TERMS}
    form = LicenceApplicationForm(request.POST or None, request.FILES or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_application_update(actor=request.user, filing_id=filing.pk,
                                                data=form.data_for_service(),
                                                document=form.cleaned_data.get("document") or None)
        except DomainError as exc:
            if exc.field in form.fields:
                add_domain_error(form, exc)
            else:
                messages.error(request, str(exc.message))
                return redirect("filings:detail", pk=pk)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("filings:detail", pk=pk)
    return render(request, "enterprises/licence_application_form.html", {"form": form, "filing": filing})


@persona_required("company", "reviewer", "admin")
@_not_found
def licence_application_document(request, pk: int):
    from apps.filings.selectors import filing_get

    filing = filing_get(actor=request.user, pk=pk)
    if filing.kind != "licence_application" or not filing.licence_application.document:
        raise Http404
    return FileResponse(filing.licence_application.document.open("rb"), content_type="application/pdf",
                        filename=f"licence-application-{filing.pk}.pdf")


@persona_required("company")
@require_POST
def application_comment(request):
    """The applicant writes in the registration's comment thread (the shared filing pages are not open to an
    enterprise that is not active yet)."""
    from apps.filings.forms import CommentForm
    from apps.filings.services import filing_comment_add

    from apps.enterprises.models import EnterpriseRegistration

    registration = EnterpriseRegistration.objects.filter(enterprise=request.user.enterprise).first()
    if registration is None:
        raise Http404
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            filing_comment_add(actor=request.user, filing_id=registration.pk, body=form.cleaned_data["body"],
                               attachment=form.cleaned_data["attachment"])
            messages.success(request, _("Comment added."))
        except DomainError as exc:
            messages.error(request, str(exc.message))
    else:
        messages.error(request, _("Write a comment."))
    return redirect("enterprises:application")
