"""Lifecycle operations on the battery ledger. Every entry point — page form, API, bulk file, admin — calls these.

Each operation: resolve the acting enterprise, check the rule (apps.batteries.rules), lock the battery rows in
primary-key order (concurrent attempts on one battery serialise; exactly one wins), append the ledger event(s),
update the projection on the Battery row, all in one transaction (the @service decorator).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.batteries import rules
from apps.batteries.codes import BatteryCodeError, parse_battery_code
from apps.batteries.ledger import ledger_append
from apps.batteries.messages import battery_code_message, vin_message
from apps.batteries.models import (
    Battery,
    BatteryStatus,
    EventKind,
    FieldOfUse,
    ProductType,
    Remanufacture,
    RemanufactureSource,
    Vehicle,
)
from apps.batteries.vin import vin_problem
from apps.core.errors import DomainError, ErrorCode
from apps.core.services import service
from apps.enterprises.models import Enterprise, ManufacturerCode
from apps.enterprises.selectors import recycler_licence_in_force
from apps.core.text import ascii_upper

FUTURE_TOLERANCE = dt.timedelta(minutes=10)
PRODUCT_LEVEL = {ProductType.PACK: 0, ProductType.MODULE: 1, ProductType.CELL: 2}


# --- shared checks --------------------------------------------------------------------------------------------


def acting_enterprise(actor) -> Enterprise:
    """The enterprise a company user acts for; it must be active."""
    membership = getattr(actor, "membership", None) if actor is not None else None
    if membership is None or not actor.is_active:
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, message=_("Only company staff file lifecycle events."),
                          status=403)
    enterprise = membership.enterprise
    if enterprise.status != Enterprise.Status.ACTIVE:
        raise DomainError(code=ErrorCode.ENTERPRISE_SUSPENDED if enterprise.status == "suspended"
                          else ErrorCode.ENTERPRISE_NOT_ACTIVE,
                          message=_("Your enterprise is not active (%(status)s).") % {"status": enterprise.get_status_display()},
                          status=403)
    return enterprise


def require_role(enterprise: Enterprise, operation: str) -> None:
    if not rules.role_allows(operation, enterprise.roles):
        allowed = ", ".join(sorted(rules.OPERATION_ROLES[operation]))
        raise DomainError(code=ErrorCode.ROLE_NOT_ALLOWED,
                          message=_("Your enterprise's roles do not allow this operation (allowed: %(roles)s).")
                          % {"roles": allowed}, status=403)


def check_battery_code(raw: str, *, field: str = "code"):
    code = ascii_upper(raw)
    try:
        return parse_battery_code(code, today=timezone.localdate())
    except BatteryCodeError as exc:
        raise DomainError(code=ErrorCode.BATTERY_CODE_INVALID, message=battery_code_message(code, exc.problem),
                          field=field)


def check_vin(raw: str, *, field: str = "vin") -> str:
    vin = ascii_upper(raw)
    problem = vin_problem(vin, strict=settings.VIN_STRICT_CHECK_DIGIT)
    if problem is not None:
        raise DomainError(code=ErrorCode.VIN_INVALID, message=vin_message(vin, problem), field=field)
    return vin


def check_occurred_at(value) -> dt.datetime:
    now = timezone.now()
    if value is None:
        return now
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = timezone.make_aware(dt.datetime.combine(value, dt.time(12)))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_TOLERANCE:
        raise DomainError(code=ErrorCode.OCCURRED_AT_INVALID, message=_("The event time cannot be in the future."),
                          field="occurred_at")
    if value.year < 2000:
        raise DomainError(code=ErrorCode.OCCURRED_AT_INVALID, message=_("The event time is implausibly early."),
                          field="occurred_at")
    return value


def positive_decimal(value, *, field: str, required: bool = False) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise DomainError(code=ErrorCode.QUANTITY_INVALID, message=_("This field is required."), field=field)
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number <= 0:
        raise DomainError(code=ErrorCode.QUANTITY_INVALID,
                          message=_("%(value)s is not a number greater than zero.") % {"value": value}, field=field)
    return number


def lock_batteries(codes: list[str], *, field: str = "code", fields: dict[str, str] | None = None
                   ) -> dict[str, Battery]:
    """Lock the rows in primary-key order (no deadlock between two operations on the same pair). An unknown code
    is reported on `fields[code]` when given, else on `field`."""
    wanted = list(dict.fromkeys(codes))
    rows = {b.code: b for b in Battery.objects.select_for_update().filter(code__in=wanted).order_by("pk")}
    for code in wanted:
        if code not in rows:
            raise DomainError(code=ErrorCode.BATTERY_UNKNOWN,
                              message=_("Battery %(code)s is not registered.") % {"code": code},
                              field=(fields or {}).get(code, field))
    return rows


def lock_battery(raw_code: str, *, field: str = "code") -> Battery:
    code = ascii_upper(raw_code)
    return lock_batteries([code], field=field)[code]


def require_holder(battery: Battery, enterprise: Enterprise, *, field: str = "code") -> None:
    if battery.holder_id != enterprise.pk or battery.status == BatteryStatus.IN_TRANSIT:
        raise DomainError(code=ErrorCode.NOT_HOLDER,
                          message=_("Battery %(code)s is not held by your enterprise; only its current holder may "
                                    "act on it.") % {"code": battery.code}, field=field, status=403)


def require_status(battery: Battery, allowed: set[str], operation: str, *, field: str = "code") -> None:
    if battery.status not in allowed:
        raise DomainError(
            code=ErrorCode.TRANSITION_NOT_ALLOWED,
            message=_("Battery %(code)s is %(status)s; %(operation)s is not possible from that state.")
            % {"code": battery.code, "status": BatteryStatus(battery.status).label, "operation": operation},
            field=field, status=409)


def require_not_waste(battery: Battery, *, field: str = "code") -> None:
    if battery.is_waste:
        raise DomainError(code=ErrorCode.BATTERY_IS_WASTE,
                          message=_("Battery %(code)s was declared waste; it can no longer be installed in a vehicle.")
                          % {"code": battery.code}, field=field, status=409)


def require_pack(battery: Battery, *, field: str = "code") -> None:
    if battery.product_type != ProductType.PACK:
        raise DomainError(code=ErrorCode.TRANSITION_NOT_ALLOWED,
                          message=_("Only packs are installed in vehicles; %(code)s is a %(type)s.")
                          % {"code": battery.code, "type": ProductType(battery.product_type).label}, field=field,
                          status=409)


def require_after_last_event(battery: Battery, occurred: dt.datetime, *, field: str = "occurred_at") -> None:
    """An event cannot be dated before the battery's previous event: the ledger tells a story in order."""
    from apps.batteries.models import BatteryEvent

    last = (BatteryEvent.objects.filter(battery_id=battery.pk).order_by("-seq").values_list("occurred_at", flat=True)
            .first())
    if last is not None and occurred < last:
        raise DomainError(code=ErrorCode.OCCURRED_AT_INVALID,
                          message=_("The event time %(when)s is before the battery's previous event (%(last)s).")
                          % {"when": timezone.localtime(occurred).strftime("%Y-%m-%d %H:%M"),
                             "last": timezone.localtime(last).strftime("%Y-%m-%d %H:%M")}, field=field)


def vehicle_for_update(vin: str, *, field: str = "vin") -> Vehicle:
    vehicle = Vehicle.objects.select_for_update().filter(vin=vin).first()
    if vehicle is None:
        raise DomainError(code=ErrorCode.VEHICLE_UNKNOWN,
                          message=_("Vehicle %(vin)s is not registered.") % {"vin": vin}, field=field)
    if vehicle.status == Vehicle.Status.SCRAPPED:
        raise DomainError(code=ErrorCode.VEHICLE_SCRAPPED,
                          message=_("Vehicle %(vin)s has been scrapped.") % {"vin": vin}, field=field, status=409)
    return vehicle


def _save(battery: Battery, *fields: str) -> None:
    battery.updated_at = timezone.now()
    battery.save(update_fields=["ledger_seq", "ledger_head", "updated_at", *fields])


def _user_id(actor) -> int | None:
    return getattr(actor, "pk", None)


# --- registration ---------------------------------------------------------------------------------------------


def registration_problem_for_maker(parsed, enterprise: Enterprise, own_codes: set[str]) -> DomainError | None:
    if parsed.manufacturer_code not in own_codes:
        return DomainError(
            code=ErrorCode.MANUFACTURER_CODE_NOT_YOURS,
            message=_("Battery code %(code)s: manufacturer code %(mfr)s (positions 1-3) is not assigned to your "
                      "enterprise; your codes: %(own)s.")
            % {"code": parsed.code, "mfr": parsed.manufacturer_code, "own": ", ".join(sorted(own_codes)) or "—"},
            field="code", status=403)
    return None


@service
def battery_register(*, actor, code: str, capacity_kwh=None, weight_kg=None, parent_code: str | None = None,
                     occurred_at=None) -> Battery:
    """A battery maker registers a pack, module or cell when it leaves the factory (event *produced*)."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "register")
    parsed = check_battery_code(code)
    own = set(ManufacturerCode.objects.filter(enterprise=enterprise).values_list("code", flat=True))
    problem = registration_problem_for_maker(parsed, enterprise, own)
    if problem:
        raise problem
    capacity = positive_decimal(capacity_kwh, field="capacity_kwh")
    weight = positive_decimal(weight_kg, field="weight_kg")
    occurred = check_occurred_at(occurred_at)
    parent = None
    if parent_code:
        parent = lock_battery(parent_code, field="parent_code")
        if parent.maker_id != enterprise.pk or PRODUCT_LEVEL[parent.product_type] >= PRODUCT_LEVEL[parsed.product_type]:
            raise DomainError(code=ErrorCode.PARENT_INVALID,
                              message=_("%(parent)s cannot contain %(code)s: the parent must be your own pack "
                                        "(for a module or cell) or module (for a cell).")
                              % {"parent": parent.code, "code": parsed.code}, field="parent_code")
    if Battery.objects.filter(code=parsed.code).exists():
        raise DomainError(code=ErrorCode.BATTERY_ALREADY_REGISTERED,
                          message=_("Battery %(code)s is already registered.") % {"code": parsed.code}, field="code",
                          status=409)
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: the same code registered at the same moment by another request
            battery = Battery.objects.create(
                code=parsed.code, manufacturer_code=parsed.manufacturer_code, product_type=parsed.product_type,
                chemistry=parsed.battery_type, spec_code=parsed.spec_code, trace_code=parsed.trace_code,
                production_date=parsed.production_date, serial=parsed.serial, capacity_kwh=capacity, weight_kg=weight,
                parent=parent, maker=enterprise, holder=enterprise, status=BatteryStatus.IN_STOCK,
                registered_at=now, updated_at=now,
            )
    except IntegrityError:
        raise DomainError(code=ErrorCode.BATTERY_ALREADY_REGISTERED,
                          message=_("Battery %(code)s is already registered.") % {"code": parsed.code}, field="code",
                          status=409)
    ledger_append(battery=battery, kind=EventKind.PRODUCED, actor_id=enterprise.pk, user_id=_user_id(actor),
                  occurred_at=occurred, details={"parent": parent.code} if parent else {})
    _save(battery)
    return battery


# --- vehicles -----------------------------------------------------------------------------------------------


@service
def vehicle_register(*, actor, vin: str, model_name: str = "", is_swap_model: bool = False) -> Vehicle:
    """A vehicle maker (or importer) records a vehicle; installation does this itself for an unknown VIN."""
    enterprise = acting_enterprise(actor)
    if not enterprise.has_role("vehicle_maker"):
        raise DomainError(code=ErrorCode.ROLE_NOT_ALLOWED, message=_("Only vehicle makers register vehicles."),
                          status=403)
    vin = check_vin(vin)
    from apps.core.validators import reject_markup

    model_name = reject_markup(model_name or "", field="model_name")[:100]
    vehicle, created = Vehicle.objects.get_or_create(
        vin=vin, defaults={"maker": enterprise, "model_name": model_name, "is_swap_model": bool(is_swap_model)})
    if not created and vehicle.maker_id not in (None, enterprise.pk):
        raise DomainError(code=ErrorCode.VIN_INVALID,
                          message=_("Vehicle %(vin)s is registered by another maker.") % {"vin": vin}, field="vin",
                          status=409)
    return vehicle


# --- installation, swap, replacement, removal ------------------------------------------------------------------


@service
def battery_install(*, actor, code: str, vin: str, occurred_at=None, model_name: str = "",
                    is_swap_model: bool | None = None) -> Battery:
    """Install a battery the enterprise holds into a vehicle (code ↔ VIN). A vehicle maker's unknown VIN is
    registered on the way; for anyone else the vehicle must already be known."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "install")
    vin = check_vin(vin)
    occurred = check_occurred_at(occurred_at)
    if enterprise.has_role("vehicle_maker") and not Vehicle.objects.filter(vin=vin).exists():
        vehicle_register(actor=actor, vin=vin, model_name=model_name, is_swap_model=bool(is_swap_model))
    vehicle = vehicle_for_update(vin)
    battery = lock_battery(code)
    require_holder(battery, enterprise)
    require_status(battery, {BatteryStatus.IN_STOCK}, _("installation"))
    require_not_waste(battery)
    require_pack(battery)
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.INSTALLED, actor_id=enterprise.pk, user_id=_user_id(actor),
                  vehicle_id=vehicle.pk, occurred_at=occurred)
    battery.status, battery.vehicle = BatteryStatus.INSTALLED, vehicle
    _save(battery, "status", "vehicle")
    return battery


def _take_out(battery: Battery, vehicle: Vehicle, *, field: str) -> None:
    if battery.status != BatteryStatus.INSTALLED or battery.vehicle_id != vehicle.pk:
        raise DomainError(code=ErrorCode.NOT_IN_THIS_VEHICLE,
                          message=_("The ledger does not show battery %(code)s installed in vehicle %(vin)s.")
                          % {"code": battery.code, "vin": vehicle.vin}, field=field, status=409)


def _swap_like(*, actor, operation: str, vin: str, out_code: str, in_code: str, occurred_at,
               out_kind: str, in_kind: str, out_field: str, in_field: str) -> tuple[Battery, Battery]:
    """Swap and repair replacement share their checks; each reports errors on its own field names."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, operation)
    vin = check_vin(vin)
    occurred = check_occurred_at(occurred_at)
    vehicle = vehicle_for_update(vin)
    if operation == "swap" and not vehicle.is_swap_model:
        raise DomainError(code=ErrorCode.NOT_SWAP_MODEL,
                          message=_("Vehicle %(vin)s is not a battery-swap model; use a repair replacement instead.")
                          % {"vin": vin}, field="vin", status=409)
    out_code, in_code = ascii_upper(out_code), ascii_upper(in_code)
    if out_code == in_code:
        raise DomainError(code=ErrorCode.INVALID, message=_("The battery taken out and the one put in must differ."),
                          field=in_field)
    rows = lock_batteries([out_code, in_code], fields={out_code: out_field, in_code: in_field})
    old, new = rows[out_code], rows[in_code]
    _take_out(old, vehicle, field=out_field)
    require_holder(new, enterprise, field=in_field)
    require_status(new, {BatteryStatus.IN_STOCK}, _("installation"), field=in_field)
    require_not_waste(new, field=in_field)
    require_pack(new, field=in_field)
    require_after_last_event(old, occurred)
    require_after_last_event(new, occurred)
    ledger_append(battery=old, kind=out_kind, actor_id=enterprise.pk, user_id=_user_id(actor), vehicle_id=vehicle.pk,
                  occurred_at=occurred, details={"replaced_by": new.code, "previous_holder": old.holder_id})
    old.status, old.vehicle, old.holder = BatteryStatus.IN_STOCK, None, enterprise
    _save(old, "status", "vehicle", "holder")
    ledger_append(battery=new, kind=in_kind, actor_id=enterprise.pk, user_id=_user_id(actor), vehicle_id=vehicle.pk,
                  occurred_at=occurred, details={"replaces": old.code})
    new.status, new.vehicle = BatteryStatus.INSTALLED, vehicle
    _save(new, "status", "vehicle")
    return old, new


@service
def battery_swap(*, actor, vin: str, out_code: str, in_code: str, occurred_at=None) -> tuple[Battery, Battery]:
    """A swap operator exchanges a swap-model vehicle's battery for one from its pool."""
    return _swap_like(actor=actor, operation="swap", vin=vin, out_code=out_code, in_code=in_code,
                      out_field="out_code", in_field="in_code",
                      occurred_at=occurred_at, out_kind=EventKind.SWAPPED_OUT, in_kind=EventKind.SWAPPED_IN)


@service
def battery_replace(*, actor, vin: str, old_code: str, new_code: str, occurred_at=None) -> tuple[Battery, Battery]:
    """A repairer takes a vehicle's battery out and puts a new one in; the old one is then held by the repairer."""
    return _swap_like(actor=actor, operation="replace", vin=vin, out_code=old_code, in_code=new_code,
                      out_field="old_code", in_field="new_code",
                      occurred_at=occurred_at, out_kind=EventKind.REPLACED_OUT, in_kind=EventKind.REPLACED_IN)


@service
def battery_remove(*, actor, code: str, vin: str, occurred_at=None, details: dict | None = None) -> Battery:
    """A dismantler removes the battery of a scrapped vehicle (called by the scrapping certificate service)."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "remove")
    vin = check_vin(vin)
    occurred = check_occurred_at(occurred_at)
    vehicle = Vehicle.objects.select_for_update().filter(vin=vin).first()
    if vehicle is None:
        raise DomainError(code=ErrorCode.VEHICLE_UNKNOWN, message=_("Vehicle %(vin)s is not registered.") % {"vin": vin},
                          field="vin")
    battery = lock_battery(code)
    _take_out(battery, vehicle, field="code")
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.REMOVED, actor_id=enterprise.pk, user_id=_user_id(actor),
                  vehicle_id=vehicle.pk, occurred_at=occurred,
                  details={"previous_holder": battery.holder_id, **(details or {})})
    battery.status, battery.vehicle, battery.holder = BatteryStatus.IN_STOCK, None, enterprise
    _save(battery, "status", "vehicle", "holder")
    return battery


@service
def battery_take_in_unreported(*, actor, code: str, vin: str, decision_reference: str, occurred_at=None) -> Battery:
    """A dismantler takes in a battery found in a scrapped vehicle although the ledger has it elsewhere — an
    unreported replacement — once a reviewer has approved that explanation (`decision_reference` names the
    decision). Only a pack in someone's stock qualifies: one installed in another vehicle, in transit, recycled or
    already used stays refused. Event *removed* with the vehicle, the previous holder and the decision."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "remove")
    if not (decision_reference or "").strip():
        raise DomainError(code=ErrorCode.PERMISSION_DENIED,
                          message=_("A reviewer's approval is required to take in a battery the ledger has elsewhere."),
                          status=403)
    vin = check_vin(vin)
    occurred = check_occurred_at(occurred_at)
    vehicle = Vehicle.objects.select_for_update().filter(vin=vin).first()
    if vehicle is None:
        raise DomainError(code=ErrorCode.VEHICLE_UNKNOWN, message=_("Vehicle %(vin)s is not registered.") % {"vin": vin},
                          field="vin")
    battery = lock_battery(code)
    require_status(battery, {BatteryStatus.IN_STOCK}, _("taking in at dismantling"))
    require_pack(battery)
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.REMOVED, actor_id=enterprise.pk, user_id=_user_id(actor),
                  vehicle_id=vehicle.pk, occurred_at=occurred,
                  details={"previous_holder": battery.holder_id, "unreported": True,
                           "decision": decision_reference.strip()[:100]})
    battery.holder = enterprise
    _save(battery, "holder")
    return battery


@service
def battery_swap_out_of_scrapped(*, actor, vin: str, code: str, occurred_at=None) -> Battery:
    """A swap operator takes its battery back out of a scrapped battery-swap model (the battery belongs to the swap
    operator, so the vehicle was scrapped without it; DOMAIN.md rule 1, exemption). No battery goes in."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "swap")
    vin = check_vin(vin)
    occurred = check_occurred_at(occurred_at)
    vehicle = Vehicle.objects.select_for_update().filter(vin=vin).first()
    if vehicle is None:
        raise DomainError(code=ErrorCode.VEHICLE_UNKNOWN, message=_("Vehicle %(vin)s is not registered.") % {"vin": vin},
                          field="vin")
    if not vehicle.is_swap_model:
        raise DomainError(code=ErrorCode.NOT_SWAP_MODEL,
                          message=_("Vehicle %(vin)s is not a battery-swap model.") % {"vin": vin}, field="vin",
                          status=409)
    if vehicle.status != Vehicle.Status.SCRAPPED:
        raise DomainError(code=ErrorCode.TRANSITION_NOT_ALLOWED,
                          message=_("Vehicle %(vin)s is still in use: exchange its battery with a swap instead.")
                          % {"vin": vin}, field="vin", status=409)
    battery = lock_battery(code)
    _take_out(battery, vehicle, field="code")
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.SWAPPED_OUT, actor_id=enterprise.pk, user_id=_user_id(actor),
                  vehicle_id=vehicle.pk, occurred_at=occurred,
                  details={"previous_holder": battery.holder_id, "vehicle_scrapped": True})
    battery.status, battery.vehicle, battery.holder = BatteryStatus.IN_STOCK, None, enterprise
    _save(battery, "status", "vehicle", "holder")
    return battery


@service
def battery_declare_waste(*, actor, code: str, occurred_at=None, reason: str = "") -> Battery:
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "declare_waste")
    occurred = check_occurred_at(occurred_at)
    battery = lock_battery(code)
    require_holder(battery, enterprise)
    require_status(battery, {BatteryStatus.IN_STOCK}, _("declaring waste"))
    if battery.is_waste:
        raise DomainError(code=ErrorCode.TRANSITION_NOT_ALLOWED,
                          message=_("Battery %(code)s is already declared waste.") % {"code": battery.code},
                          field="code", status=409)
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.DECLARED_WASTE, actor_id=enterprise.pk, user_id=_user_id(actor),
                  occurred_at=occurred, details={"reason": reason} if reason else {})
    battery.is_waste = True
    _save(battery, "is_waste")
    return battery


# --- handover ------------------------------------------------------------------------------------------------


def waste_recipient_refusal(*, recipient: Enterprise, chemistry: str, on_date: dt.date) -> DomainError | None:
    """DOMAIN.md rule 3: a waste battery goes only to a collection point or to a recycler whose licence is in
    force on that date and covers the chemistry and the work."""
    if rules.WASTE_RECIPIENT_ROLES_WITHOUT_LICENCE.intersection(recipient.roles):
        return None
    if recycler_licence_in_force(enterprise=recipient, chemistry=chemistry, scope=rules.HANDOVER_SCOPE,
                                 on_date=on_date) is not None:
        return None
    from apps.core.choices import Chemistry
    from apps.enterprises.models import RecyclerLicence
    from apps.enterprises.selectors import recycler_licence_withdrawn

    message = _("%(name)s may not receive waste batteries of chemistry %(chem)s on %(date)s: it is neither a "
                "collection point nor a licensed recycler whose licence is in force then and covers that "
                "chemistry (Interim Measures, rule 3).") % {
        "name": recipient.name, "chem": Chemistry(chemistry).label, "date": on_date.isoformat()}
    withdrawn = recycler_licence_withdrawn(enterprise=recipient)
    if withdrawn is not None:  # say why a recycler the sender may have used before no longer qualifies
        why = (_("Its licence %(number)s has been revoked.") if withdrawn.status == RecyclerLicence.Status.REVOKED
               else _("Its licence %(number)s is suspended."))
        message = f"{message} {why % {'number': withdrawn.number}}"
    return DomainError(code=ErrorCode.RECIPIENT_NOT_LICENSED, message=message, field="recipient", status=409)


def resolve_recipient(recipient) -> Enterprise:
    """An Enterprise, its id, or its unified social credit code (what integrators know)."""
    if isinstance(recipient, Enterprise):
        # Re-read (and hold) the row: an instance loaded earlier may predate a suspension.
        found = Enterprise.objects.select_for_update(no_key=True).filter(pk=recipient.pk).first()
    else:
        value = ascii_upper(str(recipient or ""))
        if len(value) >= 15 and not (value.isascii() and value.isdigit() and len(value) < 18):
            # Not an id: a malformed credit code is refused with its rule and position (GB 32100), not as an
            # unknown enterprise — and never folded into someone's code.
            from apps.enterprises.services import uscc_validate

            value = uscc_validate(value, field="recipient")
        qs = Enterprise.objects.filter(status=Enterprise.Status.ACTIVE)
        found = qs.filter(uscc=value).first() or (qs.filter(pk=int(value)).first() if value.isdigit() and len(value) < 18 else None)
    if found is None or found.status != Enterprise.Status.ACTIVE:
        raise DomainError(code=ErrorCode.RECIPIENT_INVALID,
                          message=_("The recipient %(who)s is not an active enterprise on the portal.")
                          % {"who": recipient}, field="recipient")
    return found


@service
def battery_hand_over(*, actor, code: str, recipient, occurred_at=None) -> Battery:
    """Hand a battery to another enterprise; it is *in transit* until the recipient receives or refuses it."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "hand_over")
    occurred = check_occurred_at(occurred_at)
    target = resolve_recipient(recipient)
    if target.pk == enterprise.pk:
        raise DomainError(code=ErrorCode.RECIPIENT_INVALID, message=_("You cannot hand a battery over to yourself."),
                          field="recipient")
    battery = lock_battery(code)
    require_holder(battery, enterprise)
    require_status(battery, {BatteryStatus.IN_STOCK}, _("handover"))
    if battery.is_waste:
        refusal = waste_recipient_refusal(recipient=target, chemistry=battery.chemistry,
                                          on_date=timezone.localtime(occurred).date())
        if refusal:
            raise refusal
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.HANDED_OVER, actor_id=enterprise.pk, user_id=_user_id(actor),
                  counterparty_id=target.pk, occurred_at=occurred, details={"waste": battery.is_waste})
    battery.status, battery.transit_to = BatteryStatus.IN_TRANSIT, target
    _save(battery, "status", "transit_to")
    return battery


def _in_transit_to_me(code: str, enterprise: Enterprise) -> Battery:
    battery = lock_battery(code)
    if battery.status != BatteryStatus.IN_TRANSIT or battery.transit_to_id != enterprise.pk:
        raise DomainError(code=ErrorCode.NOT_THE_RECIPIENT,
                          message=_("Battery %(code)s is not in transit to your enterprise.") % {"code": battery.code},
                          field="code", status=409)
    return battery


@service
def battery_receive(*, actor, code: str, occurred_at=None) -> Battery:
    enterprise = acting_enterprise(actor)
    occurred = check_occurred_at(occurred_at)
    battery = _in_transit_to_me(code, enterprise)
    if battery.is_waste:
        # The licence may have been suspended or revoked while the battery was on the road.
        refusal = waste_recipient_refusal(recipient=enterprise, chemistry=battery.chemistry,
                                          on_date=timezone.localtime(occurred).date())
        if refusal:
            raise refusal
    sender = battery.holder_id
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.RECEIVED, actor_id=enterprise.pk, user_id=_user_id(actor),
                  counterparty_id=sender, occurred_at=occurred)
    battery.status, battery.holder, battery.transit_to = BatteryStatus.IN_STOCK, enterprise, None
    _save(battery, "status", "holder", "transit_to")
    return battery


@service
def battery_refuse(*, actor, code: str, reason: str, occurred_at=None) -> Battery:
    """The named recipient refuses a battery; it goes back to the sender's stock."""
    enterprise = acting_enterprise(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(code=ErrorCode.REASON_REQUIRED, message=_("Give the reason for refusing."), field="reason")
    occurred = check_occurred_at(occurred_at)
    battery = _in_transit_to_me(code, enterprise)
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.REFUSED, actor_id=enterprise.pk, user_id=_user_id(actor),
                  counterparty_id=battery.holder_id, occurred_at=occurred, details={"reason": reason[:2000]})
    battery.status, battery.transit_to = BatteryStatus.IN_STOCK, None
    _save(battery, "status", "transit_to")
    return battery


# --- end of life --------------------------------------------------------------------------------------------------


def _licence_for(enterprise: Enterprise, chemistry: str, scopes, on_date: dt.date, *, what: str):
    for scope in scopes:
        licence = recycler_licence_in_force(enterprise=enterprise, chemistry=chemistry, scope=scope, on_date=on_date)
        if licence is not None:
            return licence
    raise DomainError(code=ErrorCode.LICENCE_REQUIRED,
                      message=_("Your enterprise has no licence in force on %(date)s covering %(what)s for this "
                                "chemistry (Interim Measures, rule 3).") % {"date": on_date.isoformat(), "what": what},
                      status=403)


@service
def battery_recycle(*, actor, code: str, input_weight_kg, occurred_at=None) -> Battery:
    """Final disposal by a licensed recycler, with the input weight that reconciliation checks against output."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "recycle")
    weight = positive_decimal(input_weight_kg, field="input_weight_kg", required=True)
    occurred = check_occurred_at(occurred_at)
    battery = lock_battery(code)
    require_holder(battery, enterprise)
    require_status(battery, {BatteryStatus.IN_STOCK}, _("recycling"))
    if not battery.is_waste:
        raise DomainError(code=ErrorCode.BATTERY_NOT_WASTE,
                          message=_("Battery %(code)s has not been declared waste.") % {"code": battery.code},
                          field="code", status=409)
    licence = _licence_for(enterprise, battery.chemistry, rules.RECYCLING_SCOPES,
                           timezone.localtime(occurred).date(), what=_("recycling"))
    require_after_last_event(battery, occurred)
    ledger_append(battery=battery, kind=EventKind.RECYCLED, actor_id=enterprise.pk, user_id=_user_id(actor),
                  occurred_at=occurred, details={"input_weight_kg": str(weight), "licence": licence.number})
    battery.status = BatteryStatus.RECYCLED
    _save(battery, "status")
    return battery


@service
def battery_remanufacture(*, actor, source_codes: list[str], new_code: str, field_of_use: str, standard_number: str,
                          capacity_kwh=None, weight_kg=None, occurred_at=None) -> Battery:
    """Waste batteries become part of a new product with its own code, for a declared field of use meeting a
    declared quality standard. Electric bicycles and any banned field are refused (DOMAIN.md rule 2)."""
    enterprise = acting_enterprise(actor)
    require_role(enterprise, "remanufacture")
    if field_of_use not in FieldOfUse.values:
        raise DomainError(code=ErrorCode.INVALID, message=_("Choose a field of use from the list."), field="field_of_use")
    refusal = rules.remanufacture_field_refusal(field_of_use)
    if refusal:
        raise DomainError(
            code=ErrorCode.FIELD_OF_USE_BANNED,
            message=_("Products made from waste power batteries may not be used in %(field)s: banned by the Interim "
                      "Measures (no more cascade use in electric bicycles or fields banned by law or mandatory "
                      "standard; DOMAIN.md rule 2).") % {"field": FieldOfUse(field_of_use).label},
            field="field_of_use", status=409)
    standard_number = (standard_number or "").strip()
    if not rules.standard_number_ok(standard_number):
        raise DomainError(code=ErrorCode.STANDARD_NUMBER_INVALID,
                          message=_("Give the number of the quality standard the product meets, e.g. GB/T 36276-2018."),
                          field="standard_number")
    # The same battery listed twice is used once.
    sources = list(dict.fromkeys(ascii_upper(c) for c in source_codes or [] if (c or "").strip()))
    if not sources:
        raise DomainError(code=ErrorCode.INVALID, message=_("List the waste batteries used."), field="source_codes")
    parsed = check_battery_code(new_code, field="new_code")
    own = set(ManufacturerCode.objects.filter(enterprise=enterprise).values_list("code", flat=True))
    problem = registration_problem_for_maker(parsed, enterprise, own)
    if problem:
        problem.field = "new_code"
        raise problem
    if Battery.objects.filter(code=parsed.code).exists():
        raise DomainError(code=ErrorCode.BATTERY_ALREADY_REGISTERED,
                          message=_("Battery %(code)s is already registered.") % {"code": parsed.code},
                          field="new_code", status=409)
    occurred = check_occurred_at(occurred_at)
    on_date = timezone.localtime(occurred).date()
    rows = lock_batteries(sources, field="source_codes")
    for code in sources:
        source = rows[code]
        require_holder(source, enterprise, field="source_codes")
        require_status(source, {BatteryStatus.IN_STOCK}, _("remanufacturing"), field="source_codes")
        if not source.is_waste:
            raise DomainError(code=ErrorCode.BATTERY_NOT_WASTE,
                              message=_("Battery %(code)s has not been declared waste.") % {"code": code},
                              field="source_codes", status=409)
        _licence_for(enterprise, source.chemistry, [rules.REMANUFACTURE_SCOPE], on_date, what=_("repurposing"))
        require_after_last_event(source, occurred)
    now = timezone.now()
    capacity = positive_decimal(capacity_kwh, field="capacity_kwh")
    weight = positive_decimal(weight_kg, field="weight_kg")
    try:
        with transaction.atomic():
            product = Battery.objects.create(
                code=parsed.code, manufacturer_code=parsed.manufacturer_code, product_type=parsed.product_type,
                chemistry=parsed.battery_type, spec_code=parsed.spec_code, trace_code=parsed.trace_code,
                production_date=parsed.production_date, serial=parsed.serial, capacity_kwh=capacity, weight_kg=weight,
                maker=enterprise, holder=enterprise, status=BatteryStatus.IN_STOCK, registered_at=now, updated_at=now)
    except IntegrityError:
        raise DomainError(code=ErrorCode.BATTERY_ALREADY_REGISTERED,
                          message=_("Battery %(code)s is already registered.") % {"code": parsed.code},
                          field="new_code", status=409)
    record = Remanufacture.objects.create(product=product, field_of_use=field_of_use, standard_number=standard_number,
                                          actor=enterprise)
    for code in sources:
        source = rows[code]
        RemanufactureSource.objects.create(remanufacture=record, source=source)
        ledger_append(battery=source, kind=EventKind.REMANUFACTURED, actor_id=enterprise.pk, user_id=_user_id(actor),
                      occurred_at=occurred, details={"product": product.code})
        source.status = BatteryStatus.REMANUFACTURED
        _save(source, "status")
    ledger_append(battery=product, kind=EventKind.REMANUFACTURE_PRODUCED, actor_id=enterprise.pk,
                  user_id=_user_id(actor), occurred_at=occurred,
                  details={"sources": sources, "field_of_use": field_of_use, "standard": standard_number})
    _save(product)
    return product
