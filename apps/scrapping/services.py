"""Writes for scrapping: intake of a scrapped vehicle with the vehicle-and-battery check, the reviewer's decision on a
mismatch, issuing the certificate (vehicle scrapped, batteries removed through the ledger, handover clock started),
voiding and re-issue, and the certificate's PDF. Every entry point — page, API, bulk request, task — calls these.

Lock order, the same everywhere (and the same as apps.batteries.services): the vehicle's row (or, for a vehicle the
ledger does not know, an advisory lock on its VIN), then the intake, then the certificate, then batteries in
primary-key order (battery_remove).
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.batteries.models import Battery, BatteryStatus, Vehicle
from apps.batteries.services import acting_enterprise, check_battery_code, check_vin
from apps.batteries.services import battery_remove as ledger_battery_remove
from apps.batteries.services import battery_take_in_unreported as ledger_battery_take_in_unreported
from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.services import service
from apps.core.validators import check_image_upload, reject_markup
from apps.core.workdays import WorkdayCalendar
from apps.enterprises.models import Enterprise
from apps.scrapping import rules, selectors
from apps.scrapping.models import (
    OPEN_STATUSES,
    CertificateChange,
    CertificateStatus,
    CheckOutcome,
    Decision,
    IntakeBattery,
    IntakeStatus,
    MismatchDecision,
    OwnerIdKind,
    ScrappingCertificate,
    ScrappingIntake,
)
from apps.scrapping.permissions import require
from apps.core.text import ascii_upper_compact

PHOTO_FIELDS = {"front": "photo_front", "vin": "photo_vin"}
EXPLANATION_MAX = 2000


# --- shared checks --------------------------------------------------------------------------------------------


def acting_dismantler(actor) -> Enterprise:
    """The active enterprise the actor works for, which must have the dismantler role."""
    enterprise = acting_enterprise(actor)
    if not enterprise.has_role("dismantler"):
        raise DomainError(code=ErrorCode.ROLE_NOT_ALLOWED,
                          message=_("Only dismantlers (scrapped-vehicle recycling enterprises) take in scrapped "
                                    "vehicles and issue scrapping certificates."), status=403)
    return enterprise


def _require_regulator(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_active or actor.kind not in ("reviewer", "admin"):
        raise DomainError(code=ErrorCode.PERMISSION_DENIED,
                          message=_("Only ministry reviewers and administrators may do this."), status=403)


def _text(value, *, field: str, max_length: int, required: bool = True) -> str:
    text = reject_markup(str(value or ""), field=field)
    if required and not text:
        raise DomainError(code=ErrorCode.INVALID, message=_("This field is required."), field=field)
    if len(text) > max_length:
        raise DomainError(code=ErrorCode.INVALID, field=field,
                          message=_("At most %(max)d characters; %(n)d were given.")
                          % {"max": max_length, "n": len(text)})
    return text


def _identifier(value, *, field: str, max_length: int) -> str:
    """Plate and engine numbers: as printed, without spaces, letters upper-cased (Chinese characters kept)."""
    text = ascii_upper_compact(value)
    return _text(text, field=field, max_length=max_length)


def owner_identity(kind: str, raw_number: str) -> tuple[str, str]:
    """The masked number and the keyed hash; the number itself goes no further than this function."""
    if kind not in OwnerIdKind.values:
        raise DomainError(code=ErrorCode.OWNER_ID_INVALID, message=_("Choose the kind of identity document."),
                          field="owner_id_kind")
    number = rules.normalise_id_number(raw_number)
    problem = rules.id_number_problem(kind, number)
    if problem is not None:
        # The message never repeats the number: it may end up in logs and stored API answers.
        if problem.rule == "length":
            message = _("An identity card number has 18 characters; %(n)d were given.") % {"n": len(number)} \
                if kind == OwnerIdKind.RESIDENT_ID else \
                _("A unified social credit code has 18 characters; %(n)d were given.") % {"n": len(number)}
        elif problem.rule in ("digit", "alphabet"):
            message = _("Character %(pos)d of the identity number is not allowed there.") % {"pos": problem.position}
        elif problem.rule == "birth_date":
            message = _("Characters 7 to 14 of the identity card number must be a real date of birth (GB 11643).")
        elif problem.rule == "check_character":
            message = _("The check character (position 18) does not match the first 17: please check the number "
                        "for a typing error.")
        else:
            message = _("An identity document number has 6 to 30 letters and digits.")
        raise DomainError(code=ErrorCode.OWNER_ID_INVALID, message=message, field="owner_id_number")
    return rules.mask_id_number(number), rules.id_number_hash(kind, number, key=settings.PII_HASH_KEY)


def found_codes(raw_codes) -> list[str]:
    """The codes as typed or scanned, each checked like any battery code (GB/T 34014, position by position); the
    same code twice is refused with both positions, never silently merged."""
    codes: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_codes or [], start=1):
        if not str(raw or "").strip():
            continue
        code = check_battery_code(str(raw), field="battery_codes").code
        if code in seen:
            raise DomainError(code=ErrorCode.BATTERY_LISTED_TWICE,
                              message=_("Battery %(code)s is listed twice (entries %(first)d and %(second)d); list "
                                        "each battery once.") % {"code": code, "first": seen[code], "second": index},
                              field="battery_codes")
        seen[code] = index
        codes.append(code)
    return codes


def _lock_vin(vin: str) -> Vehicle | None:
    """Serialise everything that happens to one VIN: the vehicle's row lock, or for a VIN the ledger does not know
    (a conventional vehicle) a transaction-level advisory lock on it."""
    vehicle = Vehicle.objects.select_for_update().filter(vin=vin).first()
    if vehicle is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"scrapping-vin:{vin}"])
    return vehicle


def _installed_in(vehicle: Vehicle | None) -> dict[str, Battery]:
    if vehicle is None:
        return {}
    return {b.code: b for b in Battery.objects.filter(vehicle=vehicle, status=BatteryStatus.INSTALLED).order_by("pk")}


def _refuse_found_battery(battery: Battery, reason: str) -> DomainError:
    messages = {
        rules.NOT_A_PACK: _("Battery %(code)s is a module or cell; list the code of the pack installed in the "
                            "vehicle."),
        rules.LIFE_ENDED: _("The ledger shows battery %(code)s recycled or used in a remanufactured product; it "
                            "cannot be in this vehicle. Check the code on the label."),
        rules.IN_ANOTHER_VEHICLE: _("The ledger shows battery %(code)s installed in another vehicle and held by "
                                    "another enterprise; a battery cannot be in two vehicles. Check the code on the "
                                    "label; if it is right, the enterprise that installed it must first report the "
                                    "change."),
        rules.ALREADY_YOURS: _("Battery %(code)s is already in your enterprise's stock, not in a vehicle."),
    }
    return DomainError(code=ErrorCode.BATTERY_HELD_ELSEWHERE, message=messages[reason] % {"code": battery.code},
                       field="battery_codes", status=409)


def _received_on(value) -> dt.date:
    today = timezone.localdate()
    if value in (None, ""):
        return today
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date) or value > today or value.year < 2000:
        raise DomainError(code=ErrorCode.INVALID, message=_("The intake date cannot be in the future."),
                          field="received_on")
    return value


# --- intake ---------------------------------------------------------------------------------------------------


@service
def scrapping_intake_create(*, actor, vin: str, plate_number: str, engine_number: str, is_nev: bool,
                            owner_id_kind: str, owner_id_number: str, declared_not_mortgaged: bool,
                            declared_not_stolen: bool, battery_codes=(), explanation: str = "",
                            photo_front=None, photo_vin=None, received_on=None) -> ScrappingIntake:
    """A dismantler takes in a scrapped vehicle; the vehicle-and-battery check runs against the ledger at once.

    Refused, nothing saved: an invalid VIN; a new-energy VIN the ledger does not know; a conventional vehicle the
    ledger knows as new-energy; a scrapped vehicle; a vehicle another intake already holds; a missing declaration
    (no certificate while mortgaged or reported stolen); a bad identity number or photo; a battery code that is
    invalid, unknown, listed twice, or where the ledger says it cannot be. Recorded: every check outcome —
    complete, missing (blocked), mismatch (awaiting a reviewer), swap-model exemption, not new-energy.
    """
    enterprise = acting_dismantler(actor)
    vin = check_vin(vin)
    plate_number = _identifier(plate_number, field="plate_number", max_length=16)
    engine_number = _identifier(engine_number, field="engine_number", max_length=40)
    masked, digest = owner_identity(owner_id_kind, owner_id_number)
    if not declared_not_mortgaged:
        raise DomainError(code=ErrorCode.DECLARATION_REQUIRED,
                          message=_("No scrapping certificate while the vehicle is mortgaged: the owner must declare "
                                    "that it is not (and the mortgage be released first)."),
                          field="declared_not_mortgaged")
    if not declared_not_stolen:
        raise DomainError(code=ErrorCode.DECLARATION_REQUIRED,
                          message=_("No scrapping certificate for a vehicle reported stolen or robbed: the owner must "
                                    "declare that it is not."), field="declared_not_stolen")
    photos = {}
    for kind, upload in (("front", photo_front), ("vin", photo_vin)):
        if upload is not None:
            photos[kind] = (upload, check_image_upload(upload, field=PHOTO_FIELDS[kind],
                                                       max_bytes=settings.SCRAPPING_PHOTO_MAX_BYTES))
    codes = found_codes(battery_codes)
    if not is_nev and codes:
        raise DomainError(code=ErrorCode.BATTERY_CODES_NOT_EXPECTED,
                          message=_("A vehicle that is not new-energy has no power battery to list; either it is a "
                                    "new-energy vehicle, or remove the codes."), field="battery_codes")
    received = _received_on(received_on)
    explanation = _text(explanation, field="explanation", max_length=EXPLANATION_MAX, required=False)

    vehicle = _lock_vin(vin)
    if is_nev and vehicle is None:
        raise DomainError(code=ErrorCode.VEHICLE_UNKNOWN,
                          message=_("The ledger has no record of new-energy vehicle %(vin)s: its maker records it when "
                                    "the battery is installed. Check the VIN; if it is right, the vehicle maker must "
                                    "report the installation first.") % {"vin": vin}, field="vin")
    if not is_nev and vehicle is not None:
        raise DomainError(code=ErrorCode.VEHICLE_IS_NEV,
                          message=_("The ledger records %(vin)s as a new-energy vehicle; take it in as one, with its "
                                    "battery.") % {"vin": vin}, field="is_nev")
    scrapped = (vehicle is not None and vehicle.status == Vehicle.Status.SCRAPPED) or \
        ScrappingCertificate.objects.filter(vin=vin, status=CertificateStatus.VALID).exists()
    if scrapped:
        raise DomainError(code=ErrorCode.VEHICLE_SCRAPPED,
                          message=_("Vehicle %(vin)s has already been scrapped.") % {"vin": vin}, field="vin",
                          status=409)
    _refuse_open_intake(vin, enterprise)

    expected = _installed_in(vehicle)
    found = {b.code: b for b in Battery.objects.select_related("vehicle").filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise DomainError(code=ErrorCode.BATTERY_UNKNOWN,
                          message=_("Not registered in the ledger: %(codes)s. Check each code on its label.")
                          % {"codes": ", ".join(unknown)}, field="battery_codes")
    for code in codes:
        if code in expected:
            continue
        battery = found[code]
        reason = rules.found_battery_refusal(
            product_type=battery.product_type, status=battery.status,
            installed_in=battery.vehicle.vin if battery.vehicle_id else None, vin=vin,
            held_by_actor=battery.holder_id == enterprise.pk)
        if reason:
            raise _refuse_found_battery(battery, reason)

    check = rules.battery_check(is_nev=is_nev, is_swap_model=bool(vehicle and vehicle.is_swap_model),
                                expected=expected.keys(), found=codes)
    intake = ScrappingIntake(
        dismantler=enterprise, vin=vin, vehicle=vehicle, is_nev=is_nev,
        is_swap_model=bool(vehicle and vehicle.is_swap_model), model_name=vehicle.model_name if vehicle else "",
        plate_number=plate_number, engine_number=engine_number, owner_id_kind=owner_id_kind,
        owner_id_masked=masked, owner_id_hash=digest, declared_not_mortgaged=True, declared_not_stolen=True,
        received_on=received, outcome=check.outcome, status=rules.intake_status_for(check.outcome),
        explanation=explanation, created_by=actor, updated_by=actor)
    for kind, (upload, suffix) in photos.items():
        getattr(intake, PHOTO_FIELDS[kind]).save(f"photo{suffix}", upload, save=False)
    try:
        with transaction.atomic():  # a savepoint: the partial unique index is the last line of defence
            intake.save()
    except IntegrityError:
        _delete_files(intake)
        _refuse_open_intake(vin, enterprise, fallback=True)
        raise
    rows = {**{c: b for c, b in expected.items()}, **{c: found[c] for c in codes}}
    IntakeBattery.objects.bulk_create([
        IntakeBattery(intake=intake, battery=battery, code=code, expected=code in expected, found=code in codes,
                      status_at_intake=battery.status, holder_at_intake_id=battery.holder_id,
                      vin_at_intake=battery.vehicle.vin if battery.vehicle_id else "")
        for code, battery in sorted(rows.items())])
    if intake.status == IntakeStatus.AWAITING_DECISION:
        _mismatch_filing(intake, actor=actor)
    return intake


def _delete_files(intake: ScrappingIntake) -> None:
    for field in PHOTO_FIELDS.values():
        photo = getattr(intake, field)
        if photo:
            photo.storage.delete(photo.name)


def _refuse_open_intake(vin: str, enterprise: Enterprise, *, fallback: bool = False) -> None:
    open_intake = ScrappingIntake.objects.filter(vin=vin, status__in=[s.value for s in OPEN_STATUSES]).first()
    if open_intake is None and not fallback:
        return
    if open_intake is not None and open_intake.dismantler_id == enterprise.pk:
        message = _("Your enterprise has already taken in vehicle %(vin)s (intake %(id)d); continue with that intake "
                    "or withdraw it first.") % {"vin": vin, "id": open_intake.pk}
    else:
        message = _("Vehicle %(vin)s has already been taken in by another dismantler.") % {"vin": vin}
    raise DomainError(code=ErrorCode.INTAKE_ALREADY_OPEN, message=message, field="vin", status=409)


def _own_intake_for_update(intake_id, enterprise: Enterprise) -> ScrappingIntake:
    """The dismantler's own intake, with its VIN and row locked (lock order: VIN first, then the intake)."""
    try:
        vin = ScrappingIntake.objects.filter(pk=intake_id, dismantler=enterprise).values_list("vin", flat=True).first()
    except (ValueError, TypeError):
        vin = None
    if vin is None:
        raise NotFound()
    _lock_vin(vin)
    return ScrappingIntake.objects.select_for_update().get(pk=intake_id)


@service
def scrapping_intake_photo_attach(*, actor, intake_id, kind: str, upload) -> ScrappingIntake:
    """Attach (or replace) the front or VIN-plate photo of an intake not yet certified; bulk intakes come without
    photos, and a certificate needs both."""
    enterprise = acting_dismantler(actor)
    if kind not in PHOTO_FIELDS:
        raise DomainError(code=ErrorCode.INVALID, message=_("The photo is of the front or of the VIN plate."),
                          field="kind")
    intake = _own_intake_for_update(intake_id, enterprise)
    if intake.status == IntakeStatus.ISSUED:
        raise DomainError(code=ErrorCode.CERTIFICATE_NOT_ALLOWED,
                          message=_("The certificate is issued; the intake's photos can no longer change."),
                          field="kind", status=409)
    field = PHOTO_FIELDS[kind]
    suffix = check_image_upload(upload, field="file", max_bytes=settings.SCRAPPING_PHOTO_MAX_BYTES)
    old = getattr(intake, field)
    old_name = old.name if old else None
    getattr(intake, field).save(f"photo{suffix}", upload, save=False)
    intake.updated_by = actor
    intake.save(update_fields=[field, "updated_by", "updated_at"])
    if old_name:
        storage = old.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return intake


@service
def scrapping_intake_explain(*, actor, intake_id, explanation: str) -> ScrappingIntake:
    """The dismantler's explanation of a mismatch (e.g. an unreported replacement), for the reviewer."""
    enterprise = acting_dismantler(actor)
    intake = _own_intake_for_update(intake_id, enterprise)
    if intake.status != IntakeStatus.AWAITING_DECISION:
        raise DomainError(code=ErrorCode.INTAKE_NOT_AWAITING_DECISION,
                          message=_("Only an intake awaiting a reviewer's decision takes an explanation."),
                          field="explanation", status=409)
    intake.explanation = _text(explanation, field="explanation", max_length=EXPLANATION_MAX)
    intake.updated_by = actor
    intake.save(update_fields=["explanation", "updated_by", "updated_at"])
    return intake


@service
def scrapping_intake_withdraw(*, actor, intake_id) -> ScrappingIntake:
    """The dismantler withdraws an intake without a certificate (a typing error, or the ledger changed since): the
    VIN is free to be taken in again. A withdrawn intake stays on record; its open mismatch-decision filing, if
    any, is closed as withdrawn in the same transaction."""
    enterprise = acting_dismantler(actor)
    intake = _own_intake_for_update(intake_id, enterprise)
    if intake.status not in (IntakeStatus.READY, IntakeStatus.AWAITING_DECISION):
        raise DomainError(code=ErrorCode.CERTIFICATE_NOT_ALLOWED,
                          message=_("Only an intake that may still lead to a certificate can be withdrawn."),
                          status=409)
    intake.status, intake.updated_by = IntakeStatus.WITHDRAWN, actor
    intake.save(update_fields=["status", "updated_by", "updated_at"])
    decision = MismatchDecision.objects.select_related("filing").filter(intake=intake).first()
    if decision is not None:
        # Nothing is left for the reviewers to decide: the mismatch filing is closed as *withdrawn* (the workflow's
        # transition for a subject taken back), with a comment saying so, and leaves their queue.
        from apps.filings.services import filing_withdraw_with_subject

        filing_withdraw_with_subject(actor=actor, filing=decision.filing,
                                     comment=_("Closed automatically: the dismantler withdrew the scrapping intake."))
    return intake


def _mismatch_filing(intake: ScrappingIntake, *, actor):
    """The filing (kind mismatch_decision) that puts an intake awaiting a decision before the reviewers in the
    shared workflow (ADR 0016); made at intake, or now for an intake that predates the workflow."""
    from apps.filings.models import FilingKind
    from apps.filings.services import filing_open_submitted

    existing = MismatchDecision.objects.select_related("filing").filter(intake=intake).first()
    if existing is not None:
        return existing.filing
    filing = filing_open_submitted(actor=intake.created_by or actor, kind=FilingKind.MISMATCH_DECISION,
                                   enterprise=intake.dismantler)
    MismatchDecision.objects.create(filing=filing, intake=intake)
    return filing


def _decision_reason(reason, *, field: str) -> str:
    reason = _text(reason, field=field, max_length=EXPLANATION_MAX, required=False)
    if not reason:
        raise DomainError(code=ErrorCode.REASON_REQUIRED, message=_("Give the reason for the decision."), field=field)
    return reason


def _visible_intake(actor, intake_id) -> ScrappingIntake:
    try:
        intake = ScrappingIntake.objects.visible_to(actor).select_related("dismantler").filter(pk=intake_id).first()
    except (ValueError, TypeError):
        intake = None
    if intake is None:
        raise NotFound()
    return intake


def _intake_decide(*, actor, intake_id, decision: str, reason: str) -> ScrappingIntake:
    """The scrapping rule of a mismatch decision, in one place: approved, the certificate may be issued with the
    batteries found; refused, no certificate. Runs inside the decision of the intake's mismatch filing."""
    _require_regulator(actor)
    intake = _visible_intake(actor, intake_id)
    require(actor, "scrapping.decide_mismatch", intake)
    _lock_vin(intake.vin)
    intake = ScrappingIntake.objects.select_for_update().get(pk=intake.pk)
    if intake.status != IntakeStatus.AWAITING_DECISION:
        raise DomainError(code=ErrorCode.INTAKE_NOT_AWAITING_DECISION,
                          message=_("This intake is not awaiting a decision (it is: %(status)s).")
                          % {"status": intake.get_status_display()}, status=409)
    intake.decision, intake.decision_reason = decision, reason
    intake.decided_by, intake.decided_at, intake.updated_by = actor, timezone.now(), actor
    intake.status = IntakeStatus.READY if decision == Decision.APPROVED else IntakeStatus.REFUSED
    intake.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at", "status", "updated_by",
                               "updated_at"])
    return intake


@service
def scrapping_intake_decide(*, actor, intake_id, decision: str, reason: str) -> ScrappingIntake:
    """A reviewer (for dismantlers in their provinces) or an admin decides on a mismatch: approved, the
    certificate may be issued with the batteries found; refused, no certificate. The decision is taken on the
    intake's mismatch filing (claimed for the actor when nobody has it yet), so that it has the shared history
    and notification; the filing's approval calls back the rule above."""
    from apps.filings import services as filing_services
    from apps.filings.models import FilingStatus

    _require_regulator(actor)
    intake = _visible_intake(actor, intake_id)
    require(actor, "scrapping.decide_mismatch", intake)
    if decision not in Decision.values:
        raise DomainError(code=ErrorCode.INVALID, message=_("Choose approve or refuse."), field="decision")
    reason = _decision_reason(reason, field="reason")
    if intake.status != IntakeStatus.AWAITING_DECISION:
        raise DomainError(code=ErrorCode.INTAKE_NOT_AWAITING_DECISION,
                          message=_("This intake is not awaiting a decision (it is: %(status)s).")
                          % {"status": intake.get_status_display()}, status=409)
    filing = _mismatch_filing(intake, actor=actor)
    if filing.status in (FilingStatus.SUBMITTED, FilingStatus.RESUBMITTED):
        filing_services.filing_claim(actor=actor, filing_id=filing.pk)
    decide = filing_services.filing_approve if decision == Decision.APPROVED else filing_services.filing_reject
    decide(actor=actor, filing_id=filing.pk, comment=reason)
    return ScrappingIntake.objects.get(pk=intake.pk)


def mismatch_filing_moved(filing, *, actor, action: str, comment: str) -> None:
    """Called by the filings workflow inside its transaction (apps.filings.services.KIND_EFFECTS): approving the
    mismatch filing approves the intake's mismatch, rejecting refuses it; both need the reason. A return asks
    the dismantler for more evidence: the intake keeps awaiting the decision."""
    if action not in ("approve", "reject"):
        return
    reason = _decision_reason(comment, field="comment")
    _intake_decide(actor=actor, intake_id=filing.mismatch_decision.intake_id,
                   decision=Decision.APPROVED if action == "approve" else Decision.REFUSED, reason=reason)


# --- the certificate ----------------------------------------------------------------------------------------------


def _certificate_number(raw: str, *, field: str = "number") -> str:
    number = (raw or "").strip()
    if not rules.certificate_number_ok(number):
        raise DomainError(code=ErrorCode.CERTIFICATE_NUMBER_INVALID,
                          message=_("Type the certificate number exactly as the commerce ministry's system printed "
                                    "it: 4 to 64 letters and digits (also . / _ - inside)."), field=field)
    if ScrappingCertificate.objects.filter(number=number).exists():
        raise DomainError(code=ErrorCode.CERTIFICATE_NUMBER_TAKEN,
                          message=_("Certificate number %(number)s is already used (numbers are never re-used, not "
                                    "even a voided one's).") % {"number": number}, field=field, status=409)
    return number


def _create_certificate(certificate: ScrappingCertificate, *, field: str = "number") -> ScrappingCertificate:
    try:
        with transaction.atomic():  # the same number typed at the same moment by another request
            certificate.save()
    except IntegrityError:
        raise DomainError(code=ErrorCode.CERTIFICATE_NUMBER_TAKEN,
                          message=_("Certificate number %(number)s is already used (numbers are never re-used, not "
                                    "even a voided one's).") % {"number": certificate.number}, field=field,
                          status=409)
    return certificate


NOT_ALLOWED_MESSAGES = {
    IntakeStatus.BLOCKED: gettext_lazy("No certificate: a battery is missing, and a missing battery counts as a "
                                       "missing vehicle (电池缺失视为车辆缺失)."),
    IntakeStatus.AWAITING_DECISION: gettext_lazy("No certificate yet: a battery found differs from the ledger, and a "
                                                 "reviewer must decide first."),
    IntakeStatus.REFUSED: gettext_lazy("No certificate: a reviewer refused this intake."),
    IntakeStatus.ISSUED: gettext_lazy("The certificate for this intake has already been issued."),
    IntakeStatus.WITHDRAWN: gettext_lazy("This intake was withdrawn."),
}


@service
def scrapping_certificate_issue(*, actor, intake_id, number: str) -> ScrappingCertificate:
    """Issue the scrapping certificate for an intake that allows it, in one transaction: each battery found in the
    vehicle is removed through the ledger (battery_remove: event *removed*, the dismantler then holds it), the
    vehicle becomes scrapped, and the handover deadline is computed and stored with its working days: the dismantler
    duty's row of the admin-edited deadline table as it is now (selectors.handover_working_days), so an admin's
    later change applies to certificates issued afterwards, never to this one. The PDF is rendered by a task once the transaction commits."""
    enterprise = acting_dismantler(actor)
    number = _certificate_number(number)
    intake = _own_intake_for_update(intake_id, enterprise)
    if intake.status != IntakeStatus.READY:
        raise DomainError(code=ErrorCode.CERTIFICATE_NOT_ALLOWED, message=NOT_ALLOWED_MESSAGES[intake.status],
                          status=409)
    if not intake.has_photos:
        raise DomainError(code=ErrorCode.PHOTOS_REQUIRED,
                          message=_("Attach the photos of the vehicle's front and of its VIN plate first."),
                          field="photos", status=409)
    vehicle = Vehicle.objects.select_for_update().filter(pk=intake.vehicle_id).first() if intake.vehicle_id else None
    if vehicle is not None and vehicle.status == Vehicle.Status.SCRAPPED:
        raise DomainError(code=ErrorCode.VEHICLE_SCRAPPED,
                          message=_("Vehicle %(vin)s has already been scrapped.") % {"vin": intake.vin}, field="vin",
                          status=409)
    rows = list(intake.batteries.all())
    installed_now = set(_installed_in(vehicle))
    if intake.outcome == CheckOutcome.COMPLETE and installed_now != {r.code for r in rows if r.expected}:
        raise DomainError(code=ErrorCode.BATTERY_CHECK_STALE,
                          message=_("The ledger changed for this vehicle since it was taken in (a battery was "
                                    "installed or taken out). Withdraw this intake and take the vehicle in again, so "
                                    "that the check runs on the ledger as it is now."), status=409)
    now = timezone.now()
    removed = 0
    approved_mismatch = intake.outcome == CheckOutcome.MISMATCH and intake.decision == Decision.APPROVED
    for row in rows:
        if not row.found:
            continue  # an expected battery that was not in the car stays on the record (enforcement)
        if row.code in installed_now:
            ledger_battery_remove(actor=actor, code=row.code, vin=intake.vin, occurred_at=now,
                                  details={"scrapping_certificate": number})
        elif approved_mismatch:
            # The battery found is an unreported replacement the reviewer accepted: the dismantler takes it in.
            ledger_battery_take_in_unreported(actor=actor, code=row.code, vin=intake.vin, occurred_at=now,
                                              decision_reference=f"scrapping-intake-{intake.pk}")
        else:
            continue
        row.removed = True
        row.save(update_fields=["removed"])
        removed += 1
    if vehicle is not None:
        vehicle.status, vehicle.scrapped_at = Vehicle.Status.SCRAPPED, now
        vehicle.save(update_fields=["status", "scrapped_at"])
    issued_on = timezone.localdate(now)
    working_days = selectors.handover_working_days() if removed else None
    deadline = rules.handover_deadline(issued_on, working_days, WorkdayCalendar().verdict) if removed else None
    certificate = _create_certificate(ScrappingCertificate(
        number=number, intake=intake, dismantler=enterprise, vin=intake.vin, vehicle=vehicle, issued_on=issued_on,
        swap_exemption=intake.outcome == CheckOutcome.SWAP_EXEMPT,
        handover_deadline=deadline.date if deadline else None, handover_working_days=working_days,
        deadline_provisional=bool(deadline and deadline.provisional), created_by=actor, updated_by=actor))
    CertificateChange.objects.create(certificate=certificate, action=CertificateChange.Action.ISSUED, actor=actor)
    intake.status, intake.updated_by = IntakeStatus.ISSUED, actor
    intake.save(update_fields=["status", "updated_by", "updated_at"])
    _render_after_commit(certificate.pk)
    return certificate


def _render_after_commit(certificate_id: int) -> None:
    from apps.scrapping.tasks import certificate_pdf_render

    from apps.core.outbox import enqueue

    enqueue(certificate_pdf_render, certificate_id)


def _regulator_certificate_for_update(actor, certificate_id) -> ScrappingCertificate:
    _require_regulator(actor)
    try:
        found = (ScrappingCertificate.objects.visible_to(actor).select_related("dismantler")
                 .filter(pk=certificate_id).first())
    except (ValueError, TypeError):
        found = None
    if found is None:
        raise NotFound()
    require(actor, "scrapping.void_certificate", found)
    _lock_vin(found.vin)
    return ScrappingCertificate.objects.select_for_update().get(pk=found.pk)


def _reason(reason: str) -> str:
    text = _text(reason, field="reason", max_length=EXPLANATION_MAX, required=False)
    if not text:
        raise DomainError(code=ErrorCode.REASON_REQUIRED, message=_("Give the reason (e.g. the vehicle was reported "
                                                                    "stolen)."), field="reason")
    return text


def _void(certificate: ScrappingCertificate, *, actor, reason: str) -> None:
    certificate.status, certificate.voided_at = CertificateStatus.VOIDED, timezone.now()
    certificate.voided_by, certificate.void_reason, certificate.updated_by = actor, reason, actor
    certificate.save(update_fields=["status", "voided_at", "voided_by", "void_reason", "updated_by", "updated_at"])
    CertificateChange.objects.create(certificate=certificate, action=CertificateChange.Action.VOIDED, reason=reason,
                                     actor=actor)
    _render_after_commit(certificate.pk)  # the stored PDF then carries the 作废 stamp


@service
def scrapping_certificate_void(*, actor, certificate_id, reason: str) -> ScrappingCertificate:
    """The authority voids a certificate (e.g. the vehicle was reported stolen), with the reason, kept in its
    history; the public verification page then says *voided*. The vehicle stays scrapped: the ledger is
    append-only and its batteries were removed."""
    reason = _reason(reason)
    certificate = _regulator_certificate_for_update(actor, certificate_id)
    if certificate.status != CertificateStatus.VALID:
        raise DomainError(code=ErrorCode.CERTIFICATE_NOT_VALID,
                          message=_("Certificate %(number)s is already voided.") % {"number": certificate.number},
                          status=409)
    _void(certificate, actor=actor, reason=reason)
    return certificate


@service
def scrapping_certificate_reissue(*, actor, certificate_id, number: str, reason: str) -> ScrappingCertificate:
    """The authority re-issues a certificate under a new number from the commerce ministry's system (lost or
    wrong paper, or a voiding later lifted). The old certificate is voided, if it was not already, and points to
    the new one; the handover deadline stays the original one, which runs from the batteries' removal."""
    reason = _reason(reason)
    certificate = _regulator_certificate_for_update(actor, certificate_id)
    if ScrappingCertificate.objects.filter(replaces=certificate).exists():
        raise DomainError(code=ErrorCode.CERTIFICATE_SUPERSEDED,
                          message=_("Certificate %(number)s has already been re-issued; re-issue the latest one.")
                          % {"number": certificate.number}, status=409)
    number = _certificate_number(number)
    if certificate.status == CertificateStatus.VALID:
        _void(certificate, actor=actor, reason=_("Re-issued as %(number)s: %(reason)s") % {"number": number,
                                                                                         "reason": reason})
    new = _create_certificate(ScrappingCertificate(
        number=number, intake_id=certificate.intake_id, dismantler_id=certificate.dismantler_id, vin=certificate.vin,
        vehicle_id=certificate.vehicle_id, issued_on=timezone.localdate(), swap_exemption=certificate.swap_exemption,
        handover_deadline=certificate.handover_deadline, deadline_provisional=certificate.deadline_provisional,
        handover_working_days=certificate.handover_working_days, replaces=certificate, created_by=actor, updated_by=actor))
    CertificateChange.objects.create(certificate=new, action=CertificateChange.Action.REISSUED, reason=reason,
                                     actor=actor)
    _render_after_commit(new.pk)
    return new


# --- documents and deadlines ---------------------------------------------------------------------------------------


def scrapping_certificate_pdf_store(*, certificate_id: int, actor=None) -> ScrappingCertificate:
    """Render the certificate's PDF and store it (a random file name, never served as media). Rendering runs
    outside any transaction; the result is stored only if the certificate's status is still the one rendered —
    a voiding meanwhile enqueues its own rendering."""
    from apps.scrapping.documents import render_certificate_pdf

    certificate = ScrappingCertificate.objects.select_related("dismantler", "intake").get(pk=certificate_id)
    pdf = render_certificate_pdf(certificate)
    with transaction.atomic():
        current = ScrappingCertificate.objects.select_for_update().get(pk=certificate_id)
        if current.status != certificate.status:
            return current
        old = current.pdf.name if current.pdf else None
        current.pdf.save(f"{current.pk}.pdf", ContentFile(pdf), save=False)
        current.pdf_rendered_at = timezone.now()
        current.save(update_fields=["pdf", "pdf_rendered_at"])
        if old:
            storage = current.pdf.storage
            transaction.on_commit(lambda: storage.delete(old))
    return current


def provisional_deadlines_recount(*, today: dt.date | None = None) -> int:
    """Recount handover deadlines that were computed over a year the calendar did not know yet, now that admins may
    have entered it. Returns how many changed."""
    changed = 0
    calendar = WorkdayCalendar()
    current_days = selectors.handover_working_days()  # for certificates issued before the days were stored
    for certificate in ScrappingCertificate.objects.filter(deadline_provisional=True).order_by("pk"):
        # The deadline runs from the first issue of the chain (a re-issue keeps the original deadline).
        first = certificate
        while first.replaces_id:
            first = first.replaces
        removal_day = first.issued_on
        # With the working days it was issued with: a recount follows the holiday calendar, not a later table edit.
        days = first.handover_working_days or certificate.handover_working_days or current_days
        deadline = rules.handover_deadline(removal_day, days, calendar.verdict)
        if (deadline.date, deadline.provisional) != (certificate.handover_deadline, certificate.deadline_provisional):
            ScrappingCertificate.objects.filter(pk=certificate.pk).update(
                handover_deadline=deadline.date, deadline_provisional=deadline.provisional)
            changed += 1
    return changed
