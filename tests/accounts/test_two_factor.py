"""Reviewers and administrators confirm every sign-in with a TOTP code; company staff do not."""
from __future__ import annotations

import base64
import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import signed_in, totp_device
from tests.web import assert_redirects_to_login, body, page_text, redirect_path, sign_in_with_form

pytestmark = pytest.mark.django_db

SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/verify/"


def fresh_token(device: TOTPDevice) -> str:
    """A code the device accepts now: the current time step, or the next one if the current was just used
    (a TOTP code is good once; the device's tolerance accepts the next step)."""
    device.refresh_from_db()
    for steps_ahead in (0, 1):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + steps_ahead * device.step
        if totp.t() > device.last_t:
            return f"{totp.token():06d}"
    raise AssertionError("no usable time step")


def wrong_token(device: TOTPDevice) -> str:
    good = {fresh_token(device)}
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    for shift in (-1, 1, 2):
        totp.time = time.time() + shift * device.step
        good.add(f"{totp.token():06d}")
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in good)


@pytest.fixture(params=["reviewer", "admin_user"])
def regulator(request):
    return request.getfixturevalue(request.param)


def _password_only(user) -> Client:
    client = Client()
    assert redirect_path(sign_in_with_form(client, user.username)) == "/dashboard/"
    return client


# --- enrolment ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dashboard/", "/review/enterprises/", "/licences/", "/", "/en/dashboard/"])
def test_regulator_without_a_device_is_sent_to_set_one_up_from_every_page(regulator, path):
    client = _password_only(regulator)
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith(SETUP)
    assert "two_factor_setup.html" in response.templates[0].name


def test_regulator_who_has_not_verified_cannot_post_to_pages_either(regulator, alice_co):
    client = _password_only(regulator)
    response = client.post(f"/review/enterprises/{alice_co.pk}/", {"reason": "x", "confirm": "on"})
    assert response.status_code == 302
    assert redirect_path(response).startswith(VERIFY)
    alice_co.refresh_from_db()
    assert alice_co.status == "active"


def test_setup_page_shows_a_qr_code_and_the_secret_of_the_new_device(reviewer):
    client = _password_only(reviewer)
    response = client.get(SETUP)
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=reviewer)
    assert device.confirmed is False
    html = body(response)
    assert re.search(r'<img src="data:image/svg\+xml[^"]+"', html), "QR code missing"
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert f"<code>{secret}</code>" in html
    # reloading shows the same key (the same unconfirmed device), not a new one each time
    assert f"<code>{secret}</code>" in body(client.get(SETUP))
    assert TOTPDevice.objects.filter(user=reviewer).count() == 1


def test_qr_code_encodes_the_otpauth_uri_of_the_device(reviewer):
    import segno
    from urllib.parse import unquote

    client = _password_only(reviewer)
    html = body(client.get(SETUP))
    device = TOTPDevice.objects.get(user=reviewer)
    data_uri = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', html).group(1)
    assert unquote(data_uri).split(",", 1)[1].startswith("<svg")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert device.config_url.startswith("otpauth://totp/")
    assert f"secret={secret}" in device.config_url
    # QR codes are deterministic: the picture is exactly the code of this device's URI
    expected = segno.make_qr(device.config_url, error="m").svg_data_uri(scale=5, border=2)
    assert data_uri == expected.replace("&", "&amp;") or unquote(data_uri) == unquote(expected)


def test_wrong_code_at_setup_shows_an_error_and_does_not_confirm(reviewer):
    client = _password_only(reviewer)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=reviewer)
    response = client.post(SETUP, {"token": wrong_token(device)})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert 'class="error"' in body(response)
    device.refresh_from_db()
    assert device.confirmed is False
    assert redirect_path(client.get("/dashboard/")).startswith(VERIFY)


def test_a_code_that_is_not_six_digits_is_refused_at_setup(reviewer):
    client = _password_only(reviewer)
    client.get(SETUP)
    response = client.post(SETUP, {"token": "12ab56"})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert TOTPDevice.objects.get(user=reviewer).confirmed is False


def test_correct_code_confirms_the_device_and_unlocks_the_pages(regulator):
    client = _password_only(regulator)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=regulator)
    response = client.post(SETUP, {"token": fresh_token(device)})
    assert redirect_path(response) == "/dashboard/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/review/enterprises/").status_code == 200
    assert client.get("/licences/").status_code == 200


def test_later_sign_ins_require_the_verify_step_not_a_new_setup(reviewer):
    client = _password_only(reviewer)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=reviewer)
    client.post(SETUP, {"token": fresh_token(device)})
    client.post("/accounts/logout/")

    again = _password_only(reviewer)
    response = again.get("/dashboard/", follow=True)
    assert response.redirect_chain[-1][0].startswith(VERIFY)
    assert "two_factor_verify.html" in response.templates[0].name
    # someone with only the password cannot enrol a second authenticator
    setup = again.get(SETUP)
    assert redirect_path(setup).startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=reviewer).count() == 1
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret not in body(again.get(SETUP, follow=True))

    wrong = again.post(VERIFY, {"token": wrong_token(device)})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["token"]
    assert redirect_path(again.get("/dashboard/")).startswith(VERIFY)


def test_verify_with_the_current_code_unlocks_the_pages(reviewer):
    device = totp_device(reviewer)
    client = _password_only(reviewer)
    response = client.post(VERIFY, {"token": fresh_token(device)})
    assert redirect_path(response) == "/dashboard/"
    assert client.get("/review/enterprises/").status_code == 200


def test_a_code_cannot_be_used_twice(reviewer):
    device = totp_device(reviewer)
    token = fresh_token(device)
    first = _password_only(reviewer)
    assert first.post(VERIFY, {"token": token}).status_code == 302
    second = _password_only(reviewer)
    response = second.post(VERIFY, {"token": token})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]


def test_verify_page_sends_a_regulator_without_a_device_to_setup(reviewer):
    client = _password_only(reviewer)
    assert redirect_path(client.get(VERIFY)) == SETUP


def test_after_verifying_the_regulator_lands_on_the_page_first_asked_for(reviewer, alice_co):
    device = totp_device(reviewer)
    client = _password_only(reviewer)
    asked = client.get(f"/review/enterprises/{alice_co.pk}/?tab=history")
    verify_url = redirect_path(asked)
    assert verify_url.startswith(VERIFY)
    response = client.post(verify_url, {"token": fresh_token(device)})
    assert redirect_path(response) == f"/review/enterprises/{alice_co.pk}/?tab=history"


@pytest.mark.parametrize("evil", ["https://evil.example/steal", "//evil.example/steal", "https:evil.example"])
def test_verify_does_not_follow_a_next_to_another_site(reviewer, evil):
    device = totp_device(reviewer)
    client = _password_only(reviewer)
    response = client.post(VERIFY + "?next=" + evil, {"token": fresh_token(device)})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert redirect_path(response) == "/dashboard/"


def test_verify_follows_a_local_next(reviewer):
    device = totp_device(reviewer)
    client = _password_only(reviewer)
    response = client.post(VERIFY + "?next=/licences/", {"token": fresh_token(device)})
    assert redirect_path(response) == "/licences/"


def test_unverified_regulator_may_still_sign_out(reviewer):
    client = _password_only(reviewer)
    assert redirect_path(client.post("/accounts/logout/")) == "/accounts/login/"
    assert_redirects_to_login(client.get("/dashboard/"))


# --- who needs it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "alice_filer"])
def test_company_staff_do_not_need_two_factor(request, persona):
    user = request.getfixturevalue(persona)
    client = _password_only(user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert client.get("/enterprise/").status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()


@pytest.mark.parametrize("path", [SETUP, VERIFY])
def test_two_factor_pages_need_a_signed_in_user(anon, path):
    assert_redirects_to_login(anon.get(path))
    assert_redirects_to_login(anon.post(path, {"token": "123456"}))
    assert not TOTPDevice.objects.exists()


def test_signed_in_helper_reaches_pages_like_a_verified_regulator(reviewer):
    """The fixture other tests rely on really performs the verify step."""
    client = signed_in(reviewer)
    assert client.get("/review/enterprises/").status_code == 200
    assert "Reviewer dashboard" in page_text(client.get("/en/dashboard/"))
