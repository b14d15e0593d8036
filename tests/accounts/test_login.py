"""Signing in and out with the real form, lockout after repeated failures, suspended enterprises, and
password reset by e-mail."""
from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client

from apps.enterprises import services
from apps.enterprises.models import Enterprise
from tests.conftest import PASSWORD, signed_in
from tests.web import (
    LOGIN_URL,
    assert_redirects_to_login,
    link_in,
    page_text,
    redirect_path,
    set_password_through_link,
    sign_in_with_form,
)

pytestmark = pytest.mark.django_db


# --- the login page ---------------------------------------------------------------------------------------------


def test_login_page_shows_the_form_to_anonymous_visitors(anon):
    response = anon.get(LOGIN_URL)
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert 'name="password"' in response.content.decode()


def test_correct_password_signs_in_and_lands_on_the_dashboard(anon, alice):
    response = sign_in_with_form(anon, "alice")
    assert redirect_path(response) == "/dashboard/"
    dashboard = anon.get("/dashboard/")
    assert dashboard.status_code == 200
    assert dashboard.context["user"] == alice
    assert "爱丽丝动力电池有限公司" in page_text(dashboard)


def test_login_follows_a_local_next_but_not_an_external_one(alice):
    client = Client()
    response = sign_in_with_form(client, "alice", next="/enterprise/staff/")
    assert redirect_path(response) == "/enterprise/staff/"

    other = Client()
    response = other.post(LOGIN_URL + "?next=https://evil.example/x",
                          {"username": "alice", "password": PASSWORD, "next": "https://evil.example/x"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert redirect_path(response) == "/dashboard/"


def test_wrong_password_is_refused_with_an_error_on_the_form(anon, alice):
    response = sign_in_with_form(anon, "alice", "not-the-password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "errorbox" in response.content.decode()
    assert "_auth_user_id" not in anon.session
    assert_redirects_to_login(anon.get("/dashboard/"))


def test_unknown_user_name_gets_the_same_error_as_a_wrong_password(anon, alice):
    wrong_password = sign_in_with_form(anon, "alice", "not-the-password")
    unknown_user = sign_in_with_form(Client(), "nobody-by-this-name", "not-the-password")
    assert wrong_password.context["form"].non_field_errors() == unknown_user.context["form"].non_field_errors()


def test_a_signed_in_user_visiting_the_login_page_is_sent_to_the_dashboard(alice):
    client = signed_in(alice)
    assert redirect_path(client.get(LOGIN_URL)) == "/dashboard/"


def test_deactivated_user_cannot_sign_in(anon, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    response = sign_in_with_form(anon, "alice")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in anon.session


# --- sign out ---------------------------------------------------------------------------------------------------


def test_sign_out_ends_the_session_and_returns_to_the_login_page(alice):
    client = Client()
    sign_in_with_form(client, "alice")
    response = client.post("/accounts/logout/")
    assert redirect_path(response) == LOGIN_URL
    assert_redirects_to_login(client.get("/dashboard/"))


def test_sign_out_by_get_is_not_allowed(alice):
    """A link or an <img> elsewhere must not be able to sign people out."""
    client = signed_in(alice)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/dashboard/").status_code == 200


def test_sign_out_when_not_signed_in_is_harmless(anon):
    assert redirect_path(anon.post("/accounts/logout/")) == LOGIN_URL


# --- lockout (django-axes) --------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_and_the_right_password_is_then_refused(settings, alice):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for attempt in range(1, 5):
        response = sign_in_with_form(client, "alice", f"wrong-{attempt}")
        assert response.status_code == 200, f"attempt {attempt} should show the form again"
    fifth = sign_in_with_form(client, "alice", "wrong-5")
    assert fifth.status_code == 429
    sixth = sign_in_with_form(client, "alice", PASSWORD)
    assert sixth.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in sixth.templates]
    assert "/accounts/password-reset/" in sixth.content.decode()
    assert "_auth_user_id" not in client.session
    assert_redirects_to_login(client.get("/dashboard/"))
    assert AccessAttempt.objects.get(username="alice").failures_since_start >= 5


def test_lockout_applies_to_one_account_not_to_everyone_at_that_address(alice, bob):
    client = Client()
    for attempt in range(5):
        sign_in_with_form(client, "alice", f"wrong-{attempt}")
    other = Client()
    assert redirect_path(sign_in_with_form(other, "bob")) == "/dashboard/"


def test_fewer_failures_than_the_limit_do_not_lock_and_success_resets_the_count(alice):
    client = Client()
    for attempt in range(4):
        sign_in_with_form(client, "alice", f"wrong-{attempt}")
    assert redirect_path(sign_in_with_form(client, "alice")) == "/dashboard/"
    client.post("/accounts/logout/")
    # the count started again: four more failures still do not lock
    for attempt in range(4):
        assert sign_in_with_form(client, "alice", f"wrong-again-{attempt}").status_code == 200
    assert redirect_path(sign_in_with_form(client, "alice")) == "/dashboard/"


# --- suspended enterprises --------------------------------------------------------------------------------------


def _suspend(enterprise, admin_user, reason="未按期上报退役电池去向"):
    services.enterprise_suspend(actor=admin_user, enterprise=enterprise, reason=reason)


def test_user_of_a_suspended_enterprise_is_refused_at_login_with_the_reason(anon, alice, alice_co, admin_user):
    _suspend(alice_co, admin_user, reason="Late reporting of retired batteries")
    response = sign_in_with_form(anon, "alice")
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Late reporting of retired batteries" in errors
    assert "Late reporting of retired batteries" in page_text(response)
    assert "_auth_user_id" not in anon.session


def test_signed_in_user_is_logged_out_on_the_next_request_once_the_enterprise_is_suspended(alice, alice_co, admin_user):
    client = Client()
    sign_in_with_form(client, "alice")
    assert client.get("/dashboard/").status_code == 200

    _suspend(alice_co, admin_user, reason="Falsified handover records")
    response = client.get("/enterprise/", follow=True)
    assert response.redirect_chain[0][0].startswith(LOGIN_URL)
    assert "Falsified handover records" in page_text(response)
    assert "_auth_user_id" not in client.session
    # and it stays that way
    assert_redirects_to_login(client.get("/dashboard/"))


def test_reinstated_enterprise_can_sign_in_again(anon, alice, alice_co, admin_user):
    _suspend(alice_co, admin_user)
    services.enterprise_reinstate(actor=admin_user, enterprise=Enterprise.objects.get(pk=alice_co.pk), reason="fixed")
    assert redirect_path(sign_in_with_form(anon, "alice")) == "/dashboard/"


def test_suspension_does_not_affect_another_enterprise(alice_co, bob, admin_user):
    _suspend(alice_co, admin_user)
    client = Client()
    assert redirect_path(sign_in_with_form(client, "bob")) == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


# --- password reset -----------------------------------------------------------------------------------------


def test_password_reset_page_is_open_to_anonymous_visitors(anon):
    response = anon.get("/accounts/password-reset/")
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_password_reset_mails_a_link_that_sets_a_new_password(anon, alice):
    response = anon.post("/accounts/password-reset/", {"email": alice.email})
    assert redirect_path(response) == "/accounts/password-reset/sent/"
    assert anon.get("/accounts/password-reset/sent/").status_code == 200

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.email]
    assert "alice" in message.body

    path = link_in(message)
    done = set_password_through_link(anon, path, "Fresh-meadow-9182")
    assert done.redirect_chain[-1][0] == "/accounts/password-reset/complete/"
    assert done.status_code == 200

    # the old password no longer works, the new one does
    assert sign_in_with_form(Client(), "alice", PASSWORD).status_code == 200
    assert redirect_path(sign_in_with_form(Client(), "alice", "Fresh-meadow-9182")) == "/dashboard/"


def test_password_reset_link_works_only_once(anon, alice):
    anon.post("/accounts/password-reset/", {"email": alice.email})
    path = link_in(mail.outbox[0])
    set_password_through_link(anon, path, "Fresh-meadow-9182")

    again = Client().get(path, follow=True)
    assert again.context["validlink"] is False
    assert "/accounts/password-reset/" in again.content.decode()


def test_password_reset_link_with_a_forged_token_is_refused(anon, alice):
    anon.post("/accounts/password-reset/", {"email": alice.email})
    path = link_in(mail.outbox[0])
    uid = path.split("/")[3]
    response = Client().get(f"/accounts/password-reset/{uid}/forged-token/", follow=True)
    assert response.context["validlink"] is False


def test_password_reset_refuses_a_weak_new_password(anon, alice):
    anon.post("/accounts/password-reset/", {"email": alice.email})
    form_url = anon.get(link_in(mail.outbox[0]))["Location"]
    response = anon.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(anon, alice):
    response = anon.post("/accounts/password-reset/", {"email": "nobody@example.cn"})
    assert redirect_path(response) == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_password_reset_complete_page_offers_to_sign_in(anon):
    response = anon.get("/accounts/password-reset/complete/")
    assert response.status_code == 200
    assert f'href="{LOGIN_URL}"' in response.content.decode()


def test_resetting_the_password_ends_sessions_opened_with_the_old_one(alice):
    """Someone who knew the old password and had signed in is out once the owner resets it."""
    intruder = Client()
    sign_in_with_form(intruder, "alice")
    assert intruder.get("/dashboard/").status_code == 200
    owner = Client()
    owner.post("/accounts/password-reset/", {"email": alice.email})
    set_password_through_link(owner, link_in(mail.outbox[0]), "Fresh-meadow-9182")
    assert_redirects_to_login(intruder.get("/dashboard/"))


def test_resetting_the_password_lifts_the_lockout_as_the_lockout_page_promises(alice):
    """The lockout page offers 'reset your password'; having proved the mailbox, the person may sign in."""
    client = Client()
    for attempt in range(5):
        sign_in_with_form(client, "alice", f"wrong-{attempt}")
    assert sign_in_with_form(client, "alice").status_code == 429
    client.post("/accounts/password-reset/", {"email": alice.email})
    set_password_through_link(client, link_in(mail.outbox[0]), "Fresh-meadow-9182")
    assert redirect_path(sign_in_with_form(client, "alice", "Fresh-meadow-9182")) == "/dashboard/"


def test_resetting_one_password_does_not_lift_another_accounts_lockout(alice, bob):
    client = Client()
    for attempt in range(5):
        sign_in_with_form(client, "bob", f"wrong-{attempt}")
    client.post("/accounts/password-reset/", {"email": alice.email})
    set_password_through_link(client, link_in(mail.outbox[0]), "Fresh-meadow-9182")
    assert sign_in_with_form(client, "bob").status_code == 429
