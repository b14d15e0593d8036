"""Idempotency-Key on every POST of the API: a retry replays the first answer and writes nothing; the same key with
another request is refused; concurrent duplicates produce one battery; server errors are not stored."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from apps.batteries import services
from apps.batteries.models import Battery, BatteryEvent
from apps.core.api_views import IdempotentAPIView
from apps.core.idempotency import RETENTION
from apps.core.models import IdempotencyRecord
from apps.core.tasks import purge_idempotency_records
from apps.enterprises.models import Membership
from tests.api_helpers import API, assert_error, key_client, make_key
from tests.batteries.conftest import make_code, maker, maker_co, rival_maker  # noqa: F401 (battery personas)

KEY = "HTTP_IDEMPOTENCY_KEY"


def register(client, code: str, key: str | None = "k-1", **body):
    extra = {KEY: key} if key is not None else {}
    return client.post(f"{API}/batteries/", {"code": code, **body}, format="json", **extra)


@pytest.mark.django_db
def test_a_retried_registration_replays_the_answer_and_registers_once(api_for, maker):
    client = api_for(maker)
    code = make_code()
    first = register(client, code, capacity_kwh="75.5")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first

    with CaptureQueriesContext(connection) as ctx:
        again = register(client, code, capacity_kwh="75.5")
    assert (again.status_code, again.json(), again.content) == (201, first.json(), first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert Battery.objects.filter(code=code).count() == 1
    assert BatteryEvent.objects.filter(battery__code=code).count() == 1
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


@pytest.mark.django_db
def test_a_retry_is_recognised_whatever_the_key_order_of_the_json(api_for, maker):
    client = api_for(maker)
    code = make_code()
    first = client.post(f"{API}/batteries/", f'{{"code": "{code}", "weight_kg": "420"}}',
                        content_type="application/json", **{KEY: "order"})
    again = client.post(f"{API}/batteries/", f'{{"weight_kg":"420","code":"{code}"}}',
                        content_type="application/json", **{KEY: "order"})
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")


@pytest.mark.django_db
def test_the_same_key_with_another_request_is_refused(api_for, maker):
    client = api_for(maker)
    first_code, other_code = make_code(), make_code()
    register(client, first_code)
    body = assert_error(register(client, other_code), 422, "idempotency_key_reused", field="Idempotency-Key")
    assert "/api/v1/batteries/" in body["message"]
    assert not Battery.objects.filter(code=other_code).exists()
    # Another path with the same body is another request too.
    battery_code = first_code
    assert_error(client.post(f"{API}/batteries/{battery_code}/declare-waste/", {"code": first_code}, format="json",
                             **{KEY: "k-1"}), 422, "idempotency_key_reused")
    assert Battery.objects.get(code=first_code).is_waste is False


@pytest.mark.django_db
def test_a_refusal_is_stored_and_replayed_even_after_the_world_changed(api_for, maker, rival_maker):
    client = api_for(maker)
    code = make_code("1KC")
    first = register(client, code)
    assert_error(first, 403, "manufacturer_code_not_yours")
    # The rival registers the code meanwhile; the retry still gets the first answer, not a new one.
    services.battery_register(actor=rival_maker, code=code)
    again = register(client, code)
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (403, first.json(), "true")


@pytest.mark.django_db
def test_keys_belong_to_their_user(api_for, maker, rival_maker):
    assert register(api_for(maker), make_code(), key="shared").status_code == 201
    assert register(api_for(rival_maker), make_code("1KC"), key="shared").status_code == 201
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


@pytest.mark.django_db
def test_an_api_key_and_a_session_of_the_same_person_share_their_keys(api_for, maker):
    _row, secret = make_key(maker)
    code = make_code()
    first = register(key_client(secret), code, key="erp-1")
    again = register(api_for(maker), code, key="erp-1")
    assert (again.json(), again["Idempotent-Replayed"]) == (first.json(), "true")
    assert Battery.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_nothing_is_stored(api_for, maker):
    client = api_for(maker)
    code = make_code()
    assert register(client, code, key=None).status_code == 201
    assert_error(register(client, code, key=None), 409, "battery_already_registered")
    assert client.get(f"{API}/batteries/", **{KEY: "g"}).status_code == 200
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "日本", "tab\there"])
def test_a_malformed_key_is_refused(api_for, maker, key):
    assert_error(register(api_for(maker), make_code(), key=key), 400, "idempotency_key_invalid",
                 field="Idempotency-Key")
    assert not Battery.objects.exists()


@pytest.mark.django_db
def test_a_key_of_255_characters_is_fine(api_for, maker):
    assert register(api_for(maker), make_code(), key="k" * 255).status_code == 201


@pytest.mark.django_db
def test_a_server_error_is_not_stored_and_the_retry_runs(api_for, maker, monkeypatch):
    client = api_for(maker)
    client.raise_request_exception = False
    code = make_code()
    real = services.battery_register

    def broken(**kwargs):
        real(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "battery_register", broken)
    assert register(client, code).status_code == 500
    assert not Battery.objects.exists() and not IdempotencyRecord.objects.exists()

    monkeypatch.setattr(services, "battery_register", real)
    retry = register(client, code)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert Battery.objects.count() == 1


@pytest.mark.django_db
def test_a_bulk_file_retry_is_recognised_by_its_content(api_for, maker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api_for(maker)
    body = f"code\n{make_code()}\n".encode()

    def upload(name):
        return client.post(f"{API}/imports/", {"kind": "register", "file": SimpleUploadedFile(name, body)},
                           format="multipart", **{KEY: "file-1"})

    first = upload("a.csv")
    again = upload("a.csv")  # a new multipart boundary, the same fields and bytes
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (202, 202, "true")
    assert again.json() == first.json()
    assert_error(upload("b.csv"), 422, "idempotency_key_reused")


@pytest.mark.django_db
def test_enterprise_endpoints_honour_the_key_too(api_for, alice, alice_co):
    client = api_for(alice)
    payload = {"email": "carol@example.cn", "role": "filer"}
    with_key = {KEY: "invite-carol"}
    first = client.post(f"{API}/enterprise/staff/", payload, format="json", **with_key)
    again = client.post(f"{API}/enterprise/staff/", payload, format="json", **with_key)
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert Membership.objects.filter(enterprise=alice_co, user__email="carol@example.cn").count() == 1


@pytest.mark.django_db
def test_a_new_api_key_secret_is_never_stored(api_for, alice):
    client = api_for(alice)
    first = client.post(f"{API}/enterprise/api-keys/", {"name": "ERP"}, format="json", **{KEY: "mint"})
    assert first.status_code == 201
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_anonymous_posts_ignore_the_key(db):
    response = APIClient().post(f"{API}/registrations/", {}, **{KEY: "anon"})
    assert response.status_code == 400
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_records_older_than_a_day_are_purged_and_the_key_is_free_again(api_for, maker):
    client = api_for(maker)
    old_code, new_code = make_code(), make_code()
    register(client, old_code, key="old")
    register(client, new_code, key="new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - RETENTION - dt.timedelta(minutes=1))

    # Before the purge runs, an expired key already counts as unused.
    reused = register(client, make_code(), key="old")
    assert reused.status_code == 201 and "Idempotent-Replayed" not in reused
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - RETENTION - dt.timedelta(minutes=1))

    assert purge_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def _api_views(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and (prefix + str(entry.pattern)).startswith("api/v1/"):
            yield prefix + str(entry.pattern), getattr(entry.callback, "view_class", None)


def test_every_api_view_honours_the_key():
    views = list(_api_views())
    assert len(views) > 30
    documentation = {"api/v1/schema/", "api/v1/docs/", "api/v1/redoc/"}  # drf-spectacular's, GET only
    strays = [path for path, view in views if path not in documentation
              and not (view and issubclass(view, IdempotentAPIView))]
    assert strays == []


# --- concurrency: real threads, real transactions -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_retries_register_one_battery(maker):
    code = make_code()
    barrier = threading.Barrier(2)
    answers: list = []

    def attempt():
        client = APIClient()
        client.force_login(maker, backend="django.contrib.auth.backends.ModelBackend")
        barrier.wait()
        try:
            answers.append(register(client, code, key="race"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(r.status_code for r in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in answers) == ["", "true"]
    assert Battery.objects.filter(code=code).count() == 1
    assert BatteryEvent.objects.filter(battery__code=code).count() == 1
    assert IdempotencyRecord.objects.get(key="race").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_invitation_mail_is_sent_once_for_a_retried_invite(alice):
    client = APIClient()
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    for _ in range(2):
        client.post(f"{API}/enterprise/staff/", {"email": "dave@example.cn"}, format="json", **{KEY: "invite-dave"})
    assert len(mail.outbox) == 1
