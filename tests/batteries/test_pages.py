"""The battery list, the digital identity card and its public tier: who sees what, search, and bounded queries."""
from __future__ import annotations

import re

import pytest
import segno

from apps.batteries import services
from apps.batteries.models import Battery
from tests.batteries.conftest import VIN, VIN2, make_code
from tests.batteries.flows import delivered, in_transit, installed, registered, waste_held_by
from tests.conftest import signed_in
from tests.web import assert_redirects_to_login, body, page_text, redirect_path

pytestmark = pytest.mark.django_db

LIST = "/batteries/"


def card(code: str, lang: str = "") -> str:
    return f"{lang}/batteries/{code}/"


def listed_codes(response) -> list[str]:
    return [b.code for b in response.context["page"].object_list]


# --- the list ------------------------------------------------------------------------------------------------


def test_company_staff_see_what_their_enterprise_made_holds_or_receives(maker, carmaker, rival_maker):
    made = registered(maker)
    coming = in_transit(registered(maker), maker, carmaker)
    theirs = registered(rival_maker, make_code("1KC"))

    response = signed_in(carmaker).get(LIST)
    assert response.status_code == 200
    assert listed_codes(response) == [coming]
    assert made not in body(response) and theirs not in body(response)

    assert set(listed_codes(signed_in(maker).get(LIST))) == {made, coming}


def test_search_by_full_code_ignores_case_and_finds_exactly_one(maker):
    code = registered(maker)
    other = registered(maker)
    response = signed_in(maker).get(LIST, {"q": f"  {code.lower()} "})
    assert listed_codes(response) == [code]
    assert other not in body(response)


def test_search_by_the_start_of_a_code(maker):
    first = registered(maker, make_code(serial=1234501))
    second = registered(maker, make_code(serial=1234502))
    registered(maker, make_code(serial=7777777))
    response = signed_in(maker).get(LIST, {"q": first[:21].lower()})
    assert set(listed_codes(response)) == {first, second}


def test_search_by_vin_shows_the_battery_installed_in_that_vehicle(maker, carmaker):
    in_car = installed(maker, carmaker, VIN)
    installed(maker, carmaker, VIN2)
    registered(maker)
    response = signed_in(carmaker).get(LIST, {"q": VIN.lower()})
    assert listed_codes(response) == [in_car]


def test_filters_by_status_waste_chemistry_and_product_type(maker, carmaker):
    lfp = registered(maker, make_code(chem="B"))
    waste = waste_held_by(maker, maker)
    module = registered(maker, make_code(product="M"))
    moving = in_transit(registered(maker), maker, carmaker)
    client = signed_in(maker)
    assert listed_codes(client.get(LIST, {"chemistry": "B"})) == [lfp]
    assert listed_codes(client.get(LIST, {"waste": "yes"})) == [waste]
    assert waste not in listed_codes(client.get(LIST, {"waste": "no"}))
    assert listed_codes(client.get(LIST, {"product_type": "M"})) == [module]
    assert listed_codes(client.get(LIST, {"status": "in_transit"})) == [moving]


def test_regulators_filter_by_holder_and_reviewers_see_only_their_provinces(maker, repairer, reviewer, reviewer_gd):
    at_maker = registered(maker)  # Fujian (35)
    at_repairer = delivered(registered(maker), maker, repairer)  # Guangdong (44)

    national = signed_in(reviewer)
    assert set(listed_codes(national.get(LIST))) == {at_maker, at_repairer}
    assert listed_codes(national.get(LIST, {"holder": repairer.enterprise.pk})) == [at_repairer]

    guangdong = signed_in(reviewer_gd)
    assert listed_codes(guangdong.get(LIST)) == [at_repairer]
    assert guangdong.get(card(at_maker)).status_code == 404


def test_company_staff_get_no_holder_filter(maker):
    response = signed_in(maker).get(LIST)
    assert "holder" not in response.context["form"].fields


def test_the_list_pages(maker):
    codes = [registered(maker) for _ in range(27)]
    client = signed_in(maker)
    first = client.get(LIST)
    assert len(listed_codes(first)) == 25
    second = client.get(LIST, {"page": 2})
    assert set(listed_codes(second)) == set(codes) - set(listed_codes(first))
    assert "page=2" in body(first)


def test_empty_list_says_so(maker):
    response = signed_in(maker).get("/en" + LIST)
    assert "No batteries yet" in page_text(response)
    response = signed_in(maker).get("/en" + LIST, {"q": "0PAPE"})
    assert "No battery matches your search" in page_text(response)


def test_anonymous_visitors_are_sent_to_sign_in(maker, anon):
    code = registered(maker)
    assert_redirects_to_login(anon.get(LIST))
    assert_redirects_to_login(anon.get(card(code)))


def test_list_queries_do_not_grow_with_the_rows(maker, carmaker, reviewer, django_assert_max_num_queries):
    for _ in range(2):
        installed(maker, carmaker, make_vin())
    client = signed_in(reviewer)
    with django_assert_max_num_queries(12) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(20):
        installed(maker, carmaker, make_vin())
        in_transit(registered(maker), maker, carmaker)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert len(listed_codes(response)) == 25


_vin_serial = iter(range(100000, 999999))


def make_vin() -> str:
    from apps.batteries.vin import vin_check_digit

    body_ = f"LSVAU2180N2{next(_vin_serial):06d}"
    return body_[:8] + vin_check_digit(body_) + body_[9:]


# --- the identity card ----------------------------------------------------------------------------------------


def test_the_card_shows_identity_place_and_ledger(maker, carmaker):
    code = installed(maker, carmaker, VIN)
    response = signed_in(carmaker).get(card(code, "/en"))
    assert response.status_code == 200
    text = page_text(response)
    battery = Battery.objects.get(code=code)
    for fact in ("0PA", "Pack", "Ternary (NCM/NCA)", battery.spec_code, battery.trace_code, "2026-03-15",
                 battery.serial, "Installed in a vehicle", VIN, carmaker.enterprise.name, maker.enterprise.name):
        assert fact in text, fact
    kinds = re.findall(r'class="badge event-(\w+)"', body(response))
    assert kinds == ["produced", "handed_over", "received", "installed"]
    for event in battery.events.all():
        assert event.hash[:12] in text
    # the counterparty of the handover is on the timeline
    assert text.count(carmaker.enterprise.name) >= 2


def test_the_card_shows_capacity_weight_and_the_waste_flag(maker):
    code = registered(maker, capacity_kwh="75.500", weight_kg="420")
    services.battery_declare_waste(actor=maker, code=code, reason="跌落损伤")
    text = page_text(signed_in(maker).get(card(code, "/en")))
    assert "75.5 kWh" in text and "420 kg" in text
    assert 'class="badge waste"' in text
    assert "跌落损伤" in text


def test_the_card_shows_the_recipient_while_in_transit(maker, carmaker):
    code = in_transit(registered(maker), maker, carmaker)
    text = page_text(signed_in(maker).get(card(code, "/en")))
    assert "In transit to" in text and carmaker.enterprise.name in text


def test_the_qr_code_holds_the_absolute_public_address(maker):
    code = registered(maker)
    response = signed_in(maker).get(card(code, "/en"))
    url = f"http://testserver/b/{code}"
    assert response.context["public_url"] == url
    expected = segno.make_qr(url, error="m")
    assert not expected.is_micro
    assert f'src="{expected.svg_data_uri(scale=4, border=2)}"' in body(response)
    assert 'src="data:image/svg+xml' in body(response)


def test_a_lower_case_address_goes_to_the_card(maker):
    code = registered(maker)
    response = signed_in(maker).get(card(code.lower()))
    assert redirect_path(response) == card(code)


def test_another_enterprises_battery_is_not_found(maker, rival_maker, bob):
    code = registered(maker)
    assert signed_in(rival_maker).get(card(code)).status_code == 404
    assert signed_in(bob).get(card(code)).status_code == 404
    assert signed_in(bob).get(card("0PAPE01ABCDEFGNC50999999")).status_code == 404


def test_the_card_links_parent_and_children(maker):
    pack = registered(maker)
    module = registered(maker, make_code(product="M"), parent_code=pack)
    cell = registered(maker, make_code(product="C"), parent_code=module)
    response = signed_in(maker).get(card(module, "/en"))
    assert f'href="/en/batteries/{pack}/"' in body(response)
    assert f'href="/en/batteries/{cell}/"' in body(response)
    assert [c.code for c in response.context["children"]] == [cell]


def test_the_card_links_a_remanufactured_product_and_its_sources(maker, recycler):
    sources = [waste_held_by(maker, recycler) for _ in range(2)]
    product = services.battery_remanufacture(actor=recycler, source_codes=sources, new_code=make_code("9RX"),
                                             field_of_use="energy_storage", standard_number="GB/T 36276-2018")
    client = signed_in(recycler)
    text = page_text(client.get(card(product.code, "/en")))
    assert "Energy storage" in text and "GB/T 36276-2018" in text
    for source in sources:
        assert f"/en/batteries/{source}/" in text
    source_page = body(client.get(card(sources[0], "/en")))
    assert f'href="/en/batteries/{product.code}/"' in source_page


def test_regulators_read_the_card_without_actions(maker, reviewer):
    code = registered(maker)
    response = signed_in(reviewer).get(card(code))
    assert response.status_code == 200
    assert not response.context["steps"]
    assert 'action="/batteries/' not in body(response)


def test_the_holder_is_offered_what_it_may_do_next(maker, carmaker):
    code = registered(maker)
    steps = signed_in(maker).get(card(code)).context["steps"]
    assert [s.name for s in steps.forms] == ["declare_waste", "hand_over"]  # a battery maker does not install

    moving = in_transit(registered(maker), maker, carmaker)
    response = signed_in(carmaker).get(card(moving))
    assert [s.name for s in response.context["steps"].forms] == ["receive", "refuse"]
    assert 'action="/batteries/receive/"' in body(response)
    # the sender waits: nothing to do while the battery is on its way
    assert not signed_in(maker).get(card(moving)).context["steps"]


def test_a_waste_battery_is_offered_only_recycling_and_handover_to_a_recycler(maker, recycler):
    code = waste_held_by(maker, recycler)
    steps = signed_in(recycler).get(card(code)).context["steps"]
    assert [s.name for s in steps.forms] == ["recycle", "hand_over"]
    assert any("/batteries/remanufacture/?source_codes=" + code in url for url, _ in steps.links)


def test_card_queries_do_not_grow_with_events_or_children(maker, carmaker, django_assert_max_num_queries):
    few = registered(maker)  # same state as `many` below (in stock at the maker): same forms on the card
    client = signed_in(maker)
    with django_assert_max_num_queries(20) as captured:
        assert client.get(card(few)).status_code == 200
    many = registered(maker)
    for _ in range(6):  # back and forth: 12 more events
        delivered(many, maker, carmaker)
        delivered(many, carmaker, maker)
    for _ in range(15):
        registered(maker, make_code(product="M"), parent_code=many)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get(card(many))
    assert len(response.context["events"]) == 25
    assert len(response.context["children"]) == 15


# --- the public tier ------------------------------------------------------------------------------------------


def test_the_public_page_shows_only_public_facts(maker, carmaker, anon):
    code = installed(maker, carmaker, VIN, code=make_code())
    Battery.objects.filter(code=code).update(capacity_kwh="61.200")
    response = anon.get(f"/en/b/{code}")
    assert response.status_code == 200
    text = page_text(response)
    for fact in (maker.enterprise.name, "Pack", "Ternary (NCM/NCA)", "61.2 kWh", "2026-03", "In service in a vehicle"):
        assert fact in text, fact
    # never the holder, the vehicle, the events or the counterparties
    for secret in (carmaker.enterprise.name, carmaker.enterprise.uscc, VIN, "申城 E5", "2026-03-15", "Handed over",
                   "Received", "Installed in a vehicle"):
        assert secret not in text, secret
    assert "event-" not in text
    battery = Battery.objects.get(code=code)
    assert battery.ledger_head[:12] not in text


def test_the_public_page_says_a_battery_is_waste(maker, anon):
    code = waste_held_by(maker, maker)
    text = page_text(anon.get(f"/en/b/{code}/"))
    assert "declared waste" in text


def test_the_public_page_is_chinese_by_default(maker, anon):
    code = registered(maker)
    response = anon.get(f"/b/{code.lower()}")
    assert response.status_code == 200
    assert 'lang="zh-hans"' in body(response)
    assert response.context["battery"].code == code


def test_an_unknown_code_gets_a_friendly_not_found_page(anon):
    response = anon.get("/en/b/0PAPE01ABCDEFGNC51234567")
    assert response.status_code == 404
    text = page_text(response)
    assert "No battery with the code 0PAPE01ABCDEFGNC51234567 is registered" in text
    assert anon.get("/b/NOT-A-CODE").status_code == 404


# --- page chrome ------------------------------------------------------------------------------------------------


def test_pages_load_htmx_from_our_own_static_files_and_have_no_inline_script_or_style(maker):
    code = registered(maker)
    client = signed_in(maker)
    for url in (LIST, card(code), f"/b/{code}", "/batteries/hand-over/", "/batteries/uploads/"):
        html = body(client.get(url))
        assert '<script src="/static/vendor/htmx.min.js" defer></script>' in html, url
        assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, url
        assert "<style" not in html and " style=" not in html, url


def test_the_vendored_htmx_is_the_minified_htmx_2():
    from django.conf import settings

    text = (settings.BASE_DIR / "static" / "vendor" / "htmx.min.js").read_text()
    assert re.search(r'version:"2\.\d+\.\d+"', text)


def test_navigation_links_to_batteries(maker, reviewer):
    company_nav = body(signed_in(maker).get("/dashboard/"))
    assert 'href="/batteries/"' in company_nav and 'href="/batteries/uploads/"' in company_nav
    regulator_nav = body(signed_in(reviewer).get("/dashboard/"))
    assert 'href="/batteries/"' in regulator_nav and 'href="/batteries/uploads/"' not in regulator_nav


def test_the_cached_lookup_sql_follows_each_persona_scope(maker, carmaker, reviewer, reviewer_gd, admin_user):
    """visible_battery_id_sql compiles visible_to once per scope: each persona still sees exactly what
    visible_to gives it, battery by battery."""
    from django.db import connection

    from apps.batteries.models import Battery
    from apps.batteries.querysets import visible_battery_id_sql

    mine = services.battery_register(actor=maker, code=make_code()).code
    given = services.battery_register(actor=maker, code=make_code()).code
    services.battery_hand_over(actor=maker, code=given, recipient=carmaker.enterprise)
    for user in (maker, carmaker, reviewer, reviewer_gd, admin_user, maker, carmaker):
        for code in (mine, given, "NOSUCHCODE"):
            sql, params = visible_battery_id_sql(user, code)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            expected = Battery.objects.visible_to(user).filter(code=code).values_list("pk", flat=True).first()
            assert (row[0] if row else None) == expected, (user, code)


def test_the_cached_lookup_sql_for_someone_who_may_see_nothing(maker):
    from django.db import connection

    from apps.batteries.querysets import visible_battery_id_sql
    from tests.factories import UserFactory

    code = services.battery_register(actor=maker, code=make_code()).code
    loner = UserFactory(kind="company")  # no membership: visible_to is empty
    sql, params = visible_battery_id_sql(loner, code)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchone() is None


def test_the_card_lookup_follows_visible_to_for_every_persona(maker, carmaker, reviewer, reviewer_gd, admin_user):
    """battery_get uses visible_to's WHERE directly (or as a subquery when it needs joins, as for a reviewer limited
    to provinces): each persona gets a card exactly for the batteries visible_to gives it."""
    from apps.batteries import selectors
    from apps.core.errors import NotFound

    mine = services.battery_register(actor=maker, code=make_code()).code
    given = services.battery_register(actor=maker, code=make_code()).code
    services.battery_hand_over(actor=maker, code=given, recipient=carmaker.enterprise)
    for user in (maker, carmaker, reviewer, reviewer_gd, admin_user):
        for code in (mine, given):
            visible = Battery.objects.visible_to(user).filter(code=code).exists()
            try:
                card = selectors.battery_get(actor=user, code=code)
            except NotFound:
                card = None
            assert (card is not None) == visible, (user, code)
            if card is not None:
                assert card.code == code and card.holder.pk == card.holder_id
