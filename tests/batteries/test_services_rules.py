"""Every refusal of every lifecycle service, with its stable error code, and proof that a refusal changes nothing:
no Battery field, no ledger event, no vehicle, no remanufacture record. The smoke tests in test_lifecycle.py walk
the happy paths; this file walks the edges."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from apps.accounts.models import User
from apps.batteries import services
from apps.batteries.ledger import ledger_verify
from apps.batteries.models import Battery, BatteryEvent, Remanufacture, RemanufactureSource, Vehicle
from apps.core.errors import DomainError, ErrorCode
from apps.enterprises import services as enterprise_services
from apps.enterprises.models import Enterprise, ManufacturerCode
from tests.batteries.conftest import VIN, VIN2, VIN3, make_code, staff
from tests.factories import EnterpriseFactory, LicenceFactory

pytestmark = pytest.mark.django_db

BAD_CHECK_VIN = VIN[:8] + "0" + VIN[9:]  # VIN's check digit is X


# --- helpers --------------------------------------------------------------------------------------------------


def snapshot():
    """Everything a lifecycle service may write."""
    return (
        list(Battery.objects.order_by("pk").values()),
        list(BatteryEvent.objects.order_by("pk").values_list("pk", "battery_id", "seq", "hash")),
        list(Vehicle.objects.order_by("pk").values()),
        list(Remanufacture.objects.order_by("pk").values_list("pk", "product_id")),
        list(RemanufactureSource.objects.order_by("pk").values_list("pk", "source_id")),
    )


def refused(error_code: str, fn, **kwargs) -> DomainError:
    """`fn(**kwargs)` raises DomainError with `error_code` and leaves the database exactly as it was."""
    assert error_code in {c.value for c in ErrorCode}, error_code
    before = snapshot()
    with pytest.raises(DomainError) as err:
        fn(**kwargs)
    assert err.value.code == error_code, (err.value.code, str(err.value.message))
    assert snapshot() == before, "a refused operation changed the database"
    return err.value


def fresh(user) -> User:
    """The user as a new request would load it (membership and enterprise re-read)."""
    return User.objects.get(pk=user.pk)


def register(maker, **kwargs) -> str:
    code = make_code(**kwargs)
    services.battery_register(actor=maker, code=code)
    return code


def give(sender, recipient, code: str) -> None:
    services.battery_hand_over(actor=sender, code=code, recipient=recipient.enterprise)
    services.battery_receive(actor=recipient, code=code)


def row(code: str) -> Battery:
    return Battery.objects.get(code=code)


def kinds(code: str) -> list[str]:
    return list(BatteryEvent.objects.filter(battery__code=code).order_by("seq").values_list("kind", flat=True))


def last_event(code: str) -> BatteryEvent:
    return BatteryEvent.objects.filter(battery__code=code).order_by("-seq").first()


def recycler_with(*, chemistries=("B", "E"), scopes=("dismantling",), days_from=-30, days_to=30, mfr=None,
                  name="licensed"):
    """A recycler enterprise with one licence and one staff user."""
    today = timezone.localdate()
    roles = ["recycler", "battery_maker"] if mfr else ["recycler"]
    co = EnterpriseFactory(name=f"回收{name}", roles=roles, province="43")
    LicenceFactory(enterprise=co, scopes=list(scopes), chemistries=list(chemistries),
                   valid_from=today + dt.timedelta(days=days_from), valid_to=today + dt.timedelta(days=days_to))
    if mfr:
        ManufacturerCode.objects.create(code=mfr, enterprise=co)
    return staff(co, name)


@pytest.fixture
def waste(maker):
    """A waste battery (ternary, E) held by the maker."""
    code = register(maker)
    services.battery_declare_waste(actor=maker, code=code)
    return code


@pytest.fixture
def at_recycler(maker, recycler, waste):
    """A waste battery received by the licensed recycler."""
    give(maker, recycler, waste)
    return waste


@pytest.fixture
def installed(maker, carmaker):
    """A pack installed by the carmaker in VIN, a swap model."""
    code = register(maker)
    give(maker, carmaker, code)
    services.battery_install(actor=carmaker, code=code, vin=VIN, is_swap_model=True)
    return code


# --- registration ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["carmaker", "swapper", "repairer", "collector", "dismantler",
                                     "unlicensed_recycler"])
def test_only_battery_makers_register(request, persona):
    user = request.getfixturevalue(persona)
    err = refused("role_not_allowed", services.battery_register, actor=user, code=make_code())
    assert err.status == 403


def test_a_suspended_maker_registers_nothing(maker, maker_co, admin_user):
    enterprise_services.enterprise_suspend(actor=admin_user, enterprise=maker_co, reason="整改")
    err = refused("enterprise_suspended", services.battery_register, actor=fresh(maker), code=make_code())
    assert err.status == 403


def test_a_suspended_holder_can_neither_hand_over_nor_declare_waste(maker, maker_co, carmaker, reviewer):
    code = register(maker)
    enterprise_services.enterprise_suspend(actor=reviewer, enterprise=maker_co, reason="整改")
    refused("enterprise_suspended", services.battery_hand_over, actor=fresh(maker), code=code,
            recipient=carmaker.enterprise)
    refused("enterprise_suspended", services.battery_declare_waste, actor=fresh(maker), code=code)


def test_a_user_without_an_enterprise_is_refused(reviewer):
    refused("permission_denied", services.battery_register, actor=reviewer, code=make_code())
    refused("permission_denied", services.battery_register, actor=None, code=make_code())


def test_another_makers_code_is_refused_and_names_it(maker, rival_maker):
    err = refused("manufacturer_code_not_yours", services.battery_register, actor=maker, code=make_code("1KC"))
    assert "1KC" in str(err.message) and "0PA" in str(err.message)


def test_a_duplicate_code_is_refused_even_in_lower_case(maker):
    code = register(maker)
    refused("battery_already_registered", services.battery_register, actor=maker, code=code)
    refused("battery_already_registered", services.battery_register, actor=maker, code=f"  {code.lower()} ")
    assert kinds(code) == ["produced"]


@pytest.mark.parametrize("bad", ["ABC", make_code()[:23], make_code()[:4] + "H" + make_code()[5:]])
def test_a_malformed_code_is_refused(maker, bad):
    refused("battery_code_invalid", services.battery_register, actor=maker, code=bad)


def test_a_code_dated_in_the_future_is_refused(maker):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    err = refused("battery_code_invalid", services.battery_register, actor=maker, code=make_code(day=tomorrow))
    with translation.override("en"):
        assert "future" in str(err.message)


@pytest.mark.parametrize("field", ["capacity_kwh", "weight_kg"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "NaN", "Infinity", "0.000", " "])
def test_bad_quantities_are_refused(maker, field, value):
    err = refused("quantity_invalid", services.battery_register, actor=maker, code=make_code(), **{field: value})
    assert err.field == field


def test_quantities_are_stored(maker):
    battery = services.battery_register(actor=maker, code=make_code(), capacity_kwh="75.5", weight_kg=Decimal("420"))
    battery.refresh_from_db()
    assert (battery.capacity_kwh, battery.weight_kg) == (Decimal("75.500"), Decimal("420.000"))


def test_a_module_goes_inside_its_own_pack_and_a_cell_inside_a_module_or_pack(maker):
    pack = register(maker, product="P")
    module = services.battery_register(actor=maker, code=make_code(product="M"), parent_code=pack.lower())
    cell = services.battery_register(actor=maker, code=make_code(product="C"), parent_code=module.code)
    cell_in_pack = services.battery_register(actor=maker, code=make_code(product="C"), parent_code=pack)
    assert module.parent.code == pack and cell.parent == module and cell_in_pack.parent.code == pack
    assert set(row(pack).children.values_list("code", flat=True)) == {module.code, cell_in_pack.code}
    assert last_event(module.code).details == {"parent": pack}
    assert ledger_verify() == []


@pytest.mark.parametrize("parent_type, child_type", [("M", "P"), ("P", "P"), ("M", "M"), ("C", "C"), ("C", "M"),
                                                     ("C", "P")])
def test_a_parent_must_be_of_a_higher_level(maker, parent_type, child_type):
    parent = register(maker, product=parent_type)
    err = refused("parent_invalid", services.battery_register, actor=maker, code=make_code(product=child_type),
                  parent_code=parent)
    assert err.field == "parent_code"


def test_a_parent_of_another_maker_is_refused(maker, rival_maker):
    rival_pack = register(rival_maker, mfr="1KC")
    refused("parent_invalid", services.battery_register, actor=maker, code=make_code(product="M"),
            parent_code=rival_pack)


def test_an_unknown_parent_is_refused(maker):
    err = refused("battery_unknown", services.battery_register, actor=maker, code=make_code(product="M"),
                  parent_code=make_code())
    assert err.field == "parent_code"


def test_registration_rejects_an_event_time_in_the_future(maker):
    refused("occurred_at_invalid", services.battery_register, actor=maker, code=make_code(),
            occurred_at=timezone.now() + dt.timedelta(hours=1))


@pytest.mark.parametrize("char", ["ı", "ſ"])
def test_non_ascii_lower_case_is_refused_not_transliterated(maker, char):
    good = make_code()
    bad = good[:10] + char + good[11:]  # position 11, inside the traceability code
    err = refused("battery_code_invalid", services.battery_register, actor=maker, code=bad)
    assert "11" in str(err.message)


# --- installation ---------------------------------------------------------------------------------------------


def test_install_requires_the_holder(maker, carmaker):
    code = register(maker)
    refused("not_holder", services.battery_install, actor=carmaker, code=code, vin=VIN)


def test_install_refuses_a_battery_in_transit(maker, carmaker):
    code = register(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    refused("not_holder", services.battery_install, actor=carmaker, code=code, vin=VIN)


def test_install_refuses_a_waste_battery(maker, carmaker):
    code = register(maker)
    give(maker, carmaker, code)
    services.battery_declare_waste(actor=carmaker, code=code)
    refused("battery_is_waste", services.battery_install, actor=carmaker, code=code, vin=VIN)


@pytest.mark.parametrize("product", ["M", "C"])
def test_only_packs_are_installed(maker, carmaker, product):
    code = register(maker, product=product)
    give(maker, carmaker, code)
    Vehicle.objects.create(vin=VIN, maker=carmaker.enterprise)
    refused("transition_not_allowed", services.battery_install, actor=carmaker, code=code, vin=VIN)


def test_install_refuses_a_scrapped_vehicle(maker, carmaker):
    code = register(maker)
    give(maker, carmaker, code)
    Vehicle.objects.create(vin=VIN, maker=carmaker.enterprise, status=Vehicle.Status.SCRAPPED)
    refused("vehicle_scrapped", services.battery_install, actor=carmaker, code=code, vin=VIN)


def test_install_refuses_an_installed_battery(maker, carmaker, installed):
    refused("transition_not_allowed", services.battery_install, actor=carmaker, code=installed, vin=VIN2)


def test_a_repairer_installs_only_into_a_known_vehicle(maker, repairer):
    code = register(maker)
    give(maker, repairer, code)
    err = refused("vehicle_unknown", services.battery_install, actor=repairer, code=code, vin=VIN)
    assert VIN in str(err.message)
    Vehicle.objects.create(vin=VIN)
    assert services.battery_install(actor=repairer, code=code, vin=VIN).vehicle.vin == VIN


def test_a_vehicle_makers_unknown_vin_is_registered_on_installation(maker, carmaker):
    code = register(maker)
    give(maker, carmaker, code)
    battery = services.battery_install(actor=carmaker, code=code, vin=f" {VIN.lower()} ", model_name="申城 E5",
                                       is_swap_model=True)
    vehicle = Vehicle.objects.get()
    assert (vehicle.vin, vehicle.maker, vehicle.model_name, vehicle.is_swap_model) == (
        VIN, carmaker.enterprise, "申城 E5", True)
    assert (battery.status, battery.vehicle, battery.holder) == ("installed", vehicle, carmaker.enterprise)
    event = last_event(code)
    assert (event.kind, event.vehicle, event.actor) == ("installed", vehicle, carmaker.enterprise)


def test_a_bad_check_digit_is_refused_naming_the_expected_one(maker, carmaker):
    code = register(maker)
    give(maker, carmaker, code)
    with translation.override("en"):
        err = refused("vin_invalid", services.battery_install, actor=carmaker, code=code, vin=BAD_CHECK_VIN)
        assert "position 9" in str(err.message) and "should be X" in str(err.message)
    assert err.field == "vin"


@pytest.mark.parametrize("vin, fragment", [(VIN[:4] + "I" + VIN[5:], "position 5"), (VIN[:16], "16 characters"),
                                           ("", "0 characters")])
def test_a_malformed_vin_is_refused(maker, carmaker, vin, fragment):
    code = register(maker)
    give(maker, carmaker, code)
    with translation.override("en"):
        err = refused("vin_invalid", services.battery_install, actor=carmaker, code=code, vin=vin)
        assert fragment in str(err.message)


def test_without_strict_check_digit_a_wrong_one_is_accepted(maker, carmaker, settings):
    settings.VIN_STRICT_CHECK_DIGIT = False
    code = register(maker)
    give(maker, carmaker, code)
    assert services.battery_install(actor=carmaker, code=code, vin=BAD_CHECK_VIN).vehicle.vin == BAD_CHECK_VIN
    # …but never a letter a VIN cannot contain
    other = register(maker)
    give(maker, carmaker, other)
    refused("vin_invalid", services.battery_install, actor=carmaker, code=other, vin=VIN2[:4] + "O" + VIN2[5:])


def test_install_rejects_a_future_event_time(maker, carmaker):
    code = register(maker)
    give(maker, carmaker, code)
    refused("occurred_at_invalid", services.battery_install, actor=carmaker, code=code, vin=VIN,
            occurred_at=timezone.now() + dt.timedelta(days=2))


# --- swap and replacement -------------------------------------------------------------------------------------


@pytest.fixture
def pool(maker, swapper):
    """Two packs in the swap operator's stock."""
    codes = [register(maker), register(maker)]
    for c in codes:
        give(maker, swapper, c)
    return codes


def test_swap_refuses_a_battery_not_in_that_vehicle(installed, pool, swapper, carmaker):
    new, other = pool
    refused("not_in_this_vehicle", services.battery_swap, actor=swapper, vin=VIN, out_code=other, in_code=new)
    Vehicle.objects.create(vin=VIN2, maker=carmaker.enterprise, is_swap_model=True)
    refused("not_in_this_vehicle", services.battery_swap, actor=swapper, vin=VIN2, out_code=installed, in_code=new)


def test_swap_refuses_the_same_code_in_and_out(installed, swapper):
    err = refused("invalid", services.battery_swap, actor=swapper, vin=VIN, out_code=installed,
                  in_code=f" {installed.lower()}")
    assert err.field == "in_code"


def test_swap_refuses_unknown_batteries(installed, swapper):
    refused("battery_unknown", services.battery_swap, actor=swapper, vin=VIN, out_code=installed, in_code=make_code())


def test_swap_in_battery_must_be_held_in_stock_and_not_waste(maker, installed, pool, swapper):
    new, spare = pool
    not_held = register(maker)
    refused("not_holder", services.battery_swap, actor=swapper, vin=VIN, out_code=installed, in_code=not_held)
    services.battery_declare_waste(actor=swapper, code=spare)
    refused("battery_is_waste", services.battery_swap, actor=swapper, vin=VIN, out_code=installed, in_code=spare)


def test_swap_refuses_a_scrapped_vehicle(installed, pool, swapper):
    Vehicle.objects.filter(vin=VIN).update(status=Vehicle.Status.SCRAPPED)
    refused("vehicle_scrapped", services.battery_swap, actor=swapper, vin=VIN, out_code=installed, in_code=pool[0])


def test_swap_and_replace_are_for_their_own_roles(installed, pool, swapper, repairer):
    refused("role_not_allowed", services.battery_swap, actor=repairer, vin=VIN, out_code=installed, in_code=pool[0])
    refused("role_not_allowed", services.battery_replace, actor=swapper, vin=VIN, old_code=installed,
            new_code=pool[0])


def test_a_swap_records_both_sides(installed, pool, swapper, carmaker):
    new = pool[0]
    old_b, new_b = services.battery_swap(actor=swapper, vin=VIN, out_code=installed, in_code=new)
    out_event, in_event = last_event(installed), last_event(new)
    assert (out_event.kind, out_event.details) == ("swapped_out", {"replaced_by": new,
                                                                    "previous_holder": carmaker.enterprise.pk})
    assert (in_event.kind, in_event.details, in_event.vehicle.vin) == ("swapped_in", {"replaces": installed}, VIN)
    assert list(Battery.objects.filter(vehicle__vin=VIN).values_list("code", flat=True)) == [new]
    assert ledger_verify() == []


def test_a_repairer_may_replace_on_a_swap_model_and_keeps_the_old_battery(maker, installed, repairer, carmaker):
    new = register(maker)
    give(maker, repairer, new)
    old_b, new_b = services.battery_replace(actor=repairer, vin=VIN, old_code=installed, new_code=new)
    old_b, new_b = row(installed), row(new)
    assert (old_b.status, old_b.holder, old_b.vehicle, old_b.is_waste) == ("in_stock", repairer.enterprise, None, False)
    assert (new_b.status, new_b.vehicle.vin, new_b.holder) == ("installed", VIN, repairer.enterprise)
    assert kinds(installed)[-1] == "replaced_out" and kinds(new)[-1] == "replaced_in"
    assert last_event(installed).details["previous_holder"] == carmaker.enterprise.pk
    # the repairer now holds it and may hand it on to the compliant channel
    services.battery_declare_waste(actor=repairer, code=installed)
    assert ledger_verify() == []


def test_replace_refuses_a_battery_not_in_that_vehicle(maker, installed, repairer):
    new, stray = register(maker), register(maker)
    give(maker, repairer, new)
    refused("not_in_this_vehicle", services.battery_replace, actor=repairer, vin=VIN, old_code=stray, new_code=new)
    refused("vehicle_unknown", services.battery_replace, actor=repairer, vin=VIN3, old_code=installed, new_code=new)


def test_replace_refuses_a_module_as_the_new_battery(maker, installed, repairer):
    module = register(maker, product="M")
    give(maker, repairer, module)
    refused("transition_not_allowed", services.battery_replace, actor=repairer, vin=VIN, old_code=installed,
            new_code=module)


# --- removal at dismantling -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["carmaker", "repairer", "swapper", "recycler"])
def test_only_a_dismantler_removes(request, installed, persona):
    refused("role_not_allowed", services.battery_remove, actor=request.getfixturevalue(persona), code=installed,
            vin=VIN)


def test_remove_refuses_a_battery_not_installed_or_not_in_that_vehicle(maker, carmaker, installed, dismantler):
    loose = register(maker)
    refused("not_in_this_vehicle", services.battery_remove, actor=dismantler, code=loose, vin=VIN)
    Vehicle.objects.create(vin=VIN2, maker=carmaker.enterprise)
    refused("not_in_this_vehicle", services.battery_remove, actor=dismantler, code=installed, vin=VIN2)
    refused("vehicle_unknown", services.battery_remove, actor=dismantler, code=installed, vin=VIN3)
    refused("battery_unknown", services.battery_remove, actor=dismantler, code=make_code(), vin=VIN)


def test_remove_hands_the_battery_to_the_dismantler(installed, dismantler, carmaker):
    battery = services.battery_remove(actor=dismantler, code=installed, vin=VIN, details={"certificate": "BF-1"})
    battery.refresh_from_db()
    assert (battery.status, battery.holder, battery.vehicle) == ("in_stock", dismantler.enterprise, None)
    assert last_event(installed).details == {"previous_holder": carmaker.enterprise.pk, "certificate": "BF-1"}


# --- declaring waste ------------------------------------------------------------------------------------------


def test_declaring_waste_twice_is_refused(maker, waste):
    refused("transition_not_allowed", services.battery_declare_waste, actor=maker, code=waste)
    assert kinds(waste) == ["produced", "declared_waste"]


def test_declaring_waste_in_transit_is_refused_to_both_ends(maker, carmaker):
    code = register(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    refused("not_holder", services.battery_declare_waste, actor=maker, code=code)
    refused("not_holder", services.battery_declare_waste, actor=carmaker, code=code)


def test_declaring_waste_needs_the_holder_and_stock(maker, carmaker, installed):
    refused("not_holder", services.battery_declare_waste, actor=carmaker, code=register(maker))
    refused("transition_not_allowed", services.battery_declare_waste, actor=carmaker, code=installed)


def test_declaring_waste_records_the_reason(maker):
    code = register(maker)
    services.battery_declare_waste(actor=maker, code=code, reason="容量衰减")
    assert (row(code).is_waste, last_event(code).details) == (True, {"reason": "容量衰减"})


# --- handover -------------------------------------------------------------------------------------------------


def test_handover_to_self_is_refused(maker, maker_co):
    code = register(maker)
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=code, recipient=maker_co)
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=code, recipient=maker_co.uscc)


@pytest.mark.parametrize("recipient", ["91350200776049653A", "999999999", "nobody", "", None, "-1"])
def test_handover_to_an_unknown_enterprise_is_refused(maker, recipient):
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=register(maker), recipient=recipient)


@pytest.mark.parametrize("status", ["suspended", "pending", "returned", "rejected"])
def test_handover_to_an_inactive_enterprise_is_refused(maker, status):
    other = EnterpriseFactory(roles=["vehicle_maker"], status=status)
    code = register(maker)
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=code, recipient=other.uscc)
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=code, recipient=str(other.pk))
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=code,
            recipient=Enterprise.objects.get(pk=other.pk))


def test_handover_to_an_enterprise_suspended_by_a_reviewer_is_refused(maker, carmaker, reviewer):
    enterprise_services.enterprise_suspend(actor=reviewer, enterprise=carmaker.enterprise, reason="整改")
    code = register(maker)
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=code, recipient=carmaker.enterprise.uscc)


def test_handover_rereads_the_recipient_status(maker, carmaker, reviewer):
    loaded_before = Enterprise.objects.get(pk=carmaker.enterprise.pk)
    enterprise_services.enterprise_suspend(actor=reviewer, enterprise=loaded_before, reason="整改")
    refused("recipient_invalid", services.battery_hand_over, actor=maker, code=register(maker),
            recipient=loaded_before)


def test_waste_to_an_unlicensed_recycler_cites_rule_3(maker, waste, unlicensed_recycler):
    with translation.override("en"):
        err = refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=waste,
                      recipient=unlicensed_recycler.enterprise)
        assert "rule 3" in str(err.message) and "Ternary" in str(err.message)
    assert err.field == "recipient"


@pytest.mark.parametrize("persona", ["carmaker", "swapper", "repairer", "dismantler", "rival_maker"])
def test_waste_to_other_non_recyclers_is_refused(request, maker, waste, persona):
    refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=waste,
            recipient=request.getfixturevalue(persona).enterprise)


def test_waste_to_a_recycler_not_licensed_for_the_chemistry_is_refused(maker, waste):
    only_lfp = recycler_with(chemistries=["B"])
    refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=waste,
            recipient=only_lfp.enterprise)
    lfp = register(maker, chem="B")
    services.battery_declare_waste(actor=maker, code=lfp)
    services.battery_hand_over(actor=maker, code=lfp, recipient=only_lfp.enterprise)  # control: B is covered


def test_waste_to_a_recycler_whose_licence_lacks_the_dismantling_scope_is_refused(maker, waste):
    metals_only = recycler_with(scopes=["hydrometallurgy"])
    refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=waste,
            recipient=metals_only.enterprise)


@pytest.mark.parametrize("days_from, days_to", [(-400, -1), (1, 400)], ids=["expired", "not yet valid"])
def test_waste_to_a_recycler_whose_licence_is_not_in_force_today_is_refused(maker, waste, days_from, days_to):
    holder = recycler_with(days_from=days_from, days_to=days_to)
    refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=waste, recipient=holder.enterprise)


def test_the_licence_is_judged_on_the_event_date(maker):
    holder = recycler_with(days_from=-400, days_to=-3)  # expired three days ago
    weeks_ago = timezone.now() - dt.timedelta(days=14)
    code = make_code(day=timezone.localdate() - dt.timedelta(days=30))
    services.battery_register(actor=maker, code=code, occurred_at=weeks_ago)
    services.battery_declare_waste(actor=maker, code=code, occurred_at=weeks_ago)
    refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=code, recipient=holder.enterprise)
    services.battery_hand_over(actor=maker, code=code, recipient=holder.enterprise,
                               occurred_at=timezone.now() - dt.timedelta(days=7))
    assert row(code).transit_to == holder.enterprise


def test_waste_to_a_recycler_with_a_suspended_licence_is_refused(maker, waste, recycler, admin_user):
    licence = recycler.enterprise.licences.get()
    enterprise_services.recycler_licence_suspend(actor=admin_user, licence=licence, reason="检查")
    refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=waste, recipient=recycler.enterprise)
    enterprise_services.recycler_licence_reinstate(actor=admin_user, licence=licence, reason="整改完成")
    services.battery_hand_over(actor=maker, code=waste, recipient=recycler.enterprise)


def test_waste_to_a_collection_point_needs_no_licence(maker, waste, collector):
    give(maker, collector, waste)
    assert row(waste).holder == collector.enterprise


@pytest.mark.parametrize("persona", ["carmaker", "unlicensed_recycler", "collector", "dismantler", "rival_maker",
                                     "swapper", "repairer"])
def test_a_non_waste_battery_goes_to_any_active_enterprise(request, maker, persona):
    target = request.getfixturevalue(persona)
    code = register(maker)
    battery = services.battery_hand_over(actor=maker, code=code, recipient=target.enterprise.uscc)
    assert (battery.status, battery.transit_to, battery.holder) == ("in_transit", target.enterprise, maker.enterprise)
    event = last_event(code)
    assert (event.kind, event.counterparty, event.details) == ("handed_over", target.enterprise, {"waste": False})


@pytest.mark.parametrize("when", [dt.timedelta(minutes=30), dt.timedelta(days=1)])
def test_handover_in_the_future_is_refused(maker, carmaker, when):
    err = refused("occurred_at_invalid", services.battery_hand_over, actor=maker, code=register(maker),
                  recipient=carmaker.enterprise, occurred_at=timezone.now() + when)
    assert err.field == "occurred_at"


def test_handover_time_is_checked_for_plausibility(maker, carmaker):
    code = register(maker)
    refused("occurred_at_invalid", services.battery_hand_over, actor=maker, code=code, recipient=carmaker.enterprise,
            occurred_at=dt.datetime(1999, 12, 31, 12, 0))
    refused("occurred_at_invalid", services.battery_hand_over, actor=maker, code=code, recipient=carmaker.enterprise,
            occurred_at=timezone.localdate() + dt.timedelta(days=2))
    # a few minutes of clock skew are tolerated
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise,
                               occurred_at=timezone.now() + dt.timedelta(minutes=5))


def test_an_event_cannot_predate_the_previous_event(maker, carmaker):
    code = register(maker)  # produced now
    refused("occurred_at_invalid", services.battery_hand_over, actor=maker, code=code, recipient=carmaker.enterprise,
            occurred_at=timezone.now() - dt.timedelta(days=60))


def test_handover_of_an_installed_or_foreign_battery_is_refused(maker, carmaker, installed, swapper):
    refused("transition_not_allowed", services.battery_hand_over, actor=carmaker, code=installed,
            recipient=swapper.enterprise)
    refused("not_holder", services.battery_hand_over, actor=swapper, code=installed, recipient=maker.enterprise)


# --- receipt and refusal --------------------------------------------------------------------------------------


def test_only_the_named_recipient_receives(maker, carmaker, swapper):
    code = register(maker)
    refused("not_the_recipient", services.battery_receive, actor=carmaker, code=code)  # not in transit
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    for other in (swapper, maker):
        err = refused("not_the_recipient", services.battery_receive, actor=other, code=code)
        assert err.status == 409
    battery = services.battery_receive(actor=carmaker, code=code)
    assert (battery.status, battery.holder, battery.transit_to) == ("in_stock", carmaker.enterprise, None)
    event = last_event(code)
    assert (event.kind, event.actor, event.counterparty) == ("received", carmaker.enterprise, maker.enterprise)
    refused("not_the_recipient", services.battery_receive, actor=carmaker, code=code)  # not twice


def test_a_licence_revoked_in_transit_stops_receipt(maker, waste, recycler, admin_user):
    services.battery_hand_over(actor=maker, code=waste, recipient=recycler.enterprise)
    enterprise_services.recycler_licence_revoke(actor=admin_user, licence=recycler.enterprise.licences.get(),
                                                reason="违规")
    with translation.override("en"):
        err = refused("recipient_not_licensed", services.battery_receive, actor=recycler, code=waste)
        assert "rule 3" in str(err.message)
    # the recycler can still refuse it, and it goes back to the sender
    services.battery_refuse(actor=recycler, code=waste, reason="许可证已撤销")
    assert row(waste).holder == maker.enterprise


def test_a_recipient_suspended_in_transit_cannot_receive(maker, carmaker, reviewer):
    code = register(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    enterprise_services.enterprise_suspend(actor=reviewer, enterprise=carmaker.enterprise, reason="整改")
    refused("enterprise_suspended", services.battery_receive, actor=fresh(carmaker), code=code)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_refusal_needs_a_reason(maker, carmaker, reason):
    code = register(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    err = refused("reason_required", services.battery_refuse, actor=carmaker, code=code, reason=reason)
    assert err.field == "reason"


def test_a_refused_battery_returns_to_the_sender(maker, carmaker, swapper):
    code = register(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    refused("not_the_recipient", services.battery_refuse, actor=swapper, code=code, reason="不是我的")
    battery = services.battery_refuse(actor=carmaker, code=code, reason="  型号不符 ")
    battery.refresh_from_db()
    assert (battery.status, battery.holder, battery.transit_to) == ("in_stock", maker.enterprise, None)
    event = last_event(code)
    assert (event.kind, event.actor, event.counterparty, event.details) == (
        "refused", carmaker.enterprise, maker.enterprise, {"reason": "型号不符"})
    # the sender may act on it again
    services.battery_hand_over(actor=maker, code=code, recipient=swapper.enterprise)
    assert kinds(code) == ["produced", "handed_over", "refused", "handed_over"]


# --- recycling ------------------------------------------------------------------------------------------------


def test_recycling_needs_a_waste_battery(maker, recycler):
    code = register(maker)
    give(maker, recycler, code)
    refused("battery_not_waste", services.battery_recycle, actor=recycler, code=code, input_weight_kg="400")


def test_recycling_needs_a_licence_covering_the_chemistry(recycler):
    nimh = register(recycler, mfr="9RX", chem="A")  # the recycler's own NiMH pack; its licence covers B and E
    services.battery_declare_waste(actor=recycler, code=nimh)
    refused("licence_required", services.battery_recycle, actor=recycler, code=nimh, input_weight_kg="50")


def test_an_unlicensed_recycler_cannot_recycle_what_it_declared_waste_itself(maker, unlicensed_recycler):
    code = register(maker)
    give(maker, unlicensed_recycler, code)  # not waste yet: any active enterprise may receive it
    services.battery_declare_waste(actor=unlicensed_recycler, code=code)
    refused("licence_required", services.battery_recycle, actor=unlicensed_recycler, code=code, input_weight_kg="400")


def test_a_licence_suspended_after_receipt_stops_recycling(at_recycler, recycler, admin_user):
    enterprise_services.recycler_licence_suspend(actor=admin_user, licence=recycler.enterprise.licences.get(),
                                                 reason="检查")
    refused("licence_required", services.battery_recycle, actor=recycler, code=at_recycler, input_weight_kg="400")


@pytest.mark.parametrize("weight", ["0", "-1", "-0.001", "abc", "", None, "NaN"])
def test_recycling_needs_a_positive_input_weight(at_recycler, recycler, weight):
    err = refused("quantity_invalid", services.battery_recycle, actor=recycler, code=at_recycler,
                  input_weight_kg=weight)
    assert err.field == "input_weight_kg"


def test_recycling_is_for_the_holder_and_recyclers(maker, at_recycler, recycler, collector, waste):
    refused("role_not_allowed", services.battery_recycle, actor=maker, code=at_recycler, input_weight_kg="400")
    other = register(maker)
    services.battery_declare_waste(actor=maker, code=other)
    give(maker, collector, other)
    refused("not_holder", services.battery_recycle, actor=recycler, code=other, input_weight_kg="400")


def test_recycling_records_weight_and_licence(at_recycler, recycler):
    battery = services.battery_recycle(actor=recycler, code=at_recycler, input_weight_kg=" 410.5 ")
    assert row(at_recycler).status == "recycled"
    event = last_event(at_recycler)
    assert (event.kind, event.actor) == ("recycled", recycler.enterprise)
    assert event.details == {"input_weight_kg": "410.5", "licence": "HB-T-1"}
    # final disposal: nothing further
    refused("transition_not_allowed", services.battery_recycle, actor=recycler, code=battery.code, input_weight_kg="1")
    refused("transition_not_allowed", services.battery_hand_over, actor=recycler, code=battery.code,
            recipient=recycler_with(name="next").enterprise)
    assert ledger_verify() == []


# --- remanufacturing ------------------------------------------------------------------------------------------


def remanufacture(recycler, sources, **overrides):
    kwargs = {"actor": recycler, "source_codes": sources, "new_code": make_code("9RX", chem="B"),
              "field_of_use": "energy_storage", "standard_number": "GB/T 36276-2018", **overrides}
    return kwargs


def test_electric_bicycles_are_banned_citing_rule_2(at_recycler, recycler):
    with translation.override("en"):
        err = refused("field_of_use_banned", services.battery_remanufacture,
                      **remanufacture(recycler, [at_recycler], field_of_use="electric_bicycle"))
        assert "rule 2" in str(err.message) and "Electric bicycle" in str(err.message)
    assert err.field == "field_of_use"


def test_a_field_banned_by_setting_is_refused(at_recycler, recycler, settings):
    settings.BANNED_FIELDS_OF_USE = ["backup_power"]
    refused("field_of_use_banned", services.battery_remanufacture,
            **remanufacture(recycler, [at_recycler], field_of_use="backup_power"))
    services.battery_remanufacture(**remanufacture(recycler, [at_recycler], field_of_use="base_station"))


def test_an_unknown_field_of_use_is_refused(at_recycler, recycler):
    refused("invalid", services.battery_remanufacture, **remanufacture(recycler, [at_recycler], field_of_use="rocket"))


@pytest.mark.parametrize("number", ["", "abc", "<script>", "GB/T", "   "])
def test_a_bad_standard_number_is_refused(at_recycler, recycler, number):
    err = refused("standard_number_invalid", services.battery_remanufacture,
                  **remanufacture(recycler, [at_recycler], standard_number=number))
    assert err.field == "standard_number"


def test_sources_must_be_listed_and_known(recycler):
    refused("invalid", services.battery_remanufacture, **remanufacture(recycler, []))
    refused("invalid", services.battery_remanufacture, **remanufacture(recycler, ["", "  "]))
    refused("battery_unknown", services.battery_remanufacture, **remanufacture(recycler, [make_code()]))


def test_a_source_must_be_waste(maker, recycler):
    code = register(maker)
    give(maker, recycler, code)
    refused("battery_not_waste", services.battery_remanufacture, **remanufacture(recycler, [code]))


def test_a_source_must_be_held(maker, at_recycler, recycler, waste):
    other = register(maker)
    services.battery_declare_waste(actor=maker, code=other)
    refused("not_holder", services.battery_remanufacture, **remanufacture(recycler, [at_recycler, other]))
    services.battery_hand_over(actor=maker, code=other, recipient=recycler.enterprise)
    refused("not_holder", services.battery_remanufacture, **remanufacture(recycler, [at_recycler, other]))


def test_a_source_already_used_or_recycled_is_refused(at_recycler, recycler):
    services.battery_remanufacture(**remanufacture(recycler, [at_recycler]))
    refused("transition_not_allowed", services.battery_remanufacture, **remanufacture(recycler, [at_recycler]))


def test_the_new_code_must_be_the_recyclers_own_and_new(maker, at_recycler, recycler):
    err = refused("manufacturer_code_not_yours", services.battery_remanufacture,
                  **remanufacture(recycler, [at_recycler], new_code=make_code("0PA")))
    assert err.field == "new_code"
    taken = register(recycler, mfr="9RX")
    err = refused("battery_already_registered", services.battery_remanufacture,
                  **remanufacture(recycler, [at_recycler], new_code=taken))
    assert err.field == "new_code"
    refused("battery_code_invalid", services.battery_remanufacture,
            **remanufacture(recycler, [at_recycler], new_code="9RX"))


def test_remanufacturing_needs_the_repurposing_scope(maker, waste):
    no_repurposing = recycler_with(scopes=["dismantling", "hydrometallurgy"], mfr="7ZZ")
    give(maker, no_repurposing, waste)
    refused("licence_required", services.battery_remanufacture,
            **remanufacture(no_repurposing, [waste], new_code=make_code("7ZZ")))


@pytest.mark.parametrize("persona", ["maker", "collector", "dismantler"])
def test_remanufacturing_is_for_recyclers(request, persona):
    refused("role_not_allowed", services.battery_remanufacture,
            **remanufacture(request.getfixturevalue(persona), [make_code()]))


def test_a_bad_product_capacity_leaves_nothing_behind(at_recycler, recycler):
    refused("quantity_invalid", services.battery_remanufacture,
            **remanufacture(recycler, [at_recycler], capacity_kwh="-3"))


def test_remanufacturing_links_sources_and_product_both_ways(maker, recycler):
    sources = []
    for chem in ("E", "B"):
        code = register(maker, chem=chem)
        services.battery_declare_waste(actor=maker, code=code)
        give(maker, recycler, code)
        sources.append(code)
    new_code = make_code("9RX", chem="B")
    product = services.battery_remanufacture(**remanufacture(recycler, [s.lower() for s in sources], new_code=new_code,
                                                             standard_number=" GB/T 36276-2018 ", capacity_kwh="120"))
    product.refresh_from_db()
    assert (product.code, product.maker, product.holder, product.status, product.is_waste) == (
        new_code, recycler.enterprise, recycler.enterprise, "in_stock", False)
    record = product.remanufacture
    assert (record.field_of_use, record.standard_number, record.actor) == (
        "energy_storage", "GB/T 36276-2018", recycler.enterprise)
    assert sorted(record.sources.values_list("source__code", flat=True)) == sorted(sources)
    for code in sources:
        source = row(code)
        assert source.status == "remanufactured"
        assert source.used_in.remanufacture.product == product
        event = last_event(code)
        assert (event.kind, event.details) == ("remanufactured", {"product": new_code})
    produced = BatteryEvent.objects.get(battery=product)
    assert (produced.seq, produced.kind, produced.prev_hash) == (1, "remanufacture_produced", "")
    assert produced.details == {"sources": sources, "field_of_use": "energy_storage", "standard": "GB/T 36276-2018"}
    assert product.ledger_head == produced.hash
    assert ledger_verify() == []


def test_a_source_listed_twice_is_used_once(at_recycler, recycler):
    product = services.battery_remanufacture(**remanufacture(recycler, [at_recycler, at_recycler]))
    assert product.remanufacture.sources.count() == 1
    assert kinds(at_recycler)[-1] == "remanufactured" and kinds(at_recycler).count("remanufactured") == 1
