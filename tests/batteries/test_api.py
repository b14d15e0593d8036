"""The battery digital identity card over /api/v1/: each operation for the persona allowed to do it (signed in, or
with an API key), each refusal with its stable code, outsiders answered 404 with nothing changed, the public tier,
bulk JSON all-or-nothing, bulk files, and a bounded number of queries for the list."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern
from django.utils import timezone
from rest_framework.test import APIClient

from apps.batteries import services
from apps.batteries.api import urls as battery_urls
from apps.batteries.models import Battery, BatteryEvent, BulkImport, Vehicle
from apps.core.idempotency import HEADER
from tests.api_helpers import API, assert_error, key_client, make_key, results
from tests.batteries.conftest import VIN, VIN2, make_code

pytestmark = pytest.mark.django_db

STANDARD = "GB/T 36276-2018"


def post(client, path: str, data=None, **extra):
    return client.post(f"{API}{path}", data if data is not None else {}, format="json", **extra)


def get(client, path: str, **params):
    return client.get(f"{API}{path}", params)


def nothing_changed(code: str, *, seq: int, status: str):
    battery = Battery.objects.get(code=code)
    assert (battery.ledger_seq, battery.status) == (seq, status)
    assert BatteryEvent.objects.filter(battery=battery).count() == seq


def registered(maker, **kwargs) -> str:
    code = kwargs.pop("code", None) or make_code()
    services.battery_register(actor=maker, code=code, **kwargs)
    return code


def delivered(maker, to, code: str | None = None) -> str:
    """A battery registered by `maker`, handed over to and received by `to`."""
    code = code or registered(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=to.enterprise)
    services.battery_receive(actor=to, code=code)
    return code


def waste_at(maker, holder) -> str:
    code = registered(maker)
    services.battery_declare_waste(actor=maker, code=code)
    if holder != maker:
        delivered(maker, holder, code)
    return code


# --- registration ----------------------------------------------------------------------------------------------


def test_a_maker_registers_a_battery_and_gets_its_card(api_for, maker, maker_co):
    code = make_code()
    response = post(api_for(maker), "/batteries/", {"code": code, "capacity_kwh": "75.5", "weight_kg": "420"})

    assert response.status_code == 201, response.content
    card = response.json()
    assert card["code"] == code
    assert (card["manufacturer_code"], card["product_type"], card["chemistry"]) == ("0PA", "P", "E")
    assert (card["production_date"], card["serial"], card["spec_code"]) == ("2026-03-15", code[-7:], "01")
    assert (card["capacity_kwh"], card["weight_kg"]) == ("75.500", "420.000")  # decimals as strings
    assert (card["status"], card["is_waste"], card["vin"], card["transit_to"]) == ("in_stock", False, None, None)
    assert card["holder"] == {"id": maker_co.pk, "name": maker_co.name, "uscc": maker_co.uscc}
    assert card["maker"] == card["holder"]
    assert (card["parent"], card["children"], card["children_count"]) == (None, [], 0)
    assert (card["remanufactured_from"], card["used_in"], card["ledger_seq"]) == (None, None, 1)
    assert BatteryEvent.objects.get(battery__code=code).hash == card["ledger_head"]


def test_a_maker_registers_with_an_api_key(maker):
    _row, secret = make_key(maker)
    code = make_code()
    response = post(key_client(secret), "/batteries/", {"code": code})
    assert response.status_code == 201, response.content
    assert BatteryEvent.objects.get(battery__code=code).recorded_by == maker


def test_a_module_names_its_pack_and_the_pack_card_lists_it(api_for, maker):
    pack = registered(maker)
    module = make_code(product="M")
    response = post(api_for(maker), "/batteries/", {"code": module, "parent_code": pack})
    assert response.json()["parent"] == pack
    card = get(api_for(maker), f"/batteries/{pack}/").json()
    assert (card["children"], card["children_count"]) == ([module], 1)


def test_another_makers_pack_is_not_found_as_a_parent(api_for, maker, rival_maker):
    theirs = registered(rival_maker, code=make_code("1KC"))
    module = make_code(product="M")
    assert_error(post(api_for(maker), "/batteries/", {"code": module, "parent_code": theirs}), 404, "not_found",
                 field="parent_code")
    body = assert_error(post(api_for(maker), "/batteries/bulk/register/", [{"code": module, "parent_code": theirs}]),
                        400, "bulk_rejected")
    assert [(e["index"], e["code"], e["field"]) for e in body["errors"]] == [(0, "not_found", "parent_code")]
    assert not Battery.objects.filter(code=module).exists()


def test_registration_refuses_another_makers_manufacturer_code(api_for, maker, rival_maker):
    body = assert_error(post(api_for(maker), "/batteries/", {"code": make_code("1KC")}), 403,
                        "manufacturer_code_not_yours", field="code")
    assert "1KC" in body["message"]
    assert not Battery.objects.exists()


def test_registration_refuses_a_duplicate(api_for, maker):
    code = registered(maker)
    assert_error(post(api_for(maker), "/batteries/", {"code": code}), 409, "battery_already_registered", field="code")
    assert BatteryEvent.objects.count() == 1


def test_registration_names_the_position_and_character_of_a_bad_code(api_for, maker):
    bad = make_code()[:3] + "X" + make_code()[4:]
    body = assert_error(post(api_for(maker), "/batteries/", {"code": bad}), 400, "battery_code_invalid", field="code")
    assert "4" in body["message"] and "'X'" in body["message"]


def test_registration_requires_a_code_and_numbers(api_for, maker):
    body = assert_error(post(api_for(maker), "/batteries/", {"capacity_kwh": "abc"}), 400, "required", field="code")
    assert {e["field"] for e in body["errors"]} == {"code", "capacity_kwh"}


def test_registration_refuses_a_quantity_that_is_not_positive(api_for, maker):
    assert_error(post(api_for(maker), "/batteries/", {"code": make_code(), "weight_kg": "-1"}), 400,
                 "quantity_invalid", field="weight_kg")


def test_only_battery_makers_register(api_for, carmaker):
    assert_error(post(api_for(carmaker), "/batteries/", {"code": make_code()}), 403, "role_not_allowed")


def test_regulators_read_but_do_not_file(api_for, maker, reviewer):
    code = registered(maker)
    client = api_for(reviewer)
    assert get(client, f"/batteries/{code}/").status_code == 200
    assert_error(post(client, f"/batteries/{code}/declare-waste/"), 403, "permission_denied")
    nothing_changed(code, seq=1, status="in_stock")


# --- lifecycle operations ----------------------------------------------------------------------------------------


def test_handover_receipt_and_installation_by_api(api_for, maker, carmaker, maker_co):
    code = registered(maker)
    card = post(api_for(maker), f"/batteries/{code}/hand-over/", {"recipient": carmaker.enterprise.uscc}).json()
    assert (card["status"], card["transit_to"]["id"], card["holder"]["id"]) == (
        "in_transit", carmaker.enterprise.pk, maker_co.pk)

    car = api_for(carmaker)
    card = post(car, f"/batteries/{code}/receive/").json()
    assert (card["status"], card["holder"]["id"], card["transit_to"]) == ("in_stock", carmaker.enterprise.pk, None)

    when = (timezone.localtime() + dt.timedelta(minutes=1)).replace(microsecond=0)
    response = post(car, f"/batteries/{code}/install/", {"vin": VIN.lower(), "model_name": "申城 E5",
                                                          "occurred_at": when.isoformat()})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["vin"]) == ("installed", VIN)
    assert BatteryEvent.objects.get(battery__code=code, kind="installed").occurred_at == when

    vehicle = get(car, f"/vehicles/{VIN}/").json()
    assert (vehicle["vin"], vehicle["model_name"], vehicle["maker"]["id"]) == (VIN, "申城 E5", carmaker.enterprise.pk)
    assert [b["code"] for b in vehicle["batteries"]] == [code]


def test_installation_refuses_an_invalid_vin_naming_the_position(api_for, maker, carmaker):
    code = delivered(maker, carmaker)
    body = assert_error(post(api_for(carmaker), f"/batteries/{code}/install/", {"vin": "LSVAU218XN21832I4"}), 400,
                        "vin_invalid", field="vin")
    assert "16" in body["message"] and "'I'" in body["message"]
    nothing_changed(code, seq=3, status="in_stock")


def test_installation_requires_a_vin(api_for, maker, carmaker):
    code = delivered(maker, carmaker)
    assert_error(post(api_for(carmaker), f"/batteries/{code}/install/", {}), 400, "required", field="vin")


def test_only_the_holder_hands_over(api_for, maker, carmaker, swapper):
    code = delivered(maker, carmaker)
    # The maker still sees the battery it made, but no longer holds it.
    assert_error(post(api_for(maker), f"/batteries/{code}/hand-over/", {"recipient": swapper.enterprise.uscc}), 403,
                 "not_holder")
    nothing_changed(code, seq=3, status="in_stock")


def test_only_the_recipient_receives(api_for, maker, carmaker):
    code = registered(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    assert_error(post(api_for(maker), f"/batteries/{code}/receive/"), 409, "not_the_recipient")
    nothing_changed(code, seq=2, status="in_transit")


def test_a_refused_battery_returns_to_the_sender(api_for, maker, carmaker):
    code = registered(maker)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    car = api_for(carmaker)
    assert_error(post(car, f"/batteries/{code}/refuse/", {}), 400, "required", field="reason")
    assert_error(post(car, f"/batteries/{code}/refuse/", {"reason": "  "}), 400, "reason_required", field="reason")
    card = post(car, f"/batteries/{code}/refuse/", {"reason": "型号不符"}).json()
    assert (card["status"], card["holder"]["id"], card["transit_to"]) == ("in_stock", maker.enterprise.pk, None)


def test_a_waste_battery_goes_only_to_a_licensed_recycler(api_for, maker, unlicensed_recycler, recycler):
    code = waste_at(maker, maker)
    client = api_for(maker)
    body = assert_error(post(client, f"/batteries/{code}/hand-over/", {"recipient": unlicensed_recycler.enterprise.uscc}),
                        409, "recipient_not_licensed", field="recipient")
    assert re.search(r"(rule|规则) 3", body["message"])
    nothing_changed(code, seq=2, status="in_stock")
    assert post(client, f"/batteries/{code}/hand-over/", {"recipient": recycler.enterprise.uscc}).status_code == 200


def test_handover_to_an_unknown_recipient_is_refused(api_for, maker):
    code = registered(maker)
    from tests.factories import valid_uscc

    assert_error(post(api_for(maker), f"/batteries/{code}/hand-over/", {"recipient": valid_uscc(999)}), 400,
                 "recipient_invalid", field="recipient")
    # a malformed one is refused by its rule (GB 32100 check character), not as an unknown enterprise
    body = assert_error(post(api_for(maker), f"/batteries/{code}/hand-over/", {"recipient": "91000000MA00000000"}),
                        400, "uscc_invalid", field="recipient")
    assert "18" in body["message"]


def test_declaring_waste_twice_is_not_a_transition(api_for, maker):
    code = registered(maker)
    client = api_for(maker)
    card = post(client, f"/batteries/{code}/declare-waste/", {"reason": "跌落损坏"}).json()
    assert card["is_waste"] is True
    assert_error(post(client, f"/batteries/{code}/declare-waste/"), 409, "transition_not_allowed")
    nothing_changed(code, seq=2, status="in_stock")


def test_a_licensed_recycler_recycles_a_waste_battery(api_for, maker, recycler):
    code = waste_at(maker, recycler)
    client = api_for(recycler)
    assert_error(post(client, f"/batteries/{code}/recycle/", {}), 400, "required", field="input_weight_kg")
    card = post(client, f"/batteries/{code}/recycle/", {"input_weight_kg": "410.5"}).json()
    assert card["status"] == "recycled"
    assert BatteryEvent.objects.filter(battery__code=code).order_by("-seq").first().details["input_weight_kg"] == "410.500"


def test_recycling_is_refused_for_a_battery_not_declared_waste(api_for, maker, recycler):
    code = delivered(maker, recycler)
    assert_error(post(api_for(recycler), f"/batteries/{code}/recycle/", {"input_weight_kg": "400"}), 409,
                 "battery_not_waste")


def test_a_swap_operator_swaps_a_swap_model_vehicles_battery(api_for, maker, carmaker, swapper):
    old = delivered(maker, carmaker)
    services.battery_install(actor=carmaker, code=old, vin=VIN, is_swap_model=True)
    new = delivered(maker, swapper)
    response = post(api_for(swapper), f"/vehicles/{VIN}/swap/", {"out_code": old, "in_code": new})
    assert response.status_code == 200, response.content
    removed, installed = response.json()["removed"], response.json()["installed"]
    assert (removed["code"], removed["status"], removed["holder"]["id"]) == (old, "in_stock", swapper.enterprise.pk)
    assert (installed["code"], installed["status"], installed["vin"]) == (new, "installed", VIN)


def test_swapping_needs_a_swap_model(api_for, maker, carmaker, swapper):
    old = delivered(maker, carmaker)
    services.battery_install(actor=carmaker, code=old, vin=VIN2)
    new = delivered(maker, swapper)
    assert_error(post(api_for(swapper), f"/vehicles/{VIN2}/swap/", {"out_code": old, "in_code": new}), 409,
                 "not_swap_model", field="vin")
    nothing_changed(new, seq=3, status="in_stock")


def test_a_repairer_replaces_a_battery(api_for, maker, carmaker, repairer):
    old = delivered(maker, carmaker)
    services.battery_install(actor=carmaker, code=old, vin=VIN)
    new = delivered(maker, repairer)
    body = post(api_for(repairer), f"/vehicles/{VIN}/replace/", {"old_code": old, "new_code": new}).json()
    assert (body["removed"]["holder"]["id"], body["installed"]["vin"]) == (repairer.enterprise.pk, VIN)
    assert_error(post(api_for(repairer), f"/vehicles/{VIN}/replace/", {"old_code": old}), 400, "required",
                 field="new_code")


def test_remanufacturing_refuses_electric_bicycles_and_records_the_sources(api_for, maker, recycler):
    source = waste_at(maker, recycler)
    client = api_for(recycler)
    product = make_code("9RX", chem="B")
    body = {"source_codes": [source], "new_code": product, "field_of_use": "electric_bicycle",
            "standard_number": STANDARD, "capacity_kwh": "50"}
    refusal = assert_error(post(client, "/remanufactures/", body), 409, "field_of_use_banned", field="field_of_use")
    assert re.search(r"(rule|规则) 2", refusal["message"])
    assert not Battery.objects.filter(code=product).exists()

    response = post(client, "/remanufactures/", {**body, "field_of_use": "energy_storage"})
    assert response.status_code == 201, response.content
    assert response.json()["remanufactured_from"] == {"field_of_use": "energy_storage", "standard_number": STANDARD,
                                                      "sources": [source]}
    source_card = get(client, f"/batteries/{source}/").json()
    assert (source_card["status"], source_card["used_in"]) == ("remanufactured", product)


def test_remanufacturing_requires_its_fields(api_for, recycler):
    body = assert_error(post(api_for(recycler), "/remanufactures/", {"source_codes": []}), 400, "empty",
                        field="source_codes")
    assert {e["field"] for e in body["errors"]} >= {"source_codes", "new_code", "field_of_use", "standard_number"}


# --- reads ---------------------------------------------------------------------------------------------------------


def test_the_list_shows_only_what_the_caller_may_see(api_for, maker, rival_maker, carmaker):
    mine = registered(maker)
    delivered_code = delivered(maker, carmaker)
    theirs = registered(rival_maker, code=make_code("1KC"))

    assert [r["code"] for r in results(get(api_for(maker), "/batteries/"))] == [delivered_code, mine]
    assert [r["code"] for r in results(get(api_for(carmaker), "/batteries/"))] == [delivered_code]
    assert [r["code"] for r in results(get(api_for(rival_maker), "/batteries/"))] == [theirs]


def test_the_list_filters(api_for, maker, carmaker):
    pack = registered(maker)
    cell = registered(maker, code=make_code(product="C", chem="B"))
    waste = waste_at(maker, maker)
    installed = delivered(maker, carmaker)
    services.battery_install(actor=carmaker, code=installed, vin=VIN)
    client = api_for(maker)

    def codes(**params):
        return {r["code"] for r in results(get(client, "/batteries/", **params))}

    assert codes() == {pack, cell, waste, installed}
    assert codes(product_type="C") == {cell}
    assert codes(chemistry="B") == {cell}
    assert codes(is_waste="true") == {waste}
    assert codes(is_waste="false") == {pack, cell, installed}
    assert codes(status="installed") == codes(vin=VIN.lower()) == {installed}
    assert codes(holder=carmaker.enterprise.pk) == {installed}
    assert codes(code_prefix=cell[:5].lower()) == {cell}
    assert codes(registered_after="2000-01-01T00:00:00Z") == codes()
    assert codes(registered_before="2000-01-01T00:00:00Z") == set()
    assert_error(get(client, "/batteries/", status="lost"), 400, "invalid_choice", field="status")


def test_the_ledger_timeline_is_chained_and_paginated_by_sequence(api_for, maker, carmaker):
    code = delivered(maker, carmaker)
    client = api_for(maker)
    events = results(get(client, f"/batteries/{code}/events/"))
    assert [e["kind"] for e in events] == ["produced", "handed_over", "received"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[0]["prev_hash"] == ""
    assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]
    assert events[1]["counterparty"]["id"] == carmaker.enterprise.pk

    first = get(client, f"/batteries/{code}/events/", page_size=2).json()
    assert [e["seq"] for e in first["results"]] == [1, 2]
    assert [e["seq"] for e in client.get(first["next"]).json()["results"]] == [3]


def test_the_public_tier_shows_the_label_and_nothing_about_holders_or_vehicles(maker, carmaker):
    code = delivered(maker, carmaker)
    services.battery_install(actor=carmaker, code=code, vin=VIN)
    Battery.objects.filter(code=code).update(capacity_kwh="75.5")
    response = APIClient().get(f"{API}/public/batteries/{code.lower()}/")
    assert response.status_code == 200, response.content
    assert response.json() == {"code": code, "maker_name": maker.enterprise.name, "product_type": "P",
                               "chemistry": "E", "capacity_kwh": "75.500", "production_month": "2026-03",
                               "status": "installed", "is_waste": False}
    assert_error(APIClient().get(f"{API}/public/batteries/{make_code()}/"), 404, "not_found")


# --- outsiders -------------------------------------------------------------------------------------------------------

ACTIONS = [("install", {"vin": VIN}), ("declare-waste", {}), ("hand-over", {"recipient": "x"}), ("receive", {}),
           ("refuse", {"reason": "x"}), ("recycle", {"input_weight_kg": "1"})]


def test_another_enterprises_battery_is_not_found_anywhere(api_for, maker, rival_maker):
    code = registered(maker)
    client = api_for(rival_maker)
    assert_error(get(client, f"/batteries/{code}/"), 404, "not_found")
    assert_error(get(client, f"/batteries/{code}/events/"), 404, "not_found")
    for action, body in ACTIONS:
        assert_error(post(client, f"/batteries/{code}/{action}/", body), 404, "not_found")
    # Unknown and hidden look alike.
    assert_error(get(client, f"/batteries/{make_code()}/"), 404, "not_found")
    nothing_changed(code, seq=1, status="in_stock")


def test_a_hidden_battery_named_in_the_body_is_not_found(api_for, maker, carmaker, swapper, rival_maker):
    old = delivered(maker, carmaker)
    services.battery_install(actor=carmaker, code=old, vin=VIN, is_swap_model=True)
    hidden = registered(maker)  # still in the maker's stock: the swap operator cannot see it
    assert_error(post(api_for(swapper), f"/vehicles/{VIN}/swap/", {"out_code": old, "in_code": hidden}), 404,
                 "not_found", field="in_code")
    nothing_changed(hidden, seq=1, status="in_stock")


def test_another_enterprises_vehicle_is_not_found(api_for, maker, carmaker, rival_maker):
    code = delivered(maker, carmaker)
    services.battery_install(actor=carmaker, code=code, vin=VIN)
    assert_error(get(api_for(rival_maker), f"/vehicles/{VIN}/"), 404, "not_found")
    assert_error(get(api_for(carmaker), f"/vehicles/{VIN2}/"), 404, "not_found")


ROUTES = [
    (pattern, method)
    for pattern in battery_urls.urlpatterns
    if isinstance(pattern, URLPattern)
    for method in ("get", "post")
    if hasattr(pattern.callback.view_class, method)
]
PUBLIC = {"api-public-battery"}


def url_of(pattern) -> str:
    path = re.sub(r"<str:code>", make_code(), str(pattern.pattern))
    return f"{API}/" + re.sub(r"<int:pk>", "1", path.replace("<str:vin>", VIN))


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name not in PUBLIC],
                         ids=lambda v: getattr(v, "name", v))
def test_anonymous_is_refused_everywhere_but_the_public_card(pattern, method):
    client = APIClient()
    response = client.get(url_of(pattern)) if method == "get" else client.post(url_of(pattern), {}, format="json")
    assert response.status_code in (401, 403), (pattern.name, method, response.status_code)
    assert response.json()["code"] == "not_authenticated"


def test_route_table_is_what_these_tests_know_about():
    names = {pattern.name for pattern, _ in ROUTES}
    assert len(names) == len(battery_urls.urlpatterns) == 19
    assert PUBLIC <= names


# --- bulk JSON -----------------------------------------------------------------------------------------------------


def test_bulk_registration_is_all_or_nothing_and_lists_every_bad_item(api_for, maker, rival_maker):
    good, duplicate = make_code(), registered(maker)
    items = [{"code": good, "capacity_kwh": "70"}, {"code": make_code("1KC")}, {"code": duplicate},
             {"capacity_kwh": "1"}, {"code": good}]
    body = assert_error(post(api_for(maker), "/batteries/bulk/register/", items), 400, "bulk_rejected", field=None)
    assert [(e["index"], e["code"], e["field"]) for e in body["errors"]] == [
        (1, "manufacturer_code_not_yours", "code"), (2, "battery_already_registered", "code"),
        (3, "required", "code"), (4, "battery_already_registered", "code")]
    assert all(e["message"] for e in body["errors"])
    assert list(Battery.objects.values_list("code", flat=True)) == [duplicate]
    assert BatteryEvent.objects.count() == 1


def test_bulk_registration_with_an_api_key(maker):
    _row, secret = make_key(maker)
    codes = [make_code() for _ in range(3)]
    response = post(key_client(secret), "/batteries/bulk/register/", [{"code": c} for c in codes])
    assert response.status_code == 201, response.content
    assert response.json()["count"] == 3
    assert [r["code"] for r in response.json()["results"]] == codes
    assert BatteryEvent.objects.filter(kind="produced").count() == 3


def test_bulk_installation_and_handover(api_for, maker, carmaker, collector):
    codes = [registered(maker) for _ in range(2)]
    response = post(api_for(maker), "/batteries/bulk/hand-over/",
                    [{"code": c, "recipient": carmaker.enterprise.uscc} for c in codes])
    assert response.status_code == 201, response.content
    assert {r["status"] for r in response.json()["results"]} == {"in_transit"}
    for c in codes:
        services.battery_receive(actor=carmaker, code=c)
    response = post(api_for(carmaker), "/batteries/bulk/install/",
                    [{"code": codes[0], "vin": VIN}, {"code": codes[1], "vin": VIN2}])
    assert response.status_code == 201, response.content
    assert Vehicle.objects.get(vin=VIN2).batteries.get().code == codes[1]


def test_bulk_handover_refuses_a_hidden_code_as_not_found_and_records_nothing(api_for, maker, rival_maker, carmaker):
    mine = registered(maker)
    theirs = registered(rival_maker, code=make_code("1KC"))
    items = [{"code": mine, "recipient": carmaker.enterprise.uscc},
             {"code": theirs, "recipient": carmaker.enterprise.uscc},
             {"code": mine, "vin": VIN}]
    body = assert_error(post(api_for(maker), "/batteries/bulk/hand-over/", items), 400, "bulk_rejected")
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "not_found"), (2, "required")]
    nothing_changed(mine, seq=1, status="in_stock")


def test_bulk_install_rolls_back_the_good_items(api_for, maker, carmaker):
    good = delivered(maker, carmaker)
    items = [{"code": good, "vin": VIN}, {"code": make_code(), "vin": VIN2}]
    body = assert_error(post(api_for(carmaker), "/batteries/bulk/install/", items), 400, "bulk_rejected")
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "battery_unknown")]
    nothing_changed(good, seq=3, status="in_stock")


@pytest.mark.parametrize("payload", [{"code": "x"}, [], [{"code": "x"}] * 1001])
def test_bulk_takes_an_array_of_1_to_1000_items(api_for, maker, payload):
    assert_error(post(api_for(maker), "/batteries/bulk/register/", payload), 400, "invalid")
    assert not Battery.objects.exists()


# --- bulk files ----------------------------------------------------------------------------------------------------


def csv_upload(codes, name="batteries.csv") -> SimpleUploadedFile:
    body = "code\n" + "".join(f"{c}\n" for c in codes)
    return SimpleUploadedFile(name, body.encode(), content_type="text/csv")


def test_a_bulk_file_is_accepted_once_and_only_its_enterprise_sees_it(api_for, maker, rival_maker):
    client = api_for(maker)
    codes = [make_code(), make_code()]
    response = client.post(f"{API}/imports/", {"kind": "register", "file": csv_upload(codes)}, format="multipart")
    assert response.status_code == 202, response.content
    created = response.json()
    assert (created["kind"], created["status"], created["original_name"]) == ("register", "queued", "batteries.csv")
    assert {"progress_percent", "total_rows", "applied_rows", "error_count", "first_errors"} <= set(created)

    again = client.post(f"{API}/imports/", {"kind": "register", "file": csv_upload(codes, "again.csv")},
                        format="multipart")
    assert_error(again, 409, "import_duplicate_file", field="file")
    assert BulkImport.objects.count() == 1

    assert [r["id"] for r in results(get(client, "/imports/"))] == [created["id"]]
    assert get(client, f"/imports/{created['id']}/").json()["id"] == created["id"]
    outsider = api_for(rival_maker)
    assert results(get(outsider, "/imports/")) == []
    assert_error(get(outsider, f"/imports/{created['id']}/"), 404, "not_found")


def test_a_bulk_file_needs_a_kind_and_a_file(api_for, maker):
    body = assert_error(api_for(maker).post(f"{API}/imports/", {}, format="multipart"), 400, "required")
    assert {e["field"] for e in body["errors"]} == {"kind", "file"}


def test_a_bulk_file_kind_follows_the_roles(api_for, carmaker):
    response = api_for(carmaker).post(f"{API}/imports/", {"kind": "register", "file": csv_upload([make_code()])},
                                      format="multipart")
    assert_error(response, 403, "role_not_allowed")


# --- query counts ----------------------------------------------------------------------------------------------------


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"{API}/batteries/").status_code == 200
    return len(ctx.captured_queries)


def test_the_list_queries_do_not_grow_with_rows(api_for, maker, carmaker):
    client = api_for(maker)

    def add(n):
        for _ in range(n):
            code = registered(maker)
            services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)

    add(3)
    three = _list_queries(client)
    add(27)
    assert _list_queries(client) == three
    assert three <= 6


def test_bulk_refusals_use_the_same_header_as_single_posts(api_for, maker):
    """Bulk JSON takes part in Idempotency-Key like every POST: the refusal is replayed."""
    client = api_for(maker)
    items = [{"code": "short"}]
    first = post(client, "/batteries/bulk/register/", items, **{f"HTTP_{HEADER.upper().replace('-', '_')}": "b1"})
    again = post(client, "/batteries/bulk/register/", items, **{f"HTTP_{HEADER.upper().replace('-', '_')}": "b1"})
    assert (first.status_code, again.status_code) == (400, 400)
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"


# --- concurrency ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_registrations_of_one_code_answer_201_and_409(maker, monkeypatch):
    import threading
    import time

    from django.db import connections

    from apps.batteries.querysets import BatteryQuerySet

    real_create = BatteryQuerySet.create

    def slow_create(self, **kwargs):  # widen the window between the service's duplicate check and its insert
        time.sleep(0.5)
        return real_create(self, **kwargs)

    monkeypatch.setattr(BatteryQuerySet, "create", slow_create, raising=False)
    code = make_code()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def attempt():
        client = APIClient(raise_request_exception=False)
        client.force_login(maker, backend="django.contrib.auth.backends.ModelBackend")
        barrier.wait()
        try:
            statuses.append(post(client, "/batteries/", {"code": code}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Battery.objects.filter(code=code).count() == 1
    assert sorted(statuses) == [201, 409], statuses


def test_the_fast_card_equals_what_its_declared_fields_produce(maker, carmaker, recycler):
    """BatteryCardOutput builds its dict by hand for speed; the declared fields (which the OpenAPI schema
    documents) must give exactly the same answer, for every shape of card."""
    from rest_framework import serializers as drf

    from apps.batteries import selectors
    from apps.batteries.api.views import BatteryCardOutput
    from tests.batteries.conftest import VIN, make_code

    pack, module, waste = make_code(), make_code(product="M"), make_code()
    services.battery_register(actor=maker, code=pack, capacity_kwh="75.5", weight_kg="420.25")
    services.battery_register(actor=maker, code=module, parent_code=pack)
    services.battery_register(actor=maker, code=waste)
    services.battery_hand_over(actor=maker, code=pack, recipient=carmaker.enterprise)
    services.battery_receive(actor=carmaker, code=pack)
    services.battery_install(actor=carmaker, code=pack, vin=VIN)
    services.battery_declare_waste(actor=maker, code=waste)
    services.battery_hand_over(actor=maker, code=waste, recipient=recycler.enterprise)
    services.battery_receive(actor=recycler, code=waste)
    product = services.battery_remanufacture(actor=recycler, source_codes=[waste], new_code=make_code("9RX", chem="B"),
                                             field_of_use="energy_storage", standard_number="GB/T 36276-2018")
    cases = [(carmaker, pack), (maker, module), (recycler, waste), (recycler, product.code)]
    for actor, code in cases:
        battery = selectors.battery_get(actor=actor, code=code)
        generic = drf.Serializer.to_representation(BatteryCardOutput(), battery)
        assert BatteryCardOutput(battery).data == generic, code
