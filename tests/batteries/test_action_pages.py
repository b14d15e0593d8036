"""Lifecycle actions through their real forms: each calls one service, a refusal is shown next to its field and
changes nothing, another enterprise's battery is a 404, and regulators only read."""
from __future__ import annotations

import pytest

from apps.batteries import services
from apps.batteries.models import Battery, BatteryEvent, Vehicle
from tests.batteries.conftest import VIN, VIN2, make_code
from tests.batteries.flows import delivered, in_transit, installed, registered, waste_held_by
from tests.conftest import signed_in
from tests.web import assert_redirects_to_login, body, field_errors, page_text, redirect_path

pytestmark = pytest.mark.django_db


def battery(code: str) -> Battery:
    return Battery.objects.get(code=code)


def kinds(code: str) -> list[str]:
    return list(BatteryEvent.objects.filter(battery__code=code).order_by("seq").values_list("kind", flat=True))


def card(code: str) -> str:
    return f"/batteries/{code}/"


# --- registration and installation ----------------------------------------------------------------------------


def test_a_battery_maker_registers_a_battery_through_the_form(maker):
    code = make_code()
    response = signed_in(maker).post("/batteries/register/", {"code": code.lower(), "capacity_kwh": "75.5",
                                                              "weight_kg": "420"})
    assert redirect_path(response) == card(code)
    b = battery(code)
    assert (b.status, b.holder, str(b.capacity_kwh)) == ("in_stock", maker.enterprise, "75.500")
    assert kinds(code) == ["produced"]


def test_registration_refuses_another_makers_code_on_the_code_field(maker, rival_maker):
    code = make_code("1KC")
    response = signed_in(maker).post("/en/batteries/register/", {"code": code})
    assert response.status_code == 200
    assert any("1KC" in e and "not assigned to your enterprise" in e for e in field_errors(response, "code"))
    assert not Battery.objects.filter(code=code).exists()


def test_registration_names_the_wrong_character(maker):
    bad = make_code()[:3] + "X" + make_code()[4:]
    response = signed_in(maker).post("/en/batteries/register/", {"code": bad})
    assert any("position 4" in e for e in field_errors(response, "code"))


def test_a_vehicle_maker_installs_a_pack_it_holds(maker, carmaker):
    code = delivered(registered(maker), maker, carmaker)
    response = signed_in(carmaker).post("/batteries/install/", {"code": code, "vin": VIN.lower(),
                                                                "model_name": "申城 E5", "is_swap_model": "on"})
    assert redirect_path(response) == card(code)
    b = battery(code)
    assert (b.status, b.vehicle.vin) == ("installed", VIN)
    assert Vehicle.objects.get(vin=VIN).is_swap_model is True
    assert kinds(code)[-1] == "installed"


def test_installation_with_a_bad_vin_is_refused_on_the_vin_field(maker, carmaker):
    code = delivered(registered(maker), maker, carmaker)
    response = signed_in(carmaker).post("/en/batteries/install/", {"code": code, "vin": VIN[:8] + "0" + VIN[9:]})
    assert any("check digit" in e for e in field_errors(response, "vin"))
    assert battery(code).status == "in_stock"


def test_the_card_form_prefills_the_code_and_posts_to_the_action(maker, carmaker):
    code = delivered(registered(maker), maker, carmaker)
    html = body(signed_in(carmaker).get(card(code)))
    assert 'action="/batteries/install/"' in html
    assert f'type="hidden" name="code" value="{code}"' in html


def test_a_swap_operator_swaps_batteries(maker, carmaker, swapper):
    old = installed(maker, carmaker, VIN, is_swap_model=True)
    new = delivered(registered(maker), maker, swapper)
    response = signed_in(swapper).post("/batteries/swap/", {"vin": VIN, "out_code": old, "in_code": new})
    assert redirect_path(response) == card(new)
    assert (battery(old).status, battery(old).holder, battery(new).vehicle.vin) == ("in_stock", swapper.enterprise,
                                                                                   VIN)
    assert kinds(old)[-1] == "swapped_out" and kinds(new)[-1] == "swapped_in"


def test_a_repairer_replaces_a_battery_and_refusals_land_on_the_right_field(maker, carmaker, repairer):
    old = installed(maker, carmaker, VIN)
    new = delivered(registered(maker), maker, repairer)
    spare = delivered(registered(maker), maker, repairer)
    client = signed_in(repairer)
    wrong = client.post("/en/batteries/replace/", {"vin": VIN, "old_code": spare, "new_code": new})
    # the service says "out_code"; the page shows it next to "Code of the battery removed"
    assert any("does not show battery" in e for e in field_errors(wrong, "old_code"))
    assert battery(old).status == "installed" and battery(new).status == "in_stock"

    response = client.post("/batteries/replace/", {"vin": VIN, "old_code": old, "new_code": new})
    assert redirect_path(response) == card(new)
    assert (battery(old).holder, battery(new).vehicle.vin) == (repairer.enterprise, VIN)
    assert kinds(old)[-1] == "replaced_out" and kinds(new)[-1] == "replaced_in"


# --- waste, handover, receipt ---------------------------------------------------------------------------------


def test_declaring_waste_needs_the_confirmation(maker):
    code = registered(maker)
    client = signed_in(maker)
    unconfirmed = client.post("/batteries/declare-waste/", {"code": code})
    assert field_errors(unconfirmed, "confirm")
    assert battery(code).is_waste is False

    response = client.post("/batteries/declare-waste/", {"code": code, "confirm": "on", "reason": "热失控风险"})
    assert redirect_path(response) == card(code)
    assert battery(code).is_waste is True
    assert BatteryEvent.objects.get(battery__code=code, kind="declared_waste").details == {"reason": "热失控风险"}


def test_the_hand_over_page_has_a_search_box_not_a_list_of_every_enterprise(maker, carmaker):
    code = registered(maker)
    form_page = signed_in(maker).get(f"/batteries/hand-over/?code={code}")
    html = body(form_page)
    assert 'name="recipient"' in html and 'data-recipient-search="/batteries/hand-over/recipients/"' in html
    assert '<select name="recipient"' not in html
    assert carmaker.enterprise.name not in html and carmaker.enterprise.uscc not in html  # nothing listed up front
    assert "js/recipient_search.js" in html  # a static file: the CSP forbids inline scripts
    assert form_page.context["form"].initial["code"] == code


def test_handing_over_by_unified_social_credit_code(maker, carmaker):
    code = registered(maker)
    response = signed_in(maker).post("/batteries/hand-over/", {"code": code,
                                                               "recipient": carmaker.enterprise.uscc.lower()})
    assert redirect_path(response) == card(code)
    b = battery(code)
    assert (b.status, b.transit_to) == ("in_transit", carmaker.enterprise)


def test_an_unknown_recipient_code_is_shown_on_the_recipient_box(maker):
    code = registered(maker)
    response = signed_in(maker).post("/en/batteries/hand-over/", {"code": code, "recipient": "91350200776049653A"})
    assert any("not an active enterprise" in e for e in field_errors(response, "recipient"))
    response = signed_in(maker).post("/en/batteries/hand-over/", {"code": code, "recipient": "湖北江城"})
    assert field_errors(response, "recipient")  # a name is not a recipient: the suggestions give its code
    response = signed_in(maker).post("/en/batteries/hand-over/", {"code": code})
    assert any("credit code" in e for e in field_errors(response, "recipient"))
    assert battery(code).status == "in_stock"


# --- the recipient search (JSON suggestions for the hand-over box) ---------------------------------------------

SEARCH = "/batteries/hand-over/recipients/"


def test_the_recipient_search_suggests_active_enterprises_by_name_or_code(maker, carmaker, recycler):
    from apps.enterprises.models import Enterprise
    from tests.factories import EnterpriseFactory

    pending = EnterpriseFactory(name=carmaker.enterprise.name + "分公司", status=Enterprise.Status.PENDING)
    client = signed_in(maker)
    by_name = client.get(SEARCH, {"q": carmaker.enterprise.name[:3]}).json()["results"]
    assert carmaker.enterprise.uscc in [r["uscc"] for r in by_name]
    assert pending.uscc not in [r["uscc"] for r in by_name]  # only active enterprises
    assert set(by_name[0]) == {"uscc", "name", "province"}  # the directory's name and code, nothing more
    by_code = client.get(SEARCH, {"q": recycler.enterprise.uscc[:8].lower()}).json()["results"]
    assert recycler.enterprise.uscc in [r["uscc"] for r in by_code]
    own = client.get(SEARCH, {"q": maker.enterprise.uscc}).json()["results"]
    assert own == []  # never the actor's own enterprise
    assert client.get(SEARCH, {"q": "x"}).json() == {"results": []}  # too short: no browsing of the directory
    assert client.get(SEARCH).json() == {"results": []}


def test_the_recipient_search_is_bounded_in_rows_and_queries(maker, django_assert_max_num_queries):
    from tests.factories import EnterpriseFactory

    for i in range(15):
        EnterpriseFactory(name=f"搜索回收{i:02d}", roles=["recycler"])
    client = signed_in(maker)
    client.get(SEARCH, {"q": "搜索"})  # warm the session
    with django_assert_max_num_queries(6):
        results = client.get(SEARCH, {"q": "搜索回收"}).json()["results"]
    assert len(results) == 10 and results == sorted(results, key=lambda r: r["name"])


def test_the_recipient_search_is_for_enterprises_that_hand_over(maker, reviewer, admin_user, anon):
    assert_redirects_to_login(anon.get(SEARCH, {"q": "江城"}))
    for user in (reviewer, admin_user):
        assert signed_in(user).get(SEARCH, {"q": "江城"}).status_code == 403
    assert signed_in(maker).post(SEARCH, {"q": "江城"}).status_code == 405


def test_the_recipient_search_is_refused_to_an_enterprise_not_yet_active(db):
    from apps.enterprises.models import Enterprise
    from tests.factories import EnterpriseFactory, MembershipFactory

    pending = EnterpriseFactory(status=Enterprise.Status.PENDING, roles=["recycler"])
    staff = MembershipFactory(enterprise=pending).user
    assert signed_in(staff).get(SEARCH, {"q": "江城"}).status_code in (302, 403)


def test_a_waste_battery_is_not_handed_to_an_unlicensed_recycler(maker, unlicensed_recycler):
    code = waste_held_by(maker, maker)
    before = kinds(code)
    response = signed_in(maker).post("/en/batteries/hand-over/", {"code": code,
                                                                  "recipient": unlicensed_recycler.enterprise.pk})
    assert response.status_code == 200
    errors = field_errors(response, "recipient")
    assert any("rule 3" in e and unlicensed_recycler.enterprise.name in e for e in errors), errors
    assert "Waste batteries may go only to a collection point or to a licensed recycler" in page_text(response)
    b = battery(code)
    assert (b.status, b.transit_to, kinds(code)) == ("in_stock", None, before)


def test_the_recipient_receives_from_the_incoming_list(maker, carmaker):
    code = in_transit(registered(maker), maker, carmaker)
    client = signed_in(carmaker)
    incoming = client.get("/en/batteries/incoming/")
    assert [b.code for b in incoming.context["page"].object_list] == [code]
    assert maker.enterprise.name in page_text(incoming)

    response = client.post("/batteries/receive/", {"code": code})
    assert redirect_path(response) == card(code)
    assert (battery(code).holder, battery(code).status) == (carmaker.enterprise, "in_stock")
    assert list(client.get("/batteries/incoming/").context["page"].object_list) == []


def test_the_recipient_refuses_with_a_reason(maker, carmaker):
    code = in_transit(registered(maker), maker, carmaker)
    client = signed_in(carmaker)
    without = client.post("/batteries/refuse/", {"code": code, "reason": " "})
    assert field_errors(without, "reason")
    assert battery(code).status == "in_transit"

    response = client.post("/batteries/refuse/", {"code": code, "reason": "外壳破损"})
    assert redirect_path(response) == "/batteries/incoming/"
    b = battery(code)
    assert (b.status, b.holder, b.transit_to) == ("in_stock", maker.enterprise, None)
    assert BatteryEvent.objects.get(battery__code=code, kind="refused").details == {"reason": "外壳破损"}


def test_only_the_named_recipient_may_receive(maker, carmaker, swapper):
    code = in_transit(registered(maker), maker, carmaker)
    # the swap operator cannot see the battery at all: it is not found, and nothing changes
    assert signed_in(swapper).post("/batteries/receive/", {"code": code}).status_code == 404
    assert battery(code).status == "in_transit"


# --- end of life ----------------------------------------------------------------------------------------------


def test_a_licensed_recycler_recycles_a_waste_battery(maker, recycler):
    code = waste_held_by(maker, recycler)
    client = signed_in(recycler)
    unconfirmed = client.post("/batteries/recycle/", {"code": code, "input_weight_kg": "410.5"})
    assert field_errors(unconfirmed, "confirm")
    response = client.post("/batteries/recycle/", {"code": code, "input_weight_kg": "410.5", "confirm": "on"})
    assert redirect_path(response) == card(code)
    assert battery(code).status == "recycled"
    assert BatteryEvent.objects.get(battery__code=code, kind="recycled").details["input_weight_kg"] == "410.5"


def test_remanufacturing_through_the_form(maker, recycler):
    sources = [waste_held_by(maker, recycler) for _ in range(2)]
    new_code = make_code("9RX")
    client = signed_in(recycler)
    page = client.get(f"/en/batteries/remanufacture/?source_codes={sources[0]}")
    assert "electric bicycles" in page_text(page)
    response = client.post("/batteries/remanufacture/", {
        "source_codes": "\n".join(s.lower() for s in sources), "new_code": new_code,
        "field_of_use": "energy_storage", "standard_number": "GB/T 36276-2018"})
    assert redirect_path(response) == card(new_code)
    assert [battery(s).status for s in sources] == ["remanufactured", "remanufactured"]
    assert battery(new_code).remanufacture.field_of_use == "energy_storage"


def test_electric_bicycles_are_refused_on_the_field_of_use(maker, recycler):
    sources = [waste_held_by(maker, recycler)]
    new_code = make_code("9RX")
    response = signed_in(recycler).post("/en/batteries/remanufacture/", {
        "source_codes": sources[0], "new_code": new_code, "field_of_use": "electric_bicycle",
        "standard_number": "GB/T 36276-2018"})
    assert any("Electric bicycle" in e for e in field_errors(response, "field_of_use"))
    assert not Battery.objects.filter(code=new_code).exists()
    assert battery(sources[0]).status == "in_stock"


# --- outsiders, roles, regulators, visitors -------------------------------------------------------------------


@pytest.mark.parametrize("url, extra", [
    ("/batteries/hand-over/", {"recipient": "91350200776049653A"}),
    ("/batteries/declare-waste/", {"confirm": "on"}),
    ("/batteries/install/", {"vin": VIN2}),
    ("/batteries/recycle/", {"input_weight_kg": "1", "confirm": "on"}),
])
def test_another_enterprises_battery_is_not_found_and_nothing_changes(url, extra, maker, carmaker, recycler):
    code = registered(maker)
    outsider = {"/batteries/install/": carmaker, "/batteries/recycle/": recycler}.get(url, carmaker)
    response = signed_in(outsider).post(url, {"code": code, **extra})
    assert response.status_code == 404
    assert kinds(code) == ["produced"]
    assert battery(code).status == "in_stock" and battery(code).is_waste is False


def test_a_swap_operator_cannot_put_in_another_enterprises_battery(maker, carmaker, swapper):
    old = installed(maker, carmaker, VIN, is_swap_model=True)
    theirs = registered(maker)
    response = signed_in(swapper).post("/batteries/swap/", {"vin": VIN, "out_code": old, "in_code": theirs})
    assert response.status_code == 404
    assert battery(old).status == "installed" and battery(theirs).status == "in_stock"


def test_a_page_for_a_role_the_enterprise_lacks_is_forbidden(carmaker, maker):
    assert signed_in(carmaker).get("/batteries/register/").status_code == 403
    assert signed_in(maker).get("/batteries/recycle/").status_code == 403
    assert signed_in(maker).post("/batteries/swap/", {"vin": VIN}).status_code == 403


@pytest.mark.parametrize("url", ["/batteries/register/", "/batteries/hand-over/", "/batteries/receive/",
                                 "/batteries/incoming/", "/batteries/uploads/"])
def test_regulators_only_read(url, maker, reviewer, admin_user):
    code = registered(maker)
    for user in (reviewer, admin_user):
        client = signed_in(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"code": code, "recipient": maker.enterprise.uscc}).status_code == 403
    assert kinds(code) == ["produced"]


@pytest.mark.parametrize("url", ["/batteries/register/", "/batteries/install/", "/batteries/swap/",
                                 "/batteries/replace/", "/batteries/declare-waste/", "/batteries/hand-over/",
                                 "/batteries/receive/", "/batteries/refuse/", "/batteries/recycle/",
                                 "/batteries/remanufacture/", "/batteries/incoming/"])
def test_visitors_are_sent_to_sign_in(url, anon):
    assert_redirects_to_login(anon.get(url))
    assert_redirects_to_login(anon.post(url, {"code": make_code()}))


def test_an_enterprise_not_yet_active_is_sent_to_its_application(maker):
    code = registered(maker)
    enterprise = maker.enterprise
    enterprise.status = "returned"
    enterprise.save()
    client = signed_in(maker)
    response = client.post("/batteries/declare-waste/", {"code": code, "confirm": "on"})
    assert redirect_path(response) == "/application/"
    assert battery(code).is_waste is False
    assert redirect_path(client.get(card(code))) == "/application/"


def test_each_action_page_renders(maker, carmaker, swapper, repairer, recycler):
    pages = {maker: ["register", "declare-waste", "hand-over", "receive", "refuse"],
             carmaker: ["install"], swapper: ["swap"], repairer: ["replace"],
             recycler: ["recycle", "remanufacture"]}
    for user, names in pages.items():
        client = signed_in(user)
        for name in names:
            response = client.get(f"/batteries/{name}/")
            assert response.status_code == 200, name
            assert 'method="post"' in body(response)


def test_services_each_called_once_per_post(maker, carmaker, monkeypatch):
    """A page is a thin caller: one service call per form post."""
    code = registered(maker)
    calls = []
    original = services.battery_hand_over

    def spy(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(services, "battery_hand_over", spy)
    signed_in(maker).post("/batteries/hand-over/", {"code": code, "recipient": carmaker.enterprise.pk})
    assert len(calls) == 1 and calls[0]["actor"] == maker


def test_the_form_does_not_turn_a_forbidden_letter_into_an_allowed_one(maker):
    """'ı' (dotless i) upper-cases to 'I' with str.upper(); the form must hand it to the rule as it is."""
    from apps.batteries.models import Battery

    code = make_code()
    typed = code[:5] + "ı" + code[6:]  # position 6, in the specification code
    response = signed_in(maker).post("/en/batteries/register/", {"code": typed})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["code"])
    assert "ı" in errors and "position 6" in errors, errors
    assert not Battery.objects.filter(code=code[:5] + "I" + code[6:]).exists()
