"""/api/v1/ enforcement endpoints: the same workflow as the pages, in the one error shape, idempotent POSTs,
four eyes, and outsiders (another enterprise, a reviewer of another province) getting 404."""
from __future__ import annotations

import uuid

import pytest

from apps.enforcement.models import ActionTransition, EnforcementAction
from apps.reconciliation.models import Discrepancy
from tests.api_helpers import API, assert_error, results
from tests.enforcement.conftest import ALICE_CODE, in_days

pytestmark = pytest.mark.django_db


def body(enterprise, **overrides) -> dict:
    return {"enterprise": enterprise.pk, "kind": "fine", "amount": "30000.00", "facts": "少报产量",
            "legal_basis": "《暂行办法》", "deadline": in_days(15).isoformat(), **overrides}


def test_the_whole_round_over_the_api(api_for, reviewer, reviewer_fj, alice, alice_co, alice_events,
                                      alice_discrepancy):
    drafter, second, company = api_for(reviewer), api_for(reviewer_fj), api_for(alice)
    created = drafter.post(f"{API}/review/enforcement/", body(alice_co, event_ids=alice_events[:1],
                                                              battery_codes=[ALICE_CODE],
                                                              discrepancy_ids=str(alice_discrepancy.pk)),
                           format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    evidence = created.json()["evidence"]
    assert evidence["events"][0]["battery_code"] == ALICE_CODE and evidence["discrepancies"][0]["id"] == \
        alice_discrepancy.pk
    assert created.json()["amount"] == "30000.00" and created.json()["drafted_by"] == "rita"
    assert drafter.post(f"{API}/review/enforcement/{pk}/submit/", {}, format="json").json()["status"] == \
        "awaiting_approval"
    assert_error(drafter.post(f"{API}/review/enforcement/{pk}/approve/", {}, format="json"), 409,
                 "four_eyes_required")
    assert_error(company.get(f"{API}/enforcement/{pk}/"), 404, "not_found")  # not issued yet
    assert second.post(f"{API}/review/enforcement/{pk}/approve/", {}, format="json").json()["status"] == "issued"
    assert [row["id"] for row in results(company.get(f"{API}/enforcement/"))] == [pk]
    seen = company.get(f"{API}/enforcement/{pk}/").json()
    assert "actor" not in seen["transitions"][0] and "drafted_by" not in seen
    answered = company.post(f"{API}/enforcement/{pk}/answer/", {"text": "已整改"}, format="json")
    assert answered.json()["status"] == "answered", answered.content
    assert_error(drafter.post(f"{API}/review/enforcement/{pk}/close/", {"outcome": "complied", "comment": ""},
                              format="json"), 400, "comment_required", "comment")
    closed = drafter.post(f"{API}/review/enforcement/{pk}/close/", {"outcome": "complied", "comment": "已核实"},
                          format="json")
    assert closed.json()["status"] == "closed" and closed.json()["outcome"] == "complied"


@pytest.mark.parametrize("overrides,code,field", [
    ({"amount": None}, "amount_invalid", "amount"),
    ({"amount": "-3"}, "amount_invalid", "amount"),
    ({"kind": "warning", "amount": "10"}, "amount_invalid", "amount"),
    ({"deadline": "2020-01-01"}, "action_deadline_invalid", "deadline"),
    ({"facts": "<b>x</b>"}, "markup_not_allowed", "facts"),
    ({"event_ids": {"a": 1}}, "evidence_invalid", "event_ids"),
    ({"filing_ids": "12 abc"}, "evidence_invalid", "filing_ids"),
])
def test_bad_drafts_are_refused_in_the_error_shape(api_for, reviewer, alice_co, overrides, code, field):
    assert_error(api_for(reviewer).post(f"{API}/review/enforcement/", body(alice_co, **overrides), format="json"),
                 400, code, field)
    assert not EnforcementAction.objects.exists()


def test_a_retried_post_does_not_repeat_the_step(api_for, reviewer, alice_co):
    client = api_for(reviewer)
    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    first = client.post(f"{API}/review/enforcement/", body(alice_co), format="json", **key)
    again = client.post(f"{API}/review/enforcement/", body(alice_co), format="json", **key)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert EnforcementAction.objects.count() == 1
    pk = first.json()["id"]
    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    client.post(f"{API}/review/enforcement/{pk}/submit/", {}, format="json", **key)
    client.post(f"{API}/review/enforcement/{pk}/submit/", {}, format="json", **key)
    assert ActionTransition.objects.filter(verb="submit").count() == 1


def test_outsiders_get_404_and_change_nothing(api_for, bob, reviewer_gd, alice, issued):
    bob_client, gd_client = api_for(bob), api_for(reviewer_gd)
    assert_error(bob_client.get(f"{API}/enforcement/{issued.pk}/"), 404, "not_found")
    assert_error(bob_client.post(f"{API}/enforcement/{issued.pk}/answer/", {"text": "x"}, format="json"), 404,
                 "not_found")
    assert results(bob_client.get(f"{API}/enforcement/")) == []
    assert_error(gd_client.get(f"{API}/review/enforcement/{issued.pk}/"), 404, "not_found")
    assert_error(gd_client.post(f"{API}/review/enforcement/{issued.pk}/close/",
                                {"outcome": "complied", "comment": "x"}, format="json"), 404, "not_found")
    assert results(gd_client.get(f"{API}/review/enforcement/")) == []
    assert_error(api_for(alice).get(f"{API}/review/enforcement/"), 403, "permission_denied")
    assert EnforcementAction.objects.get().status == "issued"


def test_reviewer_list_filters(api_for, reviewer, issued):
    client = api_for(reviewer)
    assert [r["id"] for r in results(client.get(f"{API}/review/enforcement/?status=issued&province=35"))] == \
        [issued.pk]
    assert results(client.get(f"{API}/review/enforcement/?kind=fine")) == []
    assert_error(client.get(f"{API}/review/enforcement/?status=nonsense"), 400, "invalid_choice", "status")


def test_resolve_and_escalate_a_discrepancy(api_for, reviewer, reviewer_gd, alice_co, alice_discrepancy):
    from tests.enforcement.conftest import make_discrepancy

    client = api_for(reviewer)
    assert_error(api_for(reviewer_gd).post(f"{API}/review/discrepancies/{alice_discrepancy.pk}/escalate/", {},
                                           format="json"), 404, "not_found")
    assert_error(client.post(f"{API}/review/discrepancies/{alice_discrepancy.pk}/resolve/", {"comment": ""},
                             format="json"), 400, "comment_required", "comment")
    escalated = client.post(f"{API}/review/discrepancies/{alice_discrepancy.pk}/escalate/", {"kind": "warning"},
                            format="json")
    assert escalated.status_code == 201 and escalated.json()["kind"] == "warning"
    assert Discrepancy.objects.get(pk=alice_discrepancy.pk).status == "escalated"
    other = make_discrepancy(alice_co, figure="installed")
    resolved = client.post(f"{API}/review/discrepancies/{other.pk}/resolve/", {"comment": "已核实"}, format="json")
    assert resolved.json()["status"] == "resolved"


def test_the_api_lists_run_a_fixed_number_of_queries(api_for, reviewer, reviewer_fj, alice, alice_co):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.enforcement import services
    from tests.enforcement.conftest import draft_args

    def add(n):
        for _ in range(n):
            action = services.enforcement_action_create(actor=reviewer, **draft_args(alice_co))
            services.enforcement_action_submit(actor=reviewer, action_id=action.pk)
            services.enforcement_action_approve(actor=reviewer_fj, action_id=action.pk)

    def count(client, url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    regulator, company = api_for(reviewer), api_for(alice)
    add(1)
    few = count(regulator, f"{API}/review/enforcement/"), count(company, f"{API}/enforcement/")
    add(4)
    assert (count(regulator, f"{API}/review/enforcement/"), count(company, f"{API}/enforcement/")) == few


def test_reviewers_read_the_whole_history_with_who(api_for, reviewer, reviewer_fj, issued):
    history = api_for(reviewer).get(f"{API}/review/enforcement/{issued.pk}/").json()["transitions"]
    assert [(t["step"], t["actor"]) for t in history] == [("draft", "rita"), ("submit", "rita"),
                                                          ("approve", "fj_rita")]
