"""The lifecycle through the services: each rule, refused with a stable code, and the ledger chain intact."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone, translation

from apps.batteries import services
from apps.batteries.ledger import ledger_verify
from apps.batteries.models import Battery, BatteryEvent, Vehicle
from apps.core.errors import DomainError
from apps.enterprises import services as enterprise_services
from tests.batteries.conftest import VIN, VIN2, make_code

pytestmark = pytest.mark.django_db


def refused(error_code, fn, **kwargs):
    with pytest.raises(DomainError) as err:
        fn(**kwargs)
    assert err.value.code == error_code, (err.value.code, str(err.value.message))
    return err.value


def test_a_battery_maker_registers_its_own_code_and_the_ledger_starts(maker, maker_co):
    code = make_code()
    battery = services.battery_register(actor=maker, code=code, capacity_kwh="75.5", weight_kg="420")
    assert (battery.status, battery.holder, battery.maker, battery.chemistry) == ("in_stock", maker_co, maker_co, "E")
    assert battery.production_date == dt.date(2026, 3, 15)
    event = BatteryEvent.objects.get(battery=battery)
    assert (event.seq, event.kind, event.prev_hash, len(event.hash)) == (1, "produced", "", 64)
    assert battery.ledger_head == event.hash
    assert ledger_verify() == []


def test_registration_refuses_another_makers_code(maker, rival_maker):
    err = refused("manufacturer_code_not_yours", services.battery_register, actor=maker, code=make_code("1KC"))
    assert "1KC" in str(err.message)
    assert Battery.objects.count() == 0


def test_registration_refuses_a_duplicate(maker):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    refused("battery_already_registered", services.battery_register, actor=maker, code=code)


def test_registration_names_position_and_character(maker):
    bad = make_code()[:3] + "X" + make_code()[4:]
    err = refused("battery_code_invalid", services.battery_register, actor=maker, code=bad)
    assert "4" in str(err.message) and "'X'" in str(err.message)


def test_only_battery_makers_register(carmaker):
    refused("role_not_allowed", services.battery_register, actor=carmaker, code=make_code())


def test_full_life_to_recycling(maker, carmaker, dismantler, recycler):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    services.battery_receive(actor=carmaker, code=code)
    services.battery_install(actor=carmaker, code=code, vin=VIN, model_name="申城 E5")
    services.battery_remove(actor=dismantler, code=code, vin=VIN)
    services.battery_declare_waste(actor=dismantler, code=code)
    services.battery_hand_over(actor=dismantler, code=code, recipient=recycler.enterprise.uscc)
    services.battery_receive(actor=recycler, code=code)
    battery = services.battery_recycle(actor=recycler, code=code, input_weight_kg="410.5")
    assert battery.status == "recycled"
    kinds = list(BatteryEvent.objects.filter(battery=battery).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["produced", "handed_over", "received", "installed", "removed", "declared_waste", "handed_over",
                     "received", "recycled"]
    assert ledger_verify() == []


def test_waste_goes_only_to_a_collection_point_or_a_licensed_recycler(maker, unlicensed_recycler, collector):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    services.battery_declare_waste(actor=maker, code=code)
    with translation.override("en"):
        err = refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=code,
                      recipient=unlicensed_recycler.enterprise)
    assert "rule 3" in str(err.message)
    services.battery_hand_over(actor=maker, code=code, recipient=collector.enterprise)


def test_a_revoked_licence_stops_handover(maker, recycler, admin_user):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    services.battery_declare_waste(actor=maker, code=code)
    licence = recycler.enterprise.licences.get()
    enterprise_services.recycler_licence_revoke(actor=admin_user, licence=licence, reason="违规")
    err = refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=code,
                  recipient=recycler.enterprise)
    assert f"其许可证 {licence.number} 已被撤销" in str(err.message)  # says why, not only the rule


def test_a_refusal_names_a_suspended_licence_and_an_unlicensed_recipient_gets_no_such_sentence(
        maker, recycler, unlicensed_recycler, admin_user):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    services.battery_declare_waste(actor=maker, code=code)
    licence = recycler.enterprise.licences.get()
    enterprise_services.recycler_licence_suspend(actor=admin_user, licence=licence, reason="整改")
    err = refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=code,
                  recipient=recycler.enterprise)
    assert f"其许可证 {licence.number} 已被暂停" in str(err.message)
    err = refused("recipient_not_licensed", services.battery_hand_over, actor=maker, code=code,
                  recipient=unlicensed_recycler.enterprise)
    assert "其许可证" not in str(err.message)


def test_only_the_holder_acts_and_only_the_recipient_receives(maker, carmaker, swapper):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    refused("role_not_allowed", services.battery_install, actor=maker, code=code, vin=VIN)
    refused("not_holder", services.battery_hand_over, actor=carmaker, code=code, recipient=swapper.enterprise)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    refused("not_the_recipient", services.battery_receive, actor=swapper, code=code)
    refused("not_holder", services.battery_hand_over, actor=maker, code=code, recipient=swapper.enterprise)
    battery = services.battery_refuse(actor=carmaker, code=code, reason="型号不符")
    assert (battery.status, battery.holder_id) == ("in_stock", maker.enterprise.pk)


def test_swap_only_for_swap_models(maker, carmaker, swapper):
    old, new, other = make_code(), make_code(), make_code()
    for c in (old, new, other):
        services.battery_register(actor=maker, code=c)
    services.battery_hand_over(actor=maker, code=old, recipient=carmaker.enterprise)
    services.battery_receive(actor=carmaker, code=old)
    services.battery_install(actor=carmaker, code=old, vin=VIN, is_swap_model=True)
    for c in (new, other):
        services.battery_hand_over(actor=maker, code=c, recipient=swapper.enterprise)
        services.battery_receive(actor=swapper, code=c)
    out, inn = services.battery_swap(actor=swapper, vin=VIN, out_code=old, in_code=new)
    assert (out.status, out.holder_id, inn.status, inn.vehicle.vin) == ("in_stock", swapper.enterprise.pk, "installed", VIN)
    Vehicle.objects.create(vin=VIN2, maker=carmaker.enterprise, is_swap_model=False)
    refused("not_swap_model", services.battery_swap, actor=swapper, vin=VIN2, out_code=new, in_code=other)


def test_remanufacture_refuses_electric_bicycles_citing_the_rule(maker, recycler):
    source = make_code()
    services.battery_register(actor=maker, code=source)
    services.battery_declare_waste(actor=maker, code=source)
    services.battery_hand_over(actor=maker, code=source, recipient=recycler.enterprise)
    services.battery_receive(actor=recycler, code=source)
    with translation.override("en"):
        err = refused("field_of_use_banned", services.battery_remanufacture, actor=recycler, source_codes=[source],
                      new_code=make_code("9RX", chem="B"), field_of_use="electric_bicycle",
                      standard_number="GB/T 36276-2018")
    assert "rule 2" in str(err.message)
    product = services.battery_remanufacture(actor=recycler, source_codes=[source], new_code=make_code("9RX", chem="B"),
                                             field_of_use="energy_storage", standard_number="GB/T 36276-2018")
    assert Battery.objects.get(code=source).status == "remanufactured"
    assert product.remanufacture.sources.get().source.code == source
    assert ledger_verify() == []


def test_the_database_refuses_update_and_delete_on_the_ledger(maker):
    battery = services.battery_register(actor=maker, code=make_code())
    for sql in ("UPDATE batteries_batteryevent SET kind = 'recycled'", "DELETE FROM batteries_batteryevent"):
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert BatteryEvent.objects.get(battery=battery).kind == "produced"


def test_the_verifier_finds_a_rewritten_event(maker):
    battery = services.battery_register(actor=maker, code=make_code())
    services.battery_declare_waste(actor=maker, code=battery.code)
    with connection.cursor() as cursor:  # an attacker with enough privilege to disable the trigger
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE batteries_batteryevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE batteries_batteryevent SET details = '{\"reason\": \"forged\"}' WHERE seq = 2")
        cursor.execute("ALTER TABLE batteries_batteryevent ENABLE TRIGGER USER")
    breaks = ledger_verify()
    assert [(b.code, b.seq, b.problem) for b in breaks] == [(battery.code, 2, "hash_mismatch")]


def test_the_python_and_sql_hash_definitions_agree(maker):
    from apps.batteries.ledger import ledger_hash_py

    occurred = timezone.now().replace(microsecond=123457)
    recorded = occurred + dt.timedelta(seconds=3, microseconds=1)
    for details, text in (({}, "{}"), ({"parent": "0PAPE01ABCDEFGT3F0000001"}, '{"parent": "0PAPE01ABCDEFGT3F0000001"}')):
        with connection.cursor() as cursor:
            cursor.execute("SELECT bt_ledger_hash(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s), %s::jsonb::text",
                           ["ab" * 32, "0PAPE01ABCDEFGT3F0000002", 3, "produced", 7, None, 9, occurred,
                            __import__("json").dumps(details), 11, recorded, __import__("json").dumps(details)])
            sql_hash, jsonb_text = cursor.fetchone()
        assert jsonb_text == text
        assert sql_hash == ledger_hash_py(prev_hash="ab" * 32, code="0PAPE01ABCDEFGT3F0000002", seq=3, kind="produced",
                                          actor_id=7, counterparty_id=None, vehicle_id=9, occurred_at=occurred,
                                          details_text=text, recorded_by_id=11, recorded_at=recorded)
