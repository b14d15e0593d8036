"""Writes for enterprises, manufacturer codes and the licensed-recycler list.

Every entry point (web form, API, admin, management command) calls these; none re-implements a rule.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.core.choices import Chemistry, Province
from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.services import service
from apps.core.validators import check_pdf_upload, reject_markup
from apps.enterprises import rules as enterprise_rules
from apps.enterprises.models import (
    Enterprise,
    EnterpriseRole,
    EnterpriseRegistration,
    EnterpriseStatusChange,
    LicenceApplication,
    LicenceChange,
    LicenceScope,
    ManufacturerCode,
    Membership,
    RecyclerLicence,
)
from apps.enterprises.permissions import require
from apps.core.text import ascii_upper

# --- identifiers --------------------------------------------------------------------------------------------


def uscc_validate(raw: str, *, field: str = "uscc") -> str:
    """Normalise and check a unified social credit code; the error names the position and the rule."""
    code = enterprise_rules.normalise_uscc(raw)
    problem = enterprise_rules.uscc_problem(code)
    if problem is None:
        return code
    if problem.rule == "length":
        message = _("A unified social credit code has 18 characters; %(count)d were given.") % {"count": len(code)}
    elif problem.rule == "alphabet":
        message = _(
            "Character %(char)s at position %(pos)d is not allowed in a unified social credit code "
            "(digits and upper-case letters except I, O, S, V, Z; GB 32100-2015)."
        ) % {"char": problem.character, "pos": problem.position}
    else:
        message = _(
            "Check character at position 18 is %(found)s but should be %(expected)s for the first 17 "
            "characters (GB 32100-2015): please check the code for a typing error."
        ) % {"found": problem.character, "expected": problem.expected}
    raise DomainError(code=ErrorCode.USCC_INVALID, message=message, field=field)


def _uscc_must_be_free(code: str, *, exclude_pk=None) -> None:
    clash = Enterprise.objects.filter(uscc=code).exclude(status=Enterprise.Status.REJECTED)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise DomainError(
            code=ErrorCode.USCC_DUPLICATE,
            message=_("An enterprise with unified social credit code %(code)s is already registered or under review.")
            % {"code": code},
            field="uscc",
        )


def _clean_company_fields(data: dict) -> dict:
    cleaned = {}
    for field in ("name", "address", "contact_name", "contact_phone"):
        value = reject_markup(str(data.get(field, "") or ""), field=field)
        if not value:
            raise DomainError(code=ErrorCode.INVALID, message=_("This field is required."), field=field)
        cleaned[field] = value
    cleaned["contact_email"] = _email(data.get("contact_email"), field="contact_email", max_length=254)
    province = data.get("province")
    if province not in Province.values:
        raise DomainError(code=ErrorCode.INVALID, message=_("Choose a province from the list."), field="province")
    cleaned["province"] = province
    roles = list(dict.fromkeys(data.get("roles") or []))
    if not roles:
        raise DomainError(code=ErrorCode.ROLE_REQUIRED, message=_("Choose at least one role."), field="roles")
    unknown = [r for r in roles if r not in EnterpriseRole.values]
    if unknown:
        raise DomainError(code=ErrorCode.INVALID, message=_("Unknown role: %(role)s.") % {"role": unknown[0]}, field="roles")
    cleaned["roles"] = roles
    cleaned["uscc"] = uscc_validate(data.get("uscc", ""))
    return cleaned


def _email(raw, *, field: str, max_length: int) -> str:
    from django.core.validators import validate_email

    email = str(raw or "").strip()
    if not email:
        raise DomainError(code=ErrorCode.INVALID, message=_("This field is required."), field=field)
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(code=ErrorCode.INVALID, message=_("Enter a valid e-mail address."), field=field)
    if len(email) > max_length:
        raise DomainError(code=ErrorCode.INVALID,
                          message=_("This e-mail address has %(n)d characters; at most %(max)d are allowed.")
                          % {"n": len(email), "max": max_length}, field=field)
    return email


def _record_status(enterprise: Enterprise, *, action: str, actor, comment: str = "", from_status: str = "") -> None:
    EnterpriseStatusChange.objects.create(
        enterprise=enterprise, action=action, from_status=from_status, to_status=enterprise.status,
        comment=comment, actor=actor,
    )


# --- registration -------------------------------------------------------------------------------------------


@service
def enterprise_register(
    *,
    actor=None,
    company: dict,
    business_licence,
    applicant_username: str,
    applicant_email: str,
    applicant_password: str,
    applicant_full_name: str = "",
) -> Enterprise:
    """A company applies to join (public form or API). It becomes *pending*; its applicant can sign in to
    follow the application and becomes the enterprise administrator when a reviewer approves it."""
    cleaned = _clean_company_fields(company)
    _uscc_must_be_free(cleaned["uscc"])
    if business_licence is None:
        raise DomainError(code=ErrorCode.FILE_NOT_PDF, message=_("Attach the business licence as a PDF."),
                          field="business_licence")
    check_pdf_upload(business_licence, field="business_licence", max_bytes=settings.BUSINESS_LICENCE_MAX_BYTES)

    applicant_username = reject_markup(applicant_username, field="applicant_username")
    applicant_email = _email(applicant_email, field="applicant_email", max_length=254)
    if not applicant_username or len(applicant_username) > 150:
        raise DomainError(code=ErrorCode.INVALID, message=_("A user name has 1 to 150 characters."),
                          field="applicant_username")
    applicant_full_name = reject_markup(applicant_full_name, field="applicant_full_name")
    if User.objects.filter(username__iexact=applicant_username).exists():
        raise DomainError(code=ErrorCode.USER_ALREADY_EXISTS, message=_("This user name is taken."),
                          field="applicant_username")
    if User.objects.annotate(e=Lower("email")).filter(e=applicant_email.strip().lower()).exists():
        raise DomainError(code=ErrorCode.USER_ALREADY_EXISTS,
                          message=_("An account with this e-mail address already exists."), field="applicant_email")
    user = User(username=applicant_username, email=applicant_email.strip(), full_name=applicant_full_name,
                kind=User.Kind.COMPANY)
    try:
        validate_password(applicant_password, user)
    except ValidationError as exc:
        raise DomainError(code=ErrorCode.INVALID, message=" ".join(exc.messages), field="applicant_password")
    user.set_password(applicant_password)
    user.save()

    enterprise = Enterprise(**cleaned, status=Enterprise.Status.PENDING, created_by=user, updated_by=user)
    enterprise.business_licence.save("licence.pdf", business_licence, save=False)
    try:
        enterprise.save()
    except IntegrityError:  # a concurrent registration took the code between our check and the insert
        raise DomainError(code=ErrorCode.USCC_DUPLICATE,
                          message=_("An enterprise with this unified social credit code is already registered."),
                          field="uscc")
    Membership.objects.create(user=user, enterprise=enterprise, role=Membership.Role.ADMIN, created_by=user)
    _record_status(enterprise, action=EnterpriseStatusChange.Action.SUBMITTED, actor=user)
    _registration_filing(enterprise, actor=user)
    return enterprise


# The registration is reviewed as a filing of kind enterprise_registration (ADR 0016): these services keep their
# names and callers (the application and review pages, the API) and drive the shared workflow; the workflow calls
# registration_filing_moved back for what a transition does to the enterprise.


def _registration_filing(enterprise: Enterprise, *, actor):
    """The registration filing of an application, made now for an application that predates the workflow."""
    from apps.filings.models import FilingKind, FilingStatus
    from apps.filings.services import filing_open_submitted

    registration = EnterpriseRegistration.objects.select_related("filing").filter(enterprise=enterprise).first()
    if registration is not None:
        return registration.filing
    if enterprise.status not in (Enterprise.Status.PENDING, Enterprise.Status.RETURNED):
        raise DomainError(
            code=ErrorCode.REGISTRATION_NOT_PENDING, status=409,
            message=_("This application is %(status)s, not pending review; it may have been decided already.")
            % {"status": enterprise.get_status_display()})
    applicant = (Membership.objects.filter(enterprise=enterprise, role=Membership.Role.ADMIN).select_related("user")
                 .order_by("pk").first())
    filing = filing_open_submitted(actor=applicant.user if applicant else actor,
                                   kind=FilingKind.ENTERPRISE_REGISTRATION, enterprise=enterprise)
    if enterprise.status == Enterprise.Status.RETURNED:
        filing.status = FilingStatus.RETURNED
        filing.save(update_fields=["status"])
    EnterpriseRegistration.objects.create(filing=filing, enterprise=enterprise)
    return filing


@service
def enterprise_registration_resubmit(*, actor, enterprise: Enterprise, company: dict, business_licence=None) -> Enterprise:
    """The applicant corrects an application that a reviewer returned, and sends it back for review."""
    from apps.filings.models import Filing
    from apps.filings.services import filing_resubmit

    membership = actor.membership
    if membership is None or membership.enterprise_id != enterprise.pk:
        raise DomainError(code=ErrorCode.NOT_FOUND, message=_("Not found."), status=404)
    filing = _registration_filing(enterprise, actor=actor)
    Filing.objects.select_for_update().get(pk=filing.pk)  # lock order: the filing, then the enterprise
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if enterprise.status != Enterprise.Status.RETURNED:
        raise DomainError(code=ErrorCode.REGISTRATION_NOT_RETURNED,
                          message=_("Only an application returned for correction can be resubmitted."))
    cleaned = _clean_company_fields(company)
    _uscc_must_be_free(cleaned["uscc"], exclude_pk=enterprise.pk)
    if business_licence is not None:
        check_pdf_upload(business_licence, field="business_licence", max_bytes=settings.BUSINESS_LICENCE_MAX_BYTES)
        enterprise.business_licence.save("licence.pdf", business_licence, save=False)
    for key, value in cleaned.items():
        setattr(enterprise, key, value)
    enterprise.updated_by = actor
    enterprise.save()
    filing_resubmit(actor=actor, filing_id=filing.pk)
    return Enterprise.objects.get(pk=enterprise.pk)


def _registration_decide(actor, enterprise: Enterprise, *, action: str, comment: str) -> Enterprise:
    from apps.filings.models import FilingStatus
    from apps.filings import services as filing_services

    require(actor, "enterprises.review_registration", enterprise)
    current = Enterprise.objects.get(pk=enterprise.pk)
    if current.status != Enterprise.Status.PENDING:
        raise DomainError(
            code=ErrorCode.REGISTRATION_NOT_PENDING,
            message=_("This application is %(status)s, not pending review; it may have been decided already.")
            % {"status": current.get_status_display()},
        )
    comment = (comment or "").strip()
    if action != "approve" and not comment:
        raise DomainError(code=ErrorCode.COMMENT_REQUIRED, message=_("Give the applicant a comment explaining why."),
                          field="comment")
    filing = _registration_filing(current, actor=actor)
    if filing.status in (FilingStatus.SUBMITTED, FilingStatus.RESUBMITTED):
        filing_services.filing_claim(actor=actor, filing_id=filing.pk)
    decide = {"approve": filing_services.filing_approve, "reject": filing_services.filing_reject,
              "return": filing_services.filing_return}[action]
    decide(actor=actor, filing_id=filing.pk, comment=comment)
    return Enterprise.objects.get(pk=enterprise.pk)


@service
def enterprise_registration_approve(*, actor, enterprise: Enterprise, comment: str = "") -> Enterprise:
    """On approval the applicant (already the membership's admin) can use the portal in full."""
    return _registration_decide(actor, enterprise, action="approve", comment=comment)


@service
def enterprise_registration_reject(*, actor, enterprise: Enterprise, comment: str) -> Enterprise:
    return _registration_decide(actor, enterprise, action="reject", comment=comment)


@service
def enterprise_registration_return(*, actor, enterprise: Enterprise, comment: str) -> Enterprise:
    return _registration_decide(actor, enterprise, action="return", comment=comment)


# What each transition of a registration filing does to the enterprise: (status before, status after, recorded as).
_REGISTRATION_EFFECTS = {
    "approve": (Enterprise.Status.PENDING, Enterprise.Status.ACTIVE, EnterpriseStatusChange.Action.APPROVED),
    "reject": (Enterprise.Status.PENDING, Enterprise.Status.REJECTED, EnterpriseStatusChange.Action.REJECTED),
    "return": (Enterprise.Status.PENDING, Enterprise.Status.RETURNED, EnterpriseStatusChange.Action.RETURNED),
    "resubmit": (Enterprise.Status.RETURNED, Enterprise.Status.PENDING, EnterpriseStatusChange.Action.RESUBMITTED),
}


def registration_filing_moved(filing, *, actor, action: str, comment: str) -> None:
    """Called by the filings workflow inside its transaction (apps.filings.services.KIND_EFFECTS): approval
    activates the enterprise, rejection rejects it, a return sends it back to the applicant, a resubmission puts
    it before the reviewers again; each recorded in the enterprise's status history."""
    effect = _REGISTRATION_EFFECTS.get(action)
    if effect is None:
        return
    from_status, to_status, recorded = effect
    enterprise = Enterprise.objects.select_for_update().get(pk=filing.enterprise_id)
    if action != "resubmit":
        require(actor, "enterprises.review_registration", enterprise)
    if enterprise.status != from_status:
        raise DomainError(
            code=ErrorCode.REGISTRATION_NOT_PENDING if action != "resubmit" else ErrorCode.REGISTRATION_NOT_RETURNED,
            message=_("This application is %(status)s, not pending review; it may have been decided already.")
            % {"status": enterprise.get_status_display()}, status=409)
    enterprise.status = to_status
    enterprise.status_reason = "" if action == "resubmit" else comment
    enterprise.updated_by = actor
    if to_status == Enterprise.Status.ACTIVE:
        enterprise.approved_at = timezone.now()
    enterprise.save()
    _record_status(enterprise, action=recorded, actor=actor, comment=comment, from_status=from_status)


@service
def enterprise_suspend(*, actor, enterprise: Enterprise, reason: str) -> Enterprise:
    """A suspended enterprise's users and API keys are refused until it is reinstated."""
    require(actor, "enterprises.suspend", enterprise)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if enterprise.status != Enterprise.Status.ACTIVE:
        raise DomainError(code=ErrorCode.ENTERPRISE_STATUS_INVALID, message=_("Only an active enterprise can be suspended."))
    if not (reason or "").strip():
        raise DomainError(code=ErrorCode.REASON_REQUIRED, message=_("Give the reason."), field="reason")
    enterprise.status = Enterprise.Status.SUSPENDED
    enterprise.status_reason = reason.strip()
    enterprise.updated_by = actor
    enterprise.save()
    _record_status(enterprise, action=EnterpriseStatusChange.Action.SUSPENDED, actor=actor, comment=reason.strip(),
                   from_status=Enterprise.Status.ACTIVE)
    return enterprise


@service
def enterprise_reinstate(*, actor, enterprise: Enterprise, reason: str = "") -> Enterprise:
    require(actor, "enterprises.suspend", enterprise)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if enterprise.status != Enterprise.Status.SUSPENDED:
        raise DomainError(code=ErrorCode.ENTERPRISE_STATUS_INVALID, message=_("Only a suspended enterprise can be reinstated."))
    enterprise.status = Enterprise.Status.ACTIVE
    enterprise.status_reason = ""
    enterprise.updated_by = actor
    enterprise.save()
    _record_status(enterprise, action=EnterpriseStatusChange.Action.REINSTATED, actor=actor, comment=(reason or "").strip(),
                   from_status=Enterprise.Status.SUSPENDED)
    return enterprise


# --- manufacturer codes -------------------------------------------------------------------------------------


@service
def manufacturer_code_assign(*, actor, enterprise: Enterprise, code: str) -> ManufacturerCode:
    """GB/T 34014 positions 1–3 are assigned to one battery maker; unique across the country."""
    require(actor, "enterprises.assign_manufacturer_code")
    code = ascii_upper(code)
    problem = enterprise_rules.manufacturer_code_problem(code)
    if problem is not None:
        if problem.rule == "length":
            message = _("A manufacturer code has exactly 3 characters; %(count)d were given.") % {"count": len(code)}
        else:
            message = _("Character %(char)s at position %(pos)d is not allowed: use digits 0-9 and letters A-Z.") % {
                "char": problem.character, "pos": problem.position}
        raise DomainError(code=ErrorCode.MANUFACTURER_CODE_INVALID, message=message, field="code")
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if not enterprise.has_role(EnterpriseRole.BATTERY_MAKER):
        raise DomainError(code=ErrorCode.NOT_A_BATTERY_MAKER,
                          message=_("Manufacturer codes are assigned only to battery makers."), field="enterprise")
    holder = ManufacturerCode.objects.filter(code=code).select_related("enterprise").first()
    if holder is not None:
        raise DomainError(code=ErrorCode.MANUFACTURER_CODE_TAKEN,
                          message=_("Manufacturer code %(code)s is already assigned to %(holder)s.")
                          % {"code": code, "holder": holder.enterprise.name}, field="code")
    try:
        return ManufacturerCode.objects.create(code=code, enterprise=enterprise, created_by=actor, updated_by=actor)
    except IntegrityError:
        raise DomainError(code=ErrorCode.MANUFACTURER_CODE_TAKEN,
                          message=_("Manufacturer code %(code)s is already assigned.") % {"code": code}, field="code")


# --- licensed recyclers -------------------------------------------------------------------------------------


def _licence_terms(*, scopes, chemistries, annual_capacity_tonnes, valid_from: date, valid_to: date, today: date):
    scopes = list(dict.fromkeys(scopes or []))
    chemistries = list(dict.fromkeys(chemistries or []))
    if not scopes:
        raise DomainError(code=ErrorCode.LICENCE_SCOPE_REQUIRED, message=_("Choose at least one scope."), field="scopes")
    if any(s not in LicenceScope.values for s in scopes):
        raise DomainError(code=ErrorCode.INVALID, message=_("Unknown scope."), field="scopes")
    if not chemistries:
        raise DomainError(code=ErrorCode.LICENCE_CHEMISTRY_REQUIRED, message=_("Choose at least one chemistry."),
                          field="chemistries")
    if any(c not in Chemistry.values for c in chemistries):
        raise DomainError(code=ErrorCode.INVALID, message=_("Unknown chemistry."), field="chemistries")
    try:
        capacity = Decimal(str(annual_capacity_tonnes))
    except (InvalidOperation, ValueError):
        capacity = None
    # at most what the column holds (12 digits, 3 after the point): a larger figure would fail in the database
    if capacity is None or not capacity.is_finite() or capacity <= 0 or capacity >= Decimal("1000000000"):
        raise DomainError(code=ErrorCode.LICENCE_CAPACITY_INVALID,
                          message=_("Annual capacity must be a number of tonnes greater than zero."),
                          field="annual_capacity_tonnes")
    if valid_from is None or valid_to is None or valid_to < valid_from:
        raise DomainError(code=ErrorCode.LICENCE_DATES_INVALID,
                          message=_("'Valid to' must be on or after 'valid from'."), field="valid_to")
    if valid_to < today:
        raise DomainError(code=ErrorCode.LICENCE_EXPIRED,
                          message=_("This licence would already be expired (valid to %(date)s).") % {"date": valid_to},
                          field="valid_to")
    return scopes, chemistries, capacity


def _require_licence_free(enterprise: Enterprise, *, number: str, valid_from: date, valid_to: date) -> None:
    """ADR 0003: a licence number is used once, and an enterprise's licences (revoked ones aside) never overlap in
    time. Checked on a grant (under the enterprise's row lock) and when a recycler applies."""
    if RecyclerLicence.objects.filter(number=number).exists():
        raise DomainError(code=ErrorCode.LICENCE_NUMBER_TAKEN,
                          message=_("Licence number %(number)s is already used.") % {"number": number}, field="number")
    overlapping = (
        RecyclerLicence.objects.filter(enterprise=enterprise, valid_from__lte=valid_to, valid_to__gte=valid_from)
        .exclude(status=RecyclerLicence.Status.REVOKED)
        .first()
    )
    if overlapping is not None:
        raise DomainError(
            code=ErrorCode.LICENCE_OVERLAP,
            message=_("Licence %(number)s of this enterprise already covers %(start)s to %(end)s; the periods may not overlap.")
            % {"number": overlapping.number, "start": overlapping.valid_from, "end": overlapping.valid_to},
            field="valid_from",
        )


@service
def recycler_licence_grant(
    *, actor, enterprise: Enterprise, number: str, scopes, chemistries, annual_capacity_tonnes,
    valid_from: date, valid_to: date,
) -> RecyclerLicence:
    """An admin lists a recycler. Its licences may not overlap in time (one licence in force at a time)."""
    require(actor, "enterprises.manage_licences")
    number = reject_markup((number or "").strip(), field="number")
    if not number:
        raise DomainError(code=ErrorCode.INVALID, message=_("This field is required."), field="number")
    scopes, chemistries, capacity = _licence_terms(
        scopes=scopes, chemistries=chemistries, annual_capacity_tonnes=annual_capacity_tonnes,
        valid_from=valid_from, valid_to=valid_to, today=timezone.localdate(),
    )
    # Lock the holder so two admins granting at once cannot both pass the overlap check.
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if not enterprise.has_role(EnterpriseRole.RECYCLER):
        raise DomainError(code=ErrorCode.NOT_A_RECYCLER,
                          message=_("Only an enterprise with the recycler role can be licensed."), field="enterprise")
    if enterprise.status != Enterprise.Status.ACTIVE:
        raise DomainError(code=ErrorCode.ENTERPRISE_NOT_ACTIVE,
                          message=_("The enterprise is not active (%(status)s).") % {"status": enterprise.get_status_display()},
                          field="enterprise")
    _require_licence_free(enterprise, number=number, valid_from=valid_from, valid_to=valid_to)
    licence = RecyclerLicence.objects.create(
        enterprise=enterprise, number=number, scopes=scopes, chemistries=chemistries,
        annual_capacity_tonnes=capacity, valid_from=valid_from, valid_to=valid_to,
        created_by=actor, updated_by=actor,
    )
    LicenceChange.objects.create(licence=licence, action=LicenceChange.Action.GRANTED, actor=actor)
    return licence


_LICENCE_TRANSITIONS = {
    LicenceChange.Action.SUSPENDED: ({RecyclerLicence.Status.ACTIVE}, RecyclerLicence.Status.SUSPENDED),
    LicenceChange.Action.REINSTATED: ({RecyclerLicence.Status.SUSPENDED}, RecyclerLicence.Status.ACTIVE),
    LicenceChange.Action.REVOKED: ({RecyclerLicence.Status.ACTIVE, RecyclerLicence.Status.SUSPENDED},
                                   RecyclerLicence.Status.REVOKED),
}


def _licence_change(actor, licence: RecyclerLicence, action: str, reason: str) -> RecyclerLicence:
    require(actor, "enterprises.manage_licences")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(code=ErrorCode.REASON_REQUIRED, message=_("Give the reason."), field="reason")
    licence = RecyclerLicence.objects.select_for_update().get(pk=licence.pk)
    allowed_from, to_status = _LICENCE_TRANSITIONS[action]
    if licence.status not in allowed_from:
        raise DomainError(code=ErrorCode.LICENCE_STATUS_INVALID,
                          message=_("A licence that is %(status)s cannot be %(action)s.")
                          % {"status": licence.get_status_display(), "action": LicenceChange.Action(action).label})
    licence.status = to_status
    licence.status_reason = reason
    licence.updated_by = actor
    licence.save()
    LicenceChange.objects.create(licence=licence, action=action, reason=reason, actor=actor)
    return licence


@service
def recycler_licence_suspend(*, actor, licence: RecyclerLicence, reason: str) -> RecyclerLicence:
    return _licence_change(actor, licence, LicenceChange.Action.SUSPENDED, reason)


@service
def recycler_licence_reinstate(*, actor, licence: RecyclerLicence, reason: str) -> RecyclerLicence:
    return _licence_change(actor, licence, LicenceChange.Action.REINSTATED, reason)


@service
def recycler_licence_revoke(*, actor, licence: RecyclerLicence, reason: str) -> RecyclerLicence:
    return _licence_change(actor, licence, LicenceChange.Action.REVOKED, reason)


# --- licence applications (filing kind licence_application; ADR 0016) ----------------------------------------


def _licence_application_terms(enterprise: Enterprise, data: dict, *, exclude_filing=None) -> dict:
    """Check what a recycler asks for: the rules of a grant (ADR 0003) said now, not only when an admin grants."""
    if not enterprise.has_role(EnterpriseRole.RECYCLER):
        raise DomainError(code=ErrorCode.NOT_A_RECYCLER, field="enterprise",
                          message=_("Only an enterprise with the recycler role can apply for a recycler licence; "
                                    "yours is registered as: %(roles)s.") % {"roles": ", ".join(enterprise.roles_display())})
    number = reject_markup(str(data.get("number") or "").strip(), field="number")
    if not number:
        raise DomainError(code=ErrorCode.INVALID, message=_("This field is required."), field="number")
    if len(number) > 64:
        raise DomainError(code=ErrorCode.INVALID, field="number",
                          message=_("A licence number has at most 64 characters."))
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    for field, value in (("valid_from", valid_from), ("valid_to", valid_to)):
        if not isinstance(value, date):
            raise DomainError(code=ErrorCode.LICENCE_DATES_INVALID, field=field,
                              message=_("Give the date as YYYY-MM-DD."))
    scopes, chemistries, capacity = _licence_terms(
        scopes=data.get("scopes"), chemistries=data.get("chemistries"),
        annual_capacity_tonnes=data.get("annual_capacity_tonnes"), valid_from=valid_from, valid_to=valid_to,
        today=timezone.localdate())
    address = reject_markup(str(data.get("address") or "").strip(), field="address")
    if not address:
        raise DomainError(code=ErrorCode.INVALID, message=_("This field is required."), field="address")
    _require_licence_free(enterprise, number=number, valid_from=valid_from, valid_to=valid_to)
    return {"number": number, "scopes": scopes, "chemistries": chemistries, "annual_capacity_tonnes": capacity,
            "valid_from": valid_from, "valid_to": valid_to, "address": address[:300]}


def _attach_licence_document(application: LicenceApplication, document) -> None:
    check_pdf_upload(document, field="document", max_bytes=settings.BUSINESS_LICENCE_MAX_BYTES)
    application.document_name = reject_markup(str(document.name or ""), field="document")[:200]
    application.document.save("licence.pdf", document, save=False)


@service
def licence_application_create(*, actor, data: dict, document) -> "Filing":
    """A draft licence application of the actor's enterprise (a recycler): the terms asked for and the licence
    document (PDF, judged by its first bytes)."""
    from apps.filings import rules as filing_rules
    from apps.filings.models import Filing, FilingKind
    from apps.filings.services import _require_side

    _require_side(actor, filing_rules.COMPANY)
    enterprise = Enterprise.objects.select_for_update().get(pk=actor.membership.enterprise_id)
    terms = _licence_application_terms(enterprise, data)
    if document is None:
        raise DomainError(code=ErrorCode.FILE_NOT_PDF, message=_("Attach the licence document as a PDF."),
                          field="document")
    filing = Filing.objects.create(kind=FilingKind.LICENCE_APPLICATION, enterprise=enterprise,
                                   province=enterprise.province, created_by=actor, updated_by=actor)
    application = LicenceApplication(filing=filing, **terms)
    _attach_licence_document(application, document)
    application.save()
    return filing


@service
def licence_application_update(*, actor, filing_id, data: dict, document=None) -> "Filing":
    """Correct a draft, or an application returned for correction (a new document is optional)."""
    from apps.filings import rules as filing_rules
    from apps.filings.services import _locked, _require_side

    _require_side(actor, filing_rules.COMPANY)
    filing = _locked(actor, filing_id)
    if filing.kind != "licence_application":
        raise NotFound()
    if filing.status not in filing_rules.EDITABLE_STATUSES:
        raise DomainError(code=ErrorCode.FILING_NOT_EDITABLE, status=409,
                          message=_("Only a draft or a filing returned for correction can be changed."))
    enterprise = Enterprise.objects.select_for_update().get(pk=filing.enterprise_id)
    terms = _licence_application_terms(enterprise, data)
    application = LicenceApplication.objects.get(filing=filing)
    for key, value in terms.items():
        setattr(application, key, value)
    if document is not None:
        _attach_licence_document(application, document)
    application.save()
    filing.updated_by = actor
    filing.save(update_fields=["updated_by", "updated_at"])
    return filing


def licence_application_moved(filing, *, actor, action: str, comment: str) -> None:
    """Called by the filings workflow inside its transaction: reviewers review a licence application, but only an
    administrator's approval grants the licence, through recycler_licence_grant (overlap checked under the
    enterprise's row lock, ADR 0003), in the same transaction as the approval."""
    if action != "approve":
        return
    if getattr(actor, "kind", None) != "admin":
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403, field="decision",
                          message=_("Only an administrator grants a recycler licence; a reviewer may return or "
                                    "reject the application, or pass it to an administrator."))
    application = LicenceApplication.objects.select_for_update().get(filing=filing)
    licence = recycler_licence_grant(
        actor=actor, enterprise=filing.enterprise, number=application.number, scopes=application.scopes,
        chemistries=application.chemistries, annual_capacity_tonnes=application.annual_capacity_tonnes,
        valid_from=application.valid_from, valid_to=application.valid_to)
    application.licence = licence
    application.save(update_fields=["licence"])
