"""API keys: created once by a signed-in enterprise administrator, stored as a digest, used as
`Authorization: Api-Key <secret>`, refused when revoked, unknown, suspended or orphaned."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts import services as account_services
from apps.accounts.models import APIKey
from apps.enterprises.models import Enterprise, Membership
from apps.enterprises.services import enterprise_suspend
from tests.api_helpers import API, assert_error, key_client, make_key, results
from tests.factories import MembershipFactory

KEYS = f"{API}/enterprise/api-keys/"


def revoke_url(pk) -> str:
    return f"{KEYS}{pk}/revoke/"


# --- creation and storage -------------------------------------------------------------------------------------


def test_enterprise_admin_creates_a_key_over_the_session_and_gets_the_secret_once(api_for, alice, alice_co):
    response = api_for(alice).post(KEYS, {"name": "ERP 接口"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["key"]
    assert body["name"] == "ERP 接口"
    assert body["created_by"] == "alice"
    assert body["revoked_at"] is None
    assert secret.startswith(f"bt_{body['prefix']}_")
    assert len(secret) > 40  # 256 random bits after the prefix
    key = APIKey.objects.get(pk=body["id"])
    assert key.enterprise == alice_co
    assert key.created_by == alice

    listed = results(api_for(alice).get(KEYS))
    assert [row["id"] for row in listed] == [body["id"]]
    assert "key" not in listed[0]
    assert "digest" not in listed[0]
    assert secret not in api_for(alice).get(KEYS).content.decode()


def test_key_is_stored_only_as_a_sha256_digest_and_its_prefix(api_for, alice):
    body = api_for(alice).post(KEYS, {"name": "ERP"}, format="json").json()
    secret = body["key"]

    key = APIKey.objects.get(pk=body["id"])
    assert key.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert key.prefix == body["prefix"]
    assert len(key.prefix) == 8
    assert secret not in key.digest

    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM accounts_apikey AS t")
        rows = [r[0] for r in cursor.fetchall()]
    assert len(rows) == 1
    assert secret not in rows[0]
    random_part = secret.split("_", 2)[2]  # bt_<prefix>_<random>; the random part may itself contain "_"
    assert random_part not in rows[0]


def test_secret_appears_in_no_table_of_the_database(api_for, alice):
    secret = api_for(alice).post(KEYS, {"name": "ERP"}, format="json").json()["key"]
    random_part = secret.split("_", 2)[2]  # bt_<prefix>_<random>; the random part may itself contain "_"

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [r[0] for r in cursor.fetchall()]
        hits = []
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}" AS t WHERE strpos(t::text, %s) > 0', [random_part])
            if cursor.fetchone()[0]:
                hits.append(table)
    assert "accounts_apikey" in tables
    assert hits == []


def test_key_name_with_markup_is_refused(api_for, alice):
    response = api_for(alice).post(KEYS, {"name": "<b>ERP</b>"}, format="json")
    assert_error(response, 400, "markup_not_allowed", field="name")
    assert not APIKey.objects.exists()


def test_key_without_a_name_is_refused(api_for, alice):
    assert_error(api_for(alice).post(KEYS, {"name": "  "}, format="json"), 400, "blank", field="name")
    assert_error(api_for(alice).post(KEYS, {}, format="json"), 400, "required", field="name")
    assert not APIKey.objects.exists()


def test_creating_a_key_over_the_session_needs_the_csrf_token(alice):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")

    response = client.post(KEYS, {"name": "ERP"}, format="json")

    assert_error(response, 403, "permission_denied")
    assert "CSRF" in response.json()["message"]
    assert not APIKey.objects.exists()


def test_a_call_with_an_api_key_needs_no_csrf_token(alice):
    from rest_framework.test import APIClient

    _, secret = make_key(alice)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    # A write that an API key may make is refused for what it is, not for a missing CSRF token.
    response = client.post(KEYS, {"name": "x"}, format="json")
    assert "CSRF" not in response.json()["message"]


# --- using a key ------------------------------------------------------------------------------------------------


def test_api_key_authenticates_and_reads_the_keys_own_enterprise(alice, alice_co, bob):
    _, secret = make_key(alice)

    response = key_client(secret).get(f"{API}/enterprise/")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == alice_co.pk
    assert response.json()["uscc"] == alice_co.uscc


def test_api_key_reads_the_enterprise_it_was_issued_to_even_if_its_creator_moved(alice, alice_co, bob_co):
    _, secret = make_key(alice)
    Membership.objects.filter(user=alice).update(enterprise=bob_co)

    response = key_client(secret).get(f"{API}/enterprise/")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == alice_co.pk


def test_using_a_key_records_last_used_at(alice):
    key, secret = make_key(alice)
    assert key.last_used_at is None
    before = timezone.now()

    assert key_client(secret).get(f"{API}/enterprise/").status_code == 200

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert before <= key.last_used_at <= timezone.now()


def test_last_used_at_is_written_at_most_once_a_minute(alice):
    key, secret = make_key(alice)
    client = key_client(secret)
    client.get(f"{API}/enterprise/")
    key.refresh_from_db()
    first = key.last_used_at

    client.get(f"{API}/enterprise/")
    key.refresh_from_db()
    assert key.last_used_at == first

    APIKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=5))
    client.get(f"{API}/enterprise/")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_revoked_key_is_refused_401_api_key_revoked(api_for, alice):
    key, secret = make_key(alice)
    assert api_for(alice).post(revoke_url(key.pk)).status_code == 200

    response = key_client(secret).get(f"{API}/enterprise/")

    assert_error(response, 401, "api_key_revoked", field=None)


def test_unknown_key_is_refused_401_api_key_invalid(alice):
    key, secret = make_key(alice)

    for wrong in (secret + "x", secret[:-1], "bt_00000000_nothing", ""):
        response = key_client(wrong).get(f"{API}/enterprise/")
        assert_error(response, 401, "api_key_invalid", field=None)
        assert response["WWW-Authenticate"] == "Api-Key"


def test_key_of_a_suspended_enterprise_is_refused_403_with_the_reason(alice, alice_co, reviewer):
    _, secret = make_key(alice)
    enterprise_suspend(actor=reviewer, enterprise=alice_co, reason="未按期报送回收数据")

    body = assert_error(key_client(secret).get(f"{API}/enterprise/"), 403, "enterprise_suspended", field=None)
    assert "未按期报送回收数据" in body["message"]


def test_key_of_an_enterprise_that_is_not_active_is_refused(alice, alice_co):
    _, secret = make_key(alice)
    Enterprise.objects.filter(pk=alice_co.pk).update(status=Enterprise.Status.RETURNED)

    assert_error(key_client(secret).get(f"{API}/enterprise/"), 403, "enterprise_not_active")


def test_key_whose_creator_was_deactivated_is_refused(api_for, alice, alice_co):
    carol = MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN, user__username="carol")
    _, secret = make_key(carol.user)
    assert key_client(secret).get(f"{API}/enterprise/").status_code == 200

    assert api_for(alice).post(f"{API}/enterprise/staff/{carol.pk}/deactivate/").status_code == 200

    response = key_client(secret).get(f"{API}/enterprise/")
    assert_error(response, 401, "api_key_owner_inactive")


def test_key_works_again_when_its_creator_is_reactivated(api_for, alice, alice_co):
    carol = MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN, user__username="carol")
    _, secret = make_key(carol.user)
    api_for(alice).post(f"{API}/enterprise/staff/{carol.pk}/deactivate/")
    api_for(alice).post(f"{API}/enterprise/staff/{carol.pk}/reactivate/")

    assert key_client(secret).get(f"{API}/enterprise/").status_code == 200


def test_bearer_or_basic_authorization_is_not_taken_for_an_api_key(alice):
    _, secret = make_key(alice)
    client = key_client(secret)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.get(f"{API}/enterprise/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- what a key may not do --------------------------------------------------------------------------------------


def test_api_key_cannot_create_api_keys(alice):
    _, secret = make_key(alice)

    response = key_client(secret).post(KEYS, {"name": "successor"}, format="json")

    assert_error(response, 403, "permission_denied")
    assert APIKey.objects.count() == 1


def test_api_key_cannot_revoke_api_keys(alice):
    other, _ = make_key(alice, "other")
    _, secret = make_key(alice)

    response = key_client(secret).post(revoke_url(other.pk))

    assert_error(response, 403, "permission_denied")
    other.refresh_from_db()
    assert other.revoked_at is None


def test_api_key_cannot_invite_staff(alice):
    _, secret = make_key(alice)

    response = key_client(secret).post(f"{API}/enterprise/staff/", {"email": "mallory@example.cn", "role": "admin"},
                                       format="json")

    assert_error(response, 403, "permission_denied")
    assert not Membership.objects.filter(user__email="mallory@example.cn").exists()


def test_api_key_cannot_deactivate_staff(alice, alice_filer):
    _, secret = make_key(alice)
    membership = Membership.objects.get(user=alice_filer)

    response = key_client(secret).post(f"{API}/enterprise/staff/{membership.pk}/deactivate/")

    assert_error(response, 403, "permission_denied")
    alice_filer.refresh_from_db()
    assert alice_filer.is_active


def test_api_key_may_list_staff_and_keys_of_its_enterprise(alice, alice_filer, bob):
    key, secret = make_key(alice)
    make_key(bob)
    client = key_client(secret)

    staff = results(client.get(f"{API}/enterprise/staff/"))
    assert {row["username"] for row in staff} == {"alice", "alice_filer"}
    keys = results(client.get(KEYS))
    assert [row["id"] for row in keys] == [key.pk]


# --- who may manage keys ----------------------------------------------------------------------------------------


def test_filer_cannot_create_keys_but_can_read_own_enterprise(api_for, alice_filer, alice_co):
    client = api_for(alice_filer)

    assert_error(client.post(KEYS, {"name": "ERP"}, format="json"), 403, "permission_denied")
    assert not APIKey.objects.exists()

    response = client.get(f"{API}/enterprise/")
    assert response.status_code == 200
    assert response.json()["id"] == alice_co.pk


def test_filer_cannot_revoke_or_list_keys(api_for, alice, alice_filer):
    key, _ = make_key(alice)
    client = api_for(alice_filer)

    assert_error(client.post(revoke_url(key.pk)), 403, "permission_denied")
    key.refresh_from_db()
    assert key.revoked_at is None
    assert_error(client.get(KEYS), 403, "permission_denied")


@pytest.mark.parametrize("persona", ["reviewer", "admin_user"])
def test_regulators_cannot_create_or_list_keys(request, api_for, persona):
    client = api_for(request.getfixturevalue(persona))

    assert_error(client.post(KEYS, {"name": "ERP"}, format="json"), 403, "permission_denied")
    assert_error(client.get(KEYS), 403, "permission_denied")
    assert not APIKey.objects.exists()


def test_admin_revokes_own_enterprises_key(api_for, alice):
    key, _ = make_key(alice)

    response = api_for(alice).post(revoke_url(key.pk))

    assert response.status_code == 200, response.content
    assert response.json()["revoked_at"] is not None
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by == alice


def test_revoking_twice_keeps_the_first_revocation(api_for, alice, alice_co):
    key, _ = make_key(alice)
    carol = MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN, user__username="carol").user
    api_for(alice).post(revoke_url(key.pk))
    key.refresh_from_db()
    first = key.revoked_at

    response = api_for(carol).post(revoke_url(key.pk))

    assert response.status_code == 200
    key.refresh_from_db()
    assert (key.revoked_at, key.revoked_by) == (first, alice)


# --- tenant isolation -------------------------------------------------------------------------------------------


def test_outsider_cannot_revoke_another_enterprises_key_404(api_for, alice, bob):
    key, secret = make_key(alice)

    response = api_for(bob).post(revoke_url(key.pk))

    assert_error(response, 404, "not_found")
    key.refresh_from_db()
    assert key.revoked_at is None
    assert key_client(secret).get(f"{API}/enterprise/").status_code == 200


def test_revoking_a_key_that_does_not_exist_looks_the_same_as_an_outsiders_404(api_for, alice, bob):
    key, _ = make_key(alice)
    missing = api_for(bob).post(revoke_url(key.pk + 1000)).json()
    foreign = api_for(bob).post(revoke_url(key.pk)).json()
    assert missing == foreign


def test_outsider_lists_only_own_keys(api_for, alice, bob):
    make_key(alice, "alice-1")
    make_key(alice, "alice-2")
    bobs, _ = make_key(bob, "bob-1")

    rows = results(api_for(bob).get(KEYS))

    assert [(row["id"], row["name"]) for row in rows] == [(bobs.pk, "bob-1")]


# --- query counts -----------------------------------------------------------------------------------------------


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_listing_keys_uses_a_constant_number_of_queries(api_for, alice, alice_co):
    client = api_for(alice)
    creators = [MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN).user for _ in range(20)]
    for user in creators[:2]:
        make_key(user)
    client.get(KEYS)  # warm whatever is cached per process (content types, permissions)
    two = _queries_for(client, KEYS)

    for user in creators[2:]:
        make_key(user)
    twenty = _queries_for(client, KEYS)

    assert len(results(client.get(KEYS))) == 20
    assert twenty == two


def test_listing_keys_with_a_key_uses_a_constant_number_of_queries(alice, alice_co):
    creators = [MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN).user for _ in range(20)]
    _, secret = make_key(alice)
    client = key_client(secret)
    make_key(creators[0])
    client.get(KEYS)
    two = _queries_for(client, KEYS)

    for user in creators[1:19]:
        make_key(user)
    twenty = _queries_for(client, KEYS)

    assert len(results(client.get(KEYS))) == 20
    assert twenty == two


def test_api_key_service_secret_matches_what_the_authenticator_hashes():
    assert account_services.api_key_digest("bt_x_y") == hashlib.sha256(b"bt_x_y").hexdigest()
