"""Staff of an enterprise over the API: invite, list, deactivate and reactivate; never across enterprises."""
from __future__ import annotations

import re
import threading

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection
from django.db.utils import DataError
from django.test.utils import CaptureQueriesContext
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.enterprises.models import Membership
from tests.api_helpers import API, assert_error, results
from tests.factories import MembershipFactory

STAFF = f"{API}/enterprise/staff/"


def deactivate_url(membership) -> str:
    return f"{STAFF}{getattr(membership, 'pk', membership)}/deactivate/"


def reactivate_url(membership) -> str:
    return f"{STAFF}{getattr(membership, 'pk', membership)}/reactivate/"


def counts() -> tuple[int, int]:
    return User.objects.count(), Membership.objects.count()


# --- invitations ------------------------------------------------------------------------------------------------


def test_enterprise_admin_invites_a_colleague_who_gets_an_account_without_password_and_an_email(
    api_for, alice, alice_co, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(alice).post(STAFF, {"email": "Carol@Example.cn", "full_name": "陈卡罗", "role": "filer"},
                                       format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["full_name"], body["role"], body["is_active"]) == (
        "Carol@Example.cn", "陈卡罗", "filer", True)
    user = User.objects.get(email="Carol@Example.cn")
    assert user.kind == User.Kind.COMPANY
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert membership.pk == body["id"]
    assert (membership.enterprise, membership.role, membership.created_by) == (alice_co, "filer", alice)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Carol@Example.cn"]
    assert alice_co.name in message.body
    # The link lets exactly this person choose a password.
    link = re.search(r"https?://\S+?/password-reset/([^/\s]+)/([^/\s]+)/", message.body)
    assert link, message.body
    uid, token = link.group(1), link.group(2)
    assert int(force_str(urlsafe_base64_decode(uid))) == user.pk
    assert default_token_generator.check_token(user, token)


def test_invitation_email_is_sent_only_after_the_transaction_commits(api_for, alice,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_for(alice).post(STAFF, {"email": "carol@example.cn"}, format="json")

    assert response.status_code == 201
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_invited_colleague_is_a_filer_by_default_and_may_be_invited_as_admin(api_for, alice):
    client = api_for(alice)
    assert client.post(STAFF, {"email": "f@example.cn"}, format="json").json()["role"] == "filer"
    assert client.post(STAFF, {"email": "a@example.cn", "role": "admin"}, format="json").json()["role"] == "admin"
    assert Membership.objects.get(user__email="a@example.cn").role == Membership.Role.ADMIN


@pytest.mark.parametrize("email", ["alice@example.cn", "ALICE@EXAMPLE.CN", "bob@example.cn"])
def test_inviting_an_existing_email_is_refused_user_already_exists(api_for, alice, bob, email,
                                                                   django_capture_on_commit_callbacks):
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(alice).post(STAFF, {"email": email}, format="json")

    assert_error(response, 400, "user_already_exists", field="email")
    assert counts() == before
    assert mail.outbox == []


def test_inviting_with_an_invalid_email_is_refused(api_for, alice):
    before = counts()
    assert_error(api_for(alice).post(STAFF, {"email": "not-an-email"}, format="json"), 400, "invalid", field="email")
    assert_error(api_for(alice).post(STAFF, {}, format="json"), 400, "required", field="email")
    assert counts() == before


def test_inviting_with_markup_in_the_name_is_refused(api_for, alice):
    before = counts()
    response = api_for(alice).post(STAFF, {"email": "c@example.cn", "full_name": "<script>x</script>"}, format="json")
    assert_error(response, 400, "markup_not_allowed", field="full_name")
    assert counts() == before


def test_inviting_with_an_unknown_role_is_refused(api_for, alice):
    before = counts()
    response = api_for(alice).post(STAFF, {"email": "c@example.cn", "role": "owner"}, format="json")
    assert_error(response, 400, "invalid_choice", field="role")
    assert counts() == before


def _long_email(length: int) -> str:
    local, labels = "x" * 60, []
    while len(local) + 1 + len(".".join([*labels, "cn"])) < length:
        labels.append("a" * 60)
    return local + "@" + ".".join([*labels, "cn"])


def test_email_too_long_for_a_user_name_is_refused_not_a_server_error(api_for, alice):
    email = _long_email(185)  # a valid address, longer than the 150 characters of a user name
    before = counts()
    assert_error(api_for(alice).post(STAFF, {"email": email}, format="json"), 400, "max_length", field="email")
    assert counts() == before


def test_staff_invite_service_refuses_an_email_too_long_for_a_user_name(alice):
    with pytest.raises(DomainError) as exc:
        account_services.staff_invite(actor=alice, email=_long_email(185))
    assert exc.value.field == "email"


def test_filer_cannot_invite(api_for, alice_filer):
    before = counts()
    assert_error(api_for(alice_filer).post(STAFF, {"email": "c@example.cn"}, format="json"), 403, "permission_denied")
    assert counts() == before


@pytest.mark.parametrize("persona", ["reviewer", "admin_user"])
def test_regulators_cannot_use_staff_endpoints(request, api_for, alice_filer, persona):
    client = api_for(request.getfixturevalue(persona))
    membership = Membership.objects.get(user=alice_filer)

    assert_error(client.get(STAFF), 403, "permission_denied")
    assert_error(client.post(STAFF, {"email": "c@example.cn"}, format="json"), 403, "permission_denied")
    assert_error(client.post(deactivate_url(membership)), 403, "permission_denied")
    alice_filer.refresh_from_db()
    assert alice_filer.is_active


def test_colleague_invited_by_an_outsider_joins_the_outsiders_enterprise(api_for, alice, bob, bob_co):
    api_for(bob).post(STAFF, {"email": "dave@example.cn"}, format="json")

    assert Membership.objects.get(user__email="dave@example.cn").enterprise == bob_co
    assert "dave@example.cn" not in {row["email"] for row in results(api_for(alice).get(STAFF))}


# --- listing ----------------------------------------------------------------------------------------------------


def test_staff_list_contains_only_own_staff(api_for, alice, alice_filer, bob):
    MembershipFactory(user__username="bob_filer", enterprise=Membership.objects.get(user=bob).enterprise)

    alices = results(api_for(alice).get(STAFF))
    bobs = results(api_for(bob).get(STAFF))

    assert sorted(row["username"] for row in alices) == ["alice", "alice_filer"]
    assert sorted(row["username"] for row in bobs) == ["bob", "bob_filer"]
    row = next(r for r in alices if r["username"] == "alice_filer")
    assert set(row) == {"id", "username", "email", "full_name", "role", "is_active", "last_login"}
    assert row["role"] == "filer"
    assert "password" not in api_for(alice).get(STAFF).content.decode()


def test_filer_may_list_staff(api_for, alice, alice_filer):
    assert sorted(r["username"] for r in results(api_for(alice_filer).get(STAFF))) == ["alice", "alice_filer"]


def test_staff_list_pages_with_a_cursor(api_for, alice, alice_co):
    for _ in range(4):
        MembershipFactory(enterprise=alice_co)
    client = api_for(alice)

    first = client.get(STAFF, {"page_size": 3}).json()
    assert len(first["results"]) == 3 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 5


def test_listing_staff_uses_a_constant_number_of_queries(api_for, alice, alice_co):
    client = api_for(alice)
    MembershipFactory(enterprise=alice_co)
    client.get(STAFF)
    with CaptureQueriesContext(connection) as two:
        assert len(results(client.get(STAFF))) == 2

    for _ in range(18):
        MembershipFactory(enterprise=alice_co)
    with CaptureQueriesContext(connection) as twenty:
        assert len(results(client.get(STAFF))) == 20

    assert len(twenty) == len(two)


# --- deactivate / reactivate ------------------------------------------------------------------------------------


def test_admin_deactivates_and_reactivates_a_colleague(api_for, alice, alice_filer):
    membership = Membership.objects.get(user=alice_filer)
    filer_client = api_for(alice_filer)
    assert filer_client.get(f"{API}/enterprise/").status_code == 200

    response = api_for(alice).post(deactivate_url(membership))

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    alice_filer.refresh_from_db()
    assert not alice_filer.is_active
    # The colleague's open session no longer works.
    assert filer_client.get(f"{API}/enterprise/").status_code in (401, 403)

    response = api_for(alice).post(reactivate_url(membership))

    assert response.status_code == 200
    assert response.json()["is_active"] is True
    alice_filer.refresh_from_db()
    assert alice_filer.is_active


def test_deactivating_twice_is_harmless(api_for, alice, alice_filer):
    membership = Membership.objects.get(user=alice_filer)
    client = api_for(alice)
    assert client.post(deactivate_url(membership)).status_code == 200
    assert client.post(deactivate_url(membership)).status_code == 200
    alice_filer.refresh_from_db()
    assert not alice_filer.is_active


def test_admin_cannot_deactivate_self(api_for, alice, alice_co):
    MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN)  # another admin: only the self rule applies
    membership = Membership.objects.get(user=alice)

    assert_error(api_for(alice).post(deactivate_url(membership)), 400, "cannot_deactivate_self")
    alice.refresh_from_db()
    assert alice.is_active


def test_admin_may_deactivate_another_admin_while_remaining_one(api_for, alice, alice_co):
    carol = MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN)

    assert api_for(alice).post(deactivate_url(carol)).status_code == 200

    assert list(Membership.objects.filter(enterprise=alice_co, role="admin", user__is_active=True)
                .values_list("user__username", flat=True)) == ["alice"]


def test_last_active_admin_cannot_be_deactivated(alice, alice_co):
    """The rule itself: an enterprise keeps one active administrator. Through the API the actor is always
    another active admin, so check the service with the actor's account deactivated behind its back."""
    carol = MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN)
    actor = User.objects.get(pk=alice.pk)
    actor.membership  # the actor's view of itself, loaded before it was deactivated elsewhere
    User.objects.filter(pk=alice.pk).update(is_active=False)

    with pytest.raises(DomainError) as exc:
        account_services.staff_deactivate(actor=actor, membership_id=carol.pk)

    assert exc.value.code == "last_enterprise_admin"
    carol.user.refresh_from_db()
    assert carol.user.is_active


def test_filer_cannot_deactivate_colleagues(api_for, alice, alice_filer):
    membership = Membership.objects.get(user=alice)
    assert_error(api_for(alice_filer).post(deactivate_url(membership)), 403, "permission_denied")
    alice.refresh_from_db()
    assert alice.is_active


def test_outsider_cannot_deactivate_another_enterprises_staff_404(api_for, alice_filer, bob):
    membership = Membership.objects.get(user=alice_filer)

    assert_error(api_for(bob).post(deactivate_url(membership)), 404, "not_found")
    alice_filer.refresh_from_db()
    assert alice_filer.is_active


def test_outsider_cannot_reactivate_another_enterprises_staff_404(api_for, alice, alice_filer, bob):
    membership = Membership.objects.get(user=alice_filer)
    api_for(alice).post(deactivate_url(membership))

    assert_error(api_for(bob).post(reactivate_url(membership)), 404, "not_found")
    alice_filer.refresh_from_db()
    assert not alice_filer.is_active


def test_unknown_membership_is_404(api_for, alice):
    assert_error(api_for(alice).post(deactivate_url(10**9)), 404, "not_found")


# --- concurrency ------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_admins_deactivating_each_other_at_once_leave_one_active_admin(alice, alice_co, monkeypatch):
    carol = MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN, user__username="carol")
    alice_membership = Membership.objects.get(user=alice)
    barrier = threading.Barrier(2, timeout=3)
    original_save = User.save

    def save_after_both_checked(self, *args, **kwargs):
        if kwargs.get("update_fields") == ["is_active"]:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # the other one is blocked on a lock: that is what a correct service does
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(User, "save", save_after_both_checked)
    outcomes: dict[str, str] = {}

    def run(actor_pk: int, target_pk: int, label: str):
        from django.db import connection as thread_connection

        try:
            actor = User.objects.get(pk=actor_pk)
            account_services.staff_deactivate(actor=actor, membership_id=target_pk)
            outcomes[label] = "deactivated"
        except DomainError as exc:
            outcomes[label] = exc.code
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(alice.pk, carol.pk, "alice->carol")),
               threading.Thread(target=run, args=(carol.user.pk, alice_membership.pk, "carol->alice"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(outcomes) == 2, outcomes
    assert Membership.objects.filter(enterprise=alice_co, role="admin", user__is_active=True).count() >= 1, outcomes
