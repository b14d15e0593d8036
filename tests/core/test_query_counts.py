"""List pages run a fixed number of queries, however many rows they show (no N+1)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.services import api_key_create
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory, MembershipFactory

pytestmark = pytest.mark.django_db

MAX_QUERIES = 10


def queries_for(client, path) -> int:
    client.get(path)  # warm up: session and 2FA device lookups happen once per client anyway
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def _same_with_3_and_30_rows(client, path, add_rows):
    add_rows(3)
    few = queries_for(client, path)
    add_rows(27)
    many = queries_for(client, path)
    assert many == few, f"{path}: {few} queries with 3 rows but {many} with 30"
    assert many <= MAX_QUERIES, f"{path}: {many} queries"


def _in_force_licence(i: int):
    today = timezone.localdate()
    LicenceFactory(enterprise=EnterpriseFactory(roles=["recycler"], province=["44", "35", "31"][i % 3]),
                   valid_from=today - timedelta(days=1), valid_to=today + timedelta(days=100))


def test_review_list_queries_do_not_grow_with_rows(reviewer):
    def add(n):
        for i in range(n):
            e = EnterpriseFactory(roles=["battery_maker", "recycler"], status=["pending", "active"][i % 2])
            MembershipFactory(enterprise=e)

    _same_with_3_and_30_rows(signed_in(reviewer), "/review/enterprises/", add)


def test_public_recycler_list_queries_do_not_grow_with_rows(anon):
    _same_with_3_and_30_rows(anon, "/recyclers/", lambda n: [_in_force_licence(i) for i in range(n)])


def test_staff_list_queries_do_not_grow_with_rows(alice, alice_co):
    _same_with_3_and_30_rows(signed_in(alice), "/enterprise/staff/",
                             lambda n: MembershipFactory.create_batch(n, enterprise=alice_co))


def test_licence_register_queries_do_not_grow_with_rows(admin_user):
    _same_with_3_and_30_rows(signed_in(admin_user), "/licences/", lambda n: [_in_force_licence(i) for i in range(n)])


def test_key_list_queries_do_not_grow_with_rows(alice):
    _same_with_3_and_30_rows(signed_in(alice), "/enterprise/api-keys/",
                             lambda n: [api_key_create(actor=alice, name=f"key {i}") for i in range(n)])


def test_enterprise_detail_queries_do_not_grow_with_its_staff(reviewer, alice_co):
    _same_with_3_and_30_rows(signed_in(reviewer), f"/review/enterprises/{alice_co.pk}/",
                             lambda n: MembershipFactory.create_batch(n, enterprise=alice_co))


def test_regulator_dashboard_queries_do_not_grow_with_rows(admin_user):
    def add(n):
        EnterpriseFactory.create_batch(n, status="pending")
        for i in range(n):
            _in_force_licence(i)

    _same_with_3_and_30_rows(signed_in(admin_user), "/dashboard/", add)
