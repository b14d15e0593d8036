"""Who sees which discrepancy, on the pages and over /api/v1/: an enterprise its own, a reviewer those of the
provinces they review; another enterprise's discrepancy is invisible (404 for one, absent from lists)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.reconciliation.models import Discrepancy
from tests.api_helpers import API, assert_error
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def discrepancy(enterprise, *, kind="gone_dark", figure="no_event", found=3, severity="medium", status="open",
                **extra) -> Discrepancy:
    now = timezone.now()
    return Discrepancy.objects.create(enterprise=enterprise, kind=kind, figure=figure, expected=0, found=found,
                                      severity=severity, status=status, codes=["0PAPE01ABCDEFG6AF0000001"],
                                      code_count=found, first_seen=now, last_seen=now, **extra)


@pytest.fixture
def alices(alice_co):
    """Alice's enterprise (Fujian, 35) has two open discrepancies and a resolved one."""
    return [discrepancy(alice_co),
            discrepancy(alice_co, kind="reported_vs_ledger", figure="produced", period=dt.date(2026, 9, 1),
                        severity="high"),
            discrepancy(alice_co, kind="handover_not_received", figure="in_transit", status="resolved",
                        closed_at=timezone.now())]


def test_an_enterprise_sees_its_own_open_discrepancies(alice, alices):
    page = signed_in(alice).get("/en/discrepancies/")
    assert page.status_code == 200
    assert list(page.context["page"].object_list) == [alices[1], alices[0]]
    assert "Gone dark" in page.content.decode()


def test_another_enterprise_sees_none_of_them(bob, alices):
    assert list(signed_in(bob).get("/discrepancies/").context["page"].object_list) == []


def test_reviewers_see_their_provinces_only_and_filter(reviewer, reviewer_gd, alices, bob_co):
    theirs = discrepancy(EnterpriseFactory(province="44"))
    client = signed_in(reviewer)
    assert len(client.get("/review/discrepancies/").context["page"].object_list) == 3
    assert list(client.get("/review/discrepancies/?severity=high").context["page"].object_list) == [alices[1]]
    assert list(client.get("/review/discrepancies/?check=gone_dark&province=35").context["page"].object_list) \
        == [alices[0]]
    assert list(client.get(f"/review/discrepancies/?enterprise={theirs.enterprise_id}").context["page"]
                .object_list) == [theirs]
    assert list(client.get("/review/discrepancies/?status=resolved").context["page"].object_list) == [alices[2]]
    assert list(signed_in(reviewer_gd).get("/review/discrepancies/").context["page"].object_list) == [theirs]


def test_pages_refuse_the_other_persona(alice, reviewer, anon):
    assert signed_in(alice).get("/review/discrepancies/").status_code == 403
    assert signed_in(reviewer).get("/discrepancies/").status_code == 403
    assert anon.get("/discrepancies/").status_code == 302


def test_list_pages_take_a_fixed_number_of_queries(alice, alice_co, reviewer):
    def count(client, url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries.captured_queries)

    company, regulator = signed_in(alice), signed_in(reviewer)
    discrepancy(alice_co)
    few = count(company, "/discrepancies/"), count(regulator, "/review/discrepancies/")
    for n in range(8):
        discrepancy(EnterpriseFactory(province="35"), found=n + 1)
        discrepancy(alice_co, figure=f"f{n}")
    assert (count(company, "/discrepancies/"), count(regulator, "/review/discrepancies/")) == few


def test_api_lists_are_scoped(api_for, alice, bob, reviewer, reviewer_gd, alices):
    body = api_for(alice).get(f"{API}/discrepancies/").json()
    assert [row["id"] for row in body["results"]] == [alices[1].pk, alices[0].pk]
    assert body["results"][0]["check"] == "reported_vs_ledger" and body["results"][0]["period"] == "2026-09-01"
    assert api_for(bob).get(f"{API}/discrepancies/").json()["results"] == []
    assert len(api_for(reviewer).get(f"{API}/review/discrepancies/?province=35").json()["results"]) == 2
    assert api_for(reviewer_gd).get(f"{API}/review/discrepancies/").json()["results"] == []


def test_api_one_discrepancy_is_a_404_for_outsiders(api_for, alice, bob, reviewer, reviewer_gd, alices, anon):
    url = f"{API}/discrepancies/{alices[0].pk}/"
    assert api_for(alice).get(url).json()["figure"] == "no_event"
    assert api_for(reviewer).get(url).status_code == 200
    assert_error(api_for(bob).get(url), 404, "not_found")
    assert_error(api_for(reviewer_gd).get(url), 404, "not_found")
    assert anon.get(url).status_code in (401, 403)


def test_api_sides_are_refused_to_the_other_persona(api_for, alice, reviewer):
    assert_error(api_for(alice).get(f"{API}/review/discrepancies/"), 403, "permission_denied")
    assert_error(api_for(reviewer).get(f"{API}/discrepancies/"), 403, "permission_denied")


def test_api_list_takes_a_fixed_number_of_queries(api_for, alice, alice_co):
    client = api_for(alice)
    discrepancy(alice_co)
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/discrepancies/")
    for n in range(8):
        discrepancy(alice_co, figure=f"f{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{API}/discrepancies/").json()["results"]) == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_admins_see_the_latest_runs_and_reviewers_do_not(admin_user, reviewer, alice):
    from apps.reconciliation.services import reconciliation_run

    reconciliation_run(dry_run=True)
    page = signed_in(admin_user).get("/en/review/discrepancies/")
    assert [r.dry_run for r in page.context["runs"]] == [True]
    assert "Latest reconciliation runs" in page.content.decode()
    assert "runs" not in signed_in(reviewer).get("/en/review/discrepancies/").context


def test_the_navigation_links_to_the_discrepancy_pages(alice, reviewer):
    assert 'href="/discrepancies/"' in signed_in(alice).get("/dashboard/").content.decode()
    assert 'href="/review/discrepancies/"' in signed_in(reviewer).get("/dashboard/").content.decode()


# --- the runs, for administrators ----------------------------------------------------------------------------------


@pytest.fixture
def split_run(db, maker, carmaker, django_capture_on_commit_callbacks):
    from apps.reconciliation.services import reconciliation_run_split

    with django_capture_on_commit_callbacks(execute=True):
        parent = reconciliation_run_split(batch_size=1)
    return parent


def test_admins_see_every_run_with_its_batches(split_run, admin_user, carmaker, django_assert_max_num_queries):
    from apps.reconciliation.services import reconciliation_run

    reconciliation_run(enterprise=carmaker.enterprise, dry_run=True)
    client = signed_in(admin_user)
    with django_assert_max_num_queries(6):
        page = client.get("/en/review/reconciliation-runs/")
    text = page.content.decode()
    assert page.status_code == 200 and "in 2 batches" in text and carmaker.enterprise.name in text
    assert 'href="/en/review/reconciliation-runs/"' in text  # in the administrators' navigation
    assert "dry run" in text
    only_dry = client.get("/en/review/reconciliation-runs/?dry_run=1").content.decode()
    assert carmaker.enterprise.name in only_dry and "in 2 batches" not in only_dry

    detail = client.get(f"/en/review/reconciliation-runs/{split_run.pk}/").content.decode()
    assert "2 of 2 batches finished." in detail and "Stock does not balance" in detail
    child = split_run.children.first()
    assert f"Part of run {split_run.pk}" in client.get(f"/en/review/reconciliation-runs/{child.pk}/").content.decode()


def test_the_runs_list_query_count_does_not_grow_with_runs(admin_user, maker, django_assert_max_num_queries):
    from apps.reconciliation.services import reconciliation_run

    client = signed_in(admin_user)
    for _ in range(30):
        reconciliation_run(enterprise=maker.enterprise, dry_run=True)
    with django_assert_max_num_queries(6):
        assert client.get("/en/review/reconciliation-runs/").status_code == 200


def test_runs_are_for_administrators_only(split_run, reviewer, maker, admin_user):
    as_reviewer = signed_in(reviewer)
    assert as_reviewer.get("/en/review/reconciliation-runs/").status_code == 403
    assert as_reviewer.get(f"/en/review/reconciliation-runs/{split_run.pk}/").status_code == 403
    assert signed_in(maker).get(f"/en/review/reconciliation-runs/{split_run.pk}/").status_code == 403
    assert signed_in(admin_user).get("/en/review/reconciliation-runs/999999/").status_code == 404


def test_discrepancy_figures_are_shown_in_words_not_codes():
    from django.utils import translation

    from apps.reconciliation.models import figure_label

    with translation.override("zh-hans"):
        assert figure_label("closing_stock") == "期末库存"
        assert figure_label("ni") == "镍" and figure_label("produced") == "生产"
    with translation.override("en"):
        assert figure_label("closing_stock") == "Stock at month end"
    assert figure_label("some_new_code") == "some_new_code"
    assert figure_label("") == ""
