"""Malformed battery codes (GB/T 34014), VINs (GB 16735 / ISO 3779) and unified social credit codes (GB 32100)
through every entry point that takes them: each is refused with the rule and the position, and nothing changes.

Look-alikes (full-width digits, Cyrillic letters), invisible characters (zero-width spaces, BOM, NUL) and Unicode
case folding ('ı'.upper() == 'I') must never be folded into a valid identifier."""
from __future__ import annotations

import pytest

from apps.batteries import services
from apps.batteries.models import Battery
from tests.batteries.conftest import make_code
from tests.batteries.flows import delivered, registered
from tests.conftest import signed_in
from tests.hostile.corpus import BATTERY_CODES, GOOD_CODE, USCCS, VINS
from tests.web import page_text

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _assert_refused(response, codes: set[str], where: str, field: str | None = None) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:500])
    body = response.json()
    assert body["code"] in codes, body
    message = body["message"] + " ".join(str(e.get("message", "")) for e in body.get("errors", []))
    assert where in message, (where, body)
    if field:
        assert body["field"] == field, body
    return body


CODE_ERRORS = {"battery_code_invalid", "null_characters_not_allowed"}


def _where(code: str, where: str) -> str:
    """A NUL is refused before the identifier rules, by name ("Null characters are not allowed")."""
    return "Null" if "\x00" in code else where


@pytest.mark.parametrize("case,code,where", BATTERY_CODES, ids=[c[0] for c in BATTERY_CODES])
def test_registration_api_refuses_a_malformed_battery_code(maker, unchanged, case, code, where):
    client = _api(maker)
    with unchanged():
        response = client.post(f"{API}/batteries/", {"code": code}, format="json")
    _assert_refused(response, CODE_ERRORS, _where(code, where), field="code")


@pytest.mark.parametrize("case,code,where", BATTERY_CODES, ids=[c[0] for c in BATTERY_CODES])
def test_registration_form_refuses_a_malformed_battery_code(maker, unchanged, case, code, where):
    client = signed_in(maker)
    with unchanged():
        response = client.post("/en/batteries/register/", {"code": code})
    assert response.status_code == 200
    errors = response.context["form"].errors.get("code", [])
    # The form drops whitespace typed inside a code (pasted groups), so a space or tab makes it too short.
    if "\x00" in code:
        assert errors == ["Null characters are not allowed."], errors
    else:
        assert any(("position " + where in e or "24 characters" in e) and "GB/T 34014" in e for e in errors), errors
    assert "<script>alert" not in response.content.decode()


def test_lowercase_codes_are_read_as_upper_case_not_refused(maker):
    """Clerks type lower case: only a-z are upper-cased (the corpus above shows no other letter is folded)."""
    client = _api(maker)
    response = client.post(f"{API}/batteries/", {"code": GOOD_CODE.lower()}, format="json")
    assert response.status_code == 201, response.content
    assert Battery.objects.filter(code=GOOD_CODE).exists()


@pytest.mark.parametrize("case,vin,where", VINS, ids=[c[0] for c in VINS])
def test_installation_api_refuses_a_malformed_vin(maker, carmaker, unchanged, case, vin, where):
    code = delivered(registered(maker), maker, carmaker)
    client = _api(carmaker)
    with unchanged():
        response = client.post(f"{API}/batteries/{code}/install/", {"vin": vin}, format="json")
    body = _assert_refused(response, {"vin_invalid", "null_characters_not_allowed"}, _where(vin, where), field="vin")
    assert "GB 16735" in body["message"] or "\x00" in vin


@pytest.mark.parametrize("case,uscc,where", USCCS, ids=[c[0] for c in USCCS])
def test_handover_api_refuses_a_malformed_credit_code(maker, carmaker, unchanged, case, uscc, where):
    code = registered(maker)
    client = _api(maker)
    with unchanged():
        response = client.post(f"{API}/batteries/{code}/hand-over/", {"recipient": uscc}, format="json")
    body = _assert_refused(response, {"uscc_invalid", "null_characters_not_allowed"}, _where(uscc, where),
                           field="recipient")
    assert "GB 32100" in body["message"] or "18 characters" in body["message"] or "\x00" in uscc
