"""Recovery reports and explanations over /api/v1/filings/: the whole round, bad weights per field, idempotent
creation, and outsiders (another enterprise, a reviewer outside the province) answered exactly like a made-up id."""
from __future__ import annotations

import pytest

from apps.filings.models import Filing
from apps.reconciliation.models import Discrepancy
from tests.api_helpers import API, assert_error
from tests.filings.explanation_setup import (  # noqa: F401 — fixtures
    alice_discrepancy,
    blocked_intake,
    bob_discrepancy,
    carmaker,
    dismantler,
    maker,
    maker_co,
    nev,
)
from tests.filings.recovery_setup import (  # noqa: F401 — fixtures
    GOOD_OUTPUTS,
    INPUTS,
    LOW_OUTPUTS,
    carol,
    last_month,
    recovery_draft,
    recycler_co,
)

pytestmark = pytest.mark.django_db


def create(client, outputs=LOW_OUTPUTS, **headers):
    return client.post(f"{API}/filings/recovery-reports/", {"month": last_month().strftime("%Y-%m"),
                                                            "inputs": INPUTS, "outputs": outputs},
                       format="json", **headers)


def test_the_whole_round_of_a_recovery_report(api_for, carol, reviewer):
    company, regulator = api_for(carol), api_for(reviewer)
    created = create(company)
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["flags"] == ["below_threshold"] and body["inputs"] == {"B": "2000.000", "E": "1000.000"}
    nickel = next(r for r in body["rates"] if r["metal"] == "ni")
    assert (nickel["expected_kg"], nickel["rate_percent"], nickel["threshold_percent"], nickel["below_threshold"]) \
        == ("76.000", "97.37", "98.0", True)
    assert company.post(f"{API}/filings/{pk}/submit/").json()["status"] == "submitted"
    regulator.post(f"{API}/filings/{pk}/claim/")
    assert regulator.post(f"{API}/filings/{pk}/return/", {"comment": "镍回收率低"}, format="json").status_code == 200
    patched = company.patch(f"{API}/filings/recovery-reports/{pk}/", {"inputs": INPUTS, "outputs": GOOD_OUTPUTS},
                            format="json")
    assert patched.status_code == 200 and patched.json()["flags"] == []
    company.post(f"{API}/filings/{pk}/resubmit/", {"comment": "已改"}, format="json")
    regulator.post(f"{API}/filings/{pk}/claim/")
    assert regulator.post(f"{API}/filings/{pk}/approve/", {}, format="json").json()["status"] == "approved"
    final = regulator.get(f"{API}/filings/recovery-reports/{pk}/").json()
    assert [t["to_status"] for t in final["transitions"]] == ["submitted", "in_review", "returned", "resubmitted",
                                                               "in_review", "approved"]


def test_a_retried_create_files_one_report(api_for, carol):
    client = api_for(carol)
    first = create(client, HTTP_IDEMPOTENCY_KEY="recovery-2026-10")
    again = create(client, HTTP_IDEMPOTENCY_KEY="recovery-2026-10")
    assert (first.status_code, again.status_code) == (201, 201) and first.json()["id"] == again.json()["id"]
    assert_error(create(client), 409, "report_month_duplicate", "month")
    assert Filing.objects.count() == 1


@pytest.mark.parametrize("inputs,outputs,code,field", [
    ({"E": -1}, {}, "weight_invalid", "input_E"),
    ({"E": "heavy"}, {}, "weight_invalid", "input_E"),
    (INPUTS, {"ni": [1]}, "weight_invalid", "output_ni"),
    ({}, {"co": 2}, "recovery_output_without_input", "output_co"),
])
def test_bad_weights_are_refused_per_field(api_for, carol, inputs, outputs, code, field):
    response = api_for(carol).post(f"{API}/filings/recovery-reports/", {
        "month": last_month().strftime("%Y-%m"), "inputs": inputs, "outputs": outputs}, format="json")
    assert_error(response, 400, code, field)
    assert not Filing.objects.exists()


def test_a_non_recycler_cannot_file(api_for, alice):
    assert_error(create(api_for(alice)), 403, "not_a_recycler")


def test_outsiders_see_a_recovery_report_as_a_made_up_id(api_for, bob, reviewer_gd, carol, recovery_draft):
    pk = recovery_draft.pk
    api_for(carol).post(f"{API}/filings/{pk}/submit/")
    for client in (api_for(bob), api_for(reviewer_gd)):
        for url in (f"{API}/filings/recovery-reports/{pk}/", f"{API}/filings/recovery-reports/999999/"):
            assert_error(client.get(url), 404, "not_found")
            assert_error(client.patch(url, {"inputs": INPUTS}, format="json"), 404, "not_found")
    assert Filing.objects.get().recovery_report.outputs()["ni"] == 74


def test_the_composition_table_is_readable(api_for, bob):
    rows = api_for(bob).get(f"{API}/filings/compositions/").json()
    assert {r["chemistry"]: r["lithium"] for r in rows}["B"] == "0.0100"


def test_an_explanation_over_the_api_moves_its_discrepancy(api_for, alice, reviewer, alice_discrepancy):
    company, regulator = api_for(alice), api_for(reviewer)
    created = company.post(f"{API}/filings/explanations/", {"discrepancy": alice_discrepancy.pk,
                                                           "text": "扫码枪故障"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["discrepancy"] == alice_discrepancy.pk and created.json()["kind"] == "explanation"
    company.post(f"{API}/filings/{pk}/submit/")
    assert Discrepancy.objects.get().status == "explained"
    regulator.post(f"{API}/filings/{pk}/claim/")
    regulator.post(f"{API}/filings/{pk}/return/", {"comment": "请补充"}, format="json")
    assert company.patch(f"{API}/filings/explanations/{pk}/", {"text": "已补录"}, format="json").json()["text"] \
        == "已补录"
    company.post(f"{API}/filings/{pk}/resubmit/", {}, format="json")
    regulator.post(f"{API}/filings/{pk}/claim/")
    regulator.post(f"{API}/filings/{pk}/reject/", {"comment": "不成立"}, format="json")
    assert Discrepancy.objects.get().status == "open"


def test_explaining_anothers_discrepancy_or_intake_is_404(api_for, alice, bob_discrepancy, blocked_intake):
    client = api_for(alice)
    for payload in ({"discrepancy": bob_discrepancy.pk}, {"intake": blocked_intake.pk}, {"discrepancy": 999999}):
        assert_error(client.post(f"{API}/filings/explanations/", {**payload, "text": "x"}, format="json"), 404,
                     "not_found")
    assert_error(client.post(f"{API}/filings/explanations/", {"text": "x"}, format="json"), 400,
                 "explanation_subject_invalid")
    assert not Filing.objects.exists()


def test_outsiders_see_an_explanation_as_a_made_up_id(api_for, alice, bob, reviewer_gd, alice_discrepancy):
    pk = api_for(alice).post(f"{API}/filings/explanations/", {"discrepancy": alice_discrepancy.pk, "text": "x"},
                             format="json").json()["id"]
    api_for(alice).post(f"{API}/filings/{pk}/submit/")
    for client in (api_for(bob), api_for(reviewer_gd)):
        assert_error(client.get(f"{API}/filings/explanations/{pk}/"), 404, "not_found")
        assert_error(client.patch(f"{API}/filings/explanations/{pk}/", {"text": "y"}, format="json"), 404,
                     "not_found")
    # a recovery report's id is not an explanation's
    assert_error(api_for(alice).get(f"{API}/filings/recovery-reports/{pk}/"), 404, "not_found")


def test_counts_patched_onto_a_recovery_report_are_refused_not_silently_dropped(api_for, carol, recovery_draft):
    before = Filing.objects.get().recovery_report.outputs()
    answer = api_for(carol).patch(f"{API}/filings/{recovery_draft.pk}/", {"counts": {"produced": 5}}, format="json")
    assert_error(answer, 409, "filing_wrong_kind")
    assert Filing.objects.get().recovery_report.outputs() == before
