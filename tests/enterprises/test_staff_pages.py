"""The enterprise's staff page (invite, deactivate, reactivate) and its API keys page (create, revoke).
Bob, who administers another enterprise, must be able to touch nothing of Alice's.

Test names say "key", not "API key": the usual page run deselects `-k "not api"`."""
from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from apps.accounts.models import APIKey, User
from apps.accounts.services import api_key_create, api_key_digest
from apps.enterprises.models import Membership
from tests.conftest import signed_in
from tests.factories import MembershipFactory
from tests.web import (
    assert_redirects_to_login,
    body,
    link_in,
    outbox_to,
    page_text,
    redirect_path,
    set_password_through_link,
    sign_in_with_form,
)

pytestmark = pytest.mark.django_db

STAFF = "/enterprise/staff/"
KEYS = "/enterprise/api-keys/"


def membership_of(user) -> Membership:
    return Membership.objects.get(user=user)


def deactivate_url(user) -> str:
    return f"/enterprise/staff/{membership_of(user).pk}/deactivate/"


def reactivate_url(user) -> str:
    return f"/enterprise/staff/{membership_of(user).pk}/reactivate/"


def _invite(client, capture, path=STAFF, **data):
    with capture(execute=True):
        return client.post(path, {"full_name": "", "role": "filer", **data})


# --- the staff list ------------------------------------------------------------------------------------------


def test_admin_sees_the_staff_list_and_the_invitation_form(alice, alice_filer):
    response = signed_in(alice).get(STAFF)
    assert response.status_code == 200
    listed = {m.user.username for m in response.context["page"].object_list}
    assert listed == {"alice", "alice_filer"}
    html = body(response)
    assert 'name="email"' in html
    assert deactivate_url(alice_filer) in html
    # no button to deactivate oneself
    assert deactivate_url(alice) not in html


def test_staff_list_shows_only_the_own_enterprise(alice, bob):
    listed = {m.user.username for m in signed_in(alice).get(STAFF).context["page"].object_list}
    assert "bob" not in listed
    assert "bob" not in page_text(signed_in(alice).get(STAFF))


def test_filer_sees_the_list_but_no_invitation_form_and_cannot_invite(alice, alice_filer,
                                                                     django_capture_on_commit_callbacks):
    client = signed_in(alice_filer)
    response = client.get(STAFF)
    assert response.status_code == 200
    assert {m.user.username for m in response.context["page"].object_list} == {"alice", "alice_filer"}
    html = body(response)
    assert 'name="email"' not in html
    assert "/deactivate/" not in html
    users = User.objects.count()
    refused = _invite(client, django_capture_on_commit_callbacks, email="friend@example.cn")
    assert refused.status_code == 403
    assert User.objects.count() == users
    assert mail.outbox == []


def test_filer_cannot_deactivate_anyone(alice, alice_filer):
    other = MembershipFactory(enterprise=alice_filer.membership.enterprise).user
    response = signed_in(alice_filer).post(deactivate_url(other))
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.is_active


def test_regulators_and_anonymous_visitors_have_no_staff_page(reviewer, anon):
    assert signed_in(reviewer).get(STAFF).status_code == 403
    assert_redirects_to_login(anon.get(STAFF))
    assert_redirects_to_login(anon.post(STAFF, {"email": "x@example.cn", "role": "filer"}))
    assert not User.objects.filter(email="x@example.cn").exists()


# --- invitations -----------------------------------------------------------------------------------------------


def test_invited_colleague_gets_a_link_to_choose_a_password_and_can_then_sign_in(
        alice, alice_co, django_capture_on_commit_callbacks):
    client = signed_in(alice)
    response = _invite(client, django_capture_on_commit_callbacks, email="wang.fang@example.cn",
                       full_name="王芳", role="filer")
    assert redirect_path(response) == STAFF
    colleague = User.objects.get(email="wang.fang@example.cn")
    assert not colleague.has_usable_password()
    membership = membership_of(colleague)
    assert (membership.enterprise, membership.role) == (alice_co, "filer")
    assert "wang.fang@example.cn" in page_text(client.get(STAFF))

    messages = outbox_to("wang.fang@example.cn")
    assert len(messages) == 1
    path = link_in(messages[0])

    browser = Client()
    done = set_password_through_link(browser, path, "Quiet-harbour-5521")
    assert done.redirect_chain[-1][0] == "/accounts/password-reset/complete/"
    assert redirect_path(sign_in_with_form(browser, "wang.fang@example.cn", "Quiet-harbour-5521")) == "/dashboard/"
    dashboard = browser.get("/dashboard/")
    assert dashboard.status_code == 200
    assert dashboard.context["enterprise"] == alice_co
    # a filer: no API keys
    assert browser.get(KEYS).status_code == 403


def test_invitation_link_works_only_once(alice, django_capture_on_commit_callbacks):
    _invite(signed_in(alice), django_capture_on_commit_callbacks, email="wang.fang@example.cn")
    path = link_in(mail.outbox[0])
    set_password_through_link(Client(), path, "Quiet-harbour-5521")
    assert Client().get(path, follow=True).context["validlink"] is False


def test_inviting_an_admin_colleague_gives_them_admin_pages(alice, django_capture_on_commit_callbacks):
    _invite(signed_in(alice), django_capture_on_commit_callbacks, email="li.lei@example.cn", role="admin")
    browser = Client()
    set_password_through_link(browser, link_in(mail.outbox[0]), "Quiet-harbour-5521")
    sign_in_with_form(browser, "li.lei@example.cn", "Quiet-harbour-5521")
    assert browser.get(KEYS).status_code == 200


@pytest.mark.parametrize("data,field", [
    ({"email": "not-an-address"}, "email"),
    ({"email": ""}, "email"),
    ({"email": "x@example.cn", "role": "owner"}, "role"),
    ({"email": "x@example.cn", "full_name": "<b>王</b>"}, "full_name"),
])
def test_invalid_invitations_are_refused_on_the_form(alice, django_capture_on_commit_callbacks, data, field):
    users = User.objects.count()
    response = _invite(signed_in(alice), django_capture_on_commit_callbacks, **data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert User.objects.count() == users
    assert mail.outbox == []


def test_inviting_an_address_that_already_has_an_account_is_refused(alice, bob, django_capture_on_commit_callbacks):
    response = _invite(signed_in(alice), django_capture_on_commit_callbacks, path="/en" + STAFF,
                       email=bob.email.upper())
    assert "An account with this e-mail address already exists." in response.context["form"].errors["email"]
    assert membership_of(bob).enterprise.name == "鲍勃汽车有限公司"
    assert mail.outbox == []


# --- deactivate and reactivate --------------------------------------------------------------------------------


def test_deactivated_colleague_can_no_longer_sign_in(alice, alice_filer):
    filer_session = signed_in(alice_filer)
    client = signed_in(alice)
    response = client.post(deactivate_url(alice_filer), {"confirm": "on"})
    assert redirect_path(response) == STAFF
    alice_filer.refresh_from_db()
    assert alice_filer.is_active is False
    assert sign_in_with_form(Client(), "alice_filer").status_code == 200  # the form again, with an error
    # a session that was already open ends too
    assert_redirects_to_login(filer_session.get("/dashboard/"))
    assert "alice_filer" in page_text(client.get(STAFF))


def test_reactivated_colleague_can_sign_in_again(alice, alice_filer):
    client = signed_in(alice)
    client.post(deactivate_url(alice_filer))
    response = client.post(reactivate_url(alice_filer))
    assert redirect_path(response) == STAFF
    alice_filer.refresh_from_db()
    assert alice_filer.is_active is True
    assert redirect_path(sign_in_with_form(Client(), "alice_filer")) == "/dashboard/"


def test_admin_cannot_deactivate_themselves(alice):
    client = signed_in(alice)
    response = client.post("/en" + deactivate_url(alice), follow=True)
    assert "You cannot deactivate your own account." in page_text(response)
    alice.refresh_from_db()
    assert alice.is_active


def test_deactivation_is_post_only(alice, alice_filer):
    assert signed_in(alice).get(deactivate_url(alice_filer)).status_code == 405
    alice_filer.refresh_from_db()
    assert alice_filer.is_active


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_bob_cannot_touch_alices_staff(alice_filer, bob, action):
    if action == "reactivate":
        User.objects.filter(pk=alice_filer.pk).update(is_active=False)
    url = deactivate_url(alice_filer) if action == "deactivate" else reactivate_url(alice_filer)
    response = signed_in(bob).post(url)
    assert response.status_code == 404
    alice_filer.refresh_from_db()
    assert alice_filer.is_active is (action == "deactivate")


def test_staff_actions_on_an_unknown_membership_are_404(alice):
    assert signed_in(alice).post("/enterprise/staff/999999/deactivate/").status_code == 404


def test_anonymous_and_regulators_cannot_deactivate(anon, admin_user, alice_filer):
    assert_redirects_to_login(anon.post(deactivate_url(alice_filer)))
    assert signed_in(admin_user).post(deactivate_url(alice_filer)).status_code == 403
    alice_filer.refresh_from_db()
    assert alice_filer.is_active


# --- API keys ----------------------------------------------------------------------------------------------------


def test_new_key_secret_is_shown_once(alice, alice_co):
    client = signed_in(alice)
    response = client.post(KEYS, {"name": "ERP 系统"})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert secret and secret.startswith("bt_")
    assert secret in body(response)
    key = APIKey.objects.get(enterprise=alice_co)
    assert key.name == "ERP 系统"
    assert key.digest == api_key_digest(secret)
    assert secret not in (key.digest, key.prefix)

    reload = client.get(KEYS)
    assert reload.context["new_secret"] is None
    assert secret not in body(reload)
    assert "ERP 系统" in page_text(reload)
    assert f"bt_{key.prefix}_" in body(reload)


def test_key_needs_a_plain_name(alice):
    client = signed_in(alice)
    assert client.post(KEYS, {"name": ""}).context["form"].errors["name"]
    assert client.post(KEYS, {"name": "<script>x</script>"}).context["form"].errors["name"]
    assert not APIKey.objects.exists()


def test_revoking_a_key_marks_it_revoked(alice):
    key, _secret = api_key_create(actor=alice, name="ERP")
    client = signed_in(alice)
    assert f"/enterprise/api-keys/{key.pk}/revoke/" in body(client.get(KEYS))
    response = client.post(f"/enterprise/api-keys/{key.pk}/revoke/", {"confirm": "on"})
    assert redirect_path(response) == KEYS
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by == alice
    assert f"/enterprise/api-keys/{key.pk}/revoke/" not in body(client.get(KEYS))


def test_bob_cannot_revoke_alices_key(alice, bob):
    key, _secret = api_key_create(actor=alice, name="ERP")
    response = signed_in(bob).post(f"/enterprise/api-keys/{key.pk}/revoke/")
    assert response.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_bob_does_not_see_alices_keys(alice, bob):
    api_key_create(actor=alice, name="Alice ERP")
    response = signed_in(bob).get(KEYS)
    assert list(response.context["page"].object_list) == []
    assert "Alice ERP" not in page_text(response)


def test_filer_has_no_keys_page(alice, alice_filer):
    key, _secret = api_key_create(actor=alice, name="ERP")
    client = signed_in(alice_filer)
    assert client.get(KEYS).status_code == 403
    assert client.post(KEYS, {"name": "mine"}).status_code == 403
    assert client.post(f"/enterprise/api-keys/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert APIKey.objects.count() == 1


def test_anonymous_and_regulators_have_no_keys_page(anon, reviewer, alice):
    key, _secret = api_key_create(actor=alice, name="ERP")
    assert_redirects_to_login(anon.get(KEYS))
    assert_redirects_to_login(anon.post(f"/enterprise/api-keys/{key.pk}/revoke/"))
    reviewer_client = signed_in(reviewer)
    assert reviewer_client.get(KEYS).status_code == 403
    assert reviewer_client.post(f"/enterprise/api-keys/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revoke_is_post_only(alice):
    key, _secret = api_key_create(actor=alice, name="ERP")
    assert signed_in(alice).get(f"/enterprise/api-keys/{key.pk}/revoke/").status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None


def test_invited_colleague_who_lost_the_invitation_can_get_a_new_link_by_password_reset(
        alice, django_capture_on_commit_callbacks):
    """Invitation links expire (PASSWORD_RESET_TIMEOUT) and the address cannot be invited twice, so
    'forgot your password' must work for an account that has not chosen a password yet."""
    _invite(signed_in(alice), django_capture_on_commit_callbacks, email="wang.fang@example.cn")
    mail.outbox.clear()
    browser = Client()
    browser.post("/accounts/password-reset/", {"email": "wang.fang@example.cn"})
    messages = outbox_to("wang.fang@example.cn")
    assert len(messages) == 1
    set_password_through_link(browser, link_in(messages[0]), "Quiet-harbour-5521")
    assert redirect_path(sign_in_with_form(browser, "wang.fang@example.cn", "Quiet-harbour-5521")) == "/dashboard/"


def test_password_reset_still_ignores_deactivated_colleagues(alice, alice_filer):
    signed_in(alice).post(deactivate_url(alice_filer))
    Client().post("/accounts/password-reset/", {"email": alice_filer.email})
    assert mail.outbox == []
