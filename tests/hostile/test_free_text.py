"""HTML and script in every free-text field of the forms and the API (reasons, comments, names, addresses, model
names, key names, search boxes): each is either refused with the rule (nothing changes), or stored as text and
rendered escaped — never a raw <script>, an injected tag or a javascript: link in a page."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.filings import services as filing_services
from tests.batteries.conftest import VIN
from tests.batteries.flows import delivered, in_transit, registered
from tests.conftest import signed_in
from tests.filings.conftest import COUNTS, last_month
from tests.hostile.corpus import RAW_MARKERS, XSS
from tests.web import page_text

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def assert_safe(html: str, payload: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, (marker, html[max(0, html.find(marker) - 200): html.find(marker) + 200])
    lowered = html.lower()
    assert 'href="javascript:' not in lowered and "href='javascript:" not in lowered and "src=\"javascript:" not in lowered
    assert "onmouseover='alert" not in html and '" onerror=' not in html  # no attribute broken out of


def check(response, payload: str, pages: list[tuple], refused: bool | None = None) -> None:
    """Refused (4xx, or the form's error) or stored; every page named is safe either way."""
    assert response.status_code < 500, response.content[:300]
    if refused is None:
        refused = response.status_code >= 400
    if refused and response.status_code >= 400:
        body = response.json()
        assert body["code"] and body["message"], body
        if body["code"] == "markup_not_allowed":
            assert "position" in body["message"] or "位" in body["message"], body
    for client, url in pages:
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        html = page.content.decode()
        assert_safe(html, payload)
        if not refused and "<" in payload:
            assert payload in page_text(page), f"{url}: the accepted text is not shown (escaped) at all"


IDS = [x[0] for x in XSS]


@pytest.fixture
def alice_filing(alice):
    return filing_services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_declare_waste_reason_api(maker, unchanged, name, payload):
    code = registered(maker)
    response = _api(maker).post(f"{API}/batteries/{code}/declare-waste/", {"reason": payload}, format="json")
    check(response, payload, [(signed_in(maker), f"/batteries/{code}/"), (signed_in(maker), f"/en/batteries/{code}/")])


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_declare_waste_reason_form(maker, name, payload):
    from apps.batteries.models import Battery

    code = registered(maker)
    client = signed_in(maker)
    response = client.post("/batteries/declare-waste/", {"code": code, "reason": payload})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert_safe(response.content.decode(), payload)
    check(response, payload, [(client, f"/batteries/{code}/")], refused=not Battery.objects.get(code=code).is_waste)


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_refusal_reason_api(maker, carmaker, name, payload):
    code = in_transit(registered(maker), maker, carmaker)
    response = _api(carmaker).post(f"{API}/batteries/{code}/refuse/", {"reason": payload}, format="json")
    check(response, payload, [(signed_in(maker), f"/batteries/{code}/")])


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_vehicle_model_name_api(maker, carmaker, name, payload):
    code = delivered(registered(maker), maker, carmaker)
    response = _api(carmaker).post(f"{API}/batteries/{code}/install/", {"vin": VIN, "model_name": payload},
                                   format="json")
    check(response, payload, [(signed_in(carmaker), f"/batteries/{code}/")])


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_filing_comment_api(alice, alice_filing, name, payload):
    response = _api(alice).post(f"{API}/filings/{alice_filing.pk}/comments/", {"body": payload}, format="json")
    check(response, payload, [(signed_in(alice), f"/filings/{alice_filing.pk}/")])


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_filing_comment_form(alice, alice_filing, name, payload):
    client = signed_in(alice)
    response = client.post(f"/filings/{alice_filing.pk}/comments/", {"body": payload})
    assert response.status_code == 302, response.status_code
    stored = alice_filing.comments.exists()
    page = client.get(f"/filings/{alice_filing.pk}/")
    if not stored:  # refused: the reason is shown (a flash message naming the rule)
        assert "HTML" in page_text(page) or "<" not in payload, page_text(page)[:3000]
    check(response, payload, [(client, f"/filings/{alice_filing.pk}/")], refused=not stored)


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_reviewer_return_comment_api(alice, alice_filing, reviewer, api_for, client_for, name, payload):
    filing_services.filing_submit(actor=alice, filing_id=alice_filing.pk)
    filing_services.filing_claim(actor=reviewer, filing_id=alice_filing.pk)
    regulator = client_for(reviewer)  # one session: a TOTP code is accepted once
    response = regulator.post(f"{API}/filings/{alice_filing.pk}/return/", {"comment": payload},
                              content_type="application/json")
    check(response, payload, [(signed_in(alice), f"/filings/{alice_filing.pk}/"),
                              (regulator, f"/review/filings/{alice_filing.pk}/")])


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_api_key_name(alice, unchanged, name, payload):
    response = _api(alice).post(f"{API}/enterprise/api-keys/", {"name": payload}, format="json")
    check(response, payload, [(signed_in(alice), "/enterprise/api-keys/")])


@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_staff_full_name(alice, name, payload):
    response = _api(alice).post(f"{API}/enterprise/staff/", {"email": "new.staff@example.cn", "full_name": payload},
                                format="json")
    check(response, payload, [(signed_in(alice), "/enterprise/staff/")])


@pytest.mark.parametrize("field", ["name", "address", "contact_name", "applicant_full_name"])
@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_registration_free_text(db, reviewer, client_for, unchanged, field, name, payload):
    from tests.enterprises.test_registration_api import application

    data = application(**{field: payload})
    response = APIClient().post(f"{API}/registrations/", data, format="multipart", HTTP_ACCEPT_LANGUAGE="en")
    check(response, payload, [(client_for(reviewer), "/review/enterprises/")])


SEARCHES = [("maker", "/batteries/"), ("maker", "/batteries/uploads/"), ("alice", "/filings/"),
            ("alice", "/notifications/"), ("dismantler", "/scrapping/intakes/"), ("dismantler", "/scrapping/certificates/"),
            ("anon", "/recyclers/"), ("reviewer", "/review/filings/"), ("reviewer", "/review/enterprises/"),
            ("reviewer", "/discrepancies/" if False else "/review/discrepancies/"), ("admin_user", "/licences/")]


@pytest.mark.parametrize("who,url", SEARCHES, ids=[u for _, u in SEARCHES])
@pytest.mark.parametrize("name,payload", XSS, ids=IDS)
def test_search_boxes_reflect_the_query_escaped(request, client_for, anon, who, url, name, payload):
    client = anon if who == "anon" else client_for(request.getfixturevalue(who))
    for prefix in ("", "/en"):
        page = client.get(prefix + url, {"q": payload, "page": payload})
        assert page.status_code in (200, 400), (url, page.status_code)
        assert_safe(page.content.decode(), payload)
