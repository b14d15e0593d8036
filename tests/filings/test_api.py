"""/api/v1/filings/: the same workflow over the API, in the one error shape, with tenant isolation."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.filings import services
from apps.filings.models import Filing, FilingTransition
from tests.api_helpers import API, assert_error, results
from tests.filings.conftest import COUNTS, last_month

pytestmark = pytest.mark.django_db


def test_the_whole_round_over_the_api(api_for, alice, reviewer):
    company, regulator = api_for(alice), api_for(reviewer)
    created = company.post(f"{API}/filings/monthly-reports/",
                           {"month": last_month().strftime("%Y-%m"), "counts": COUNTS}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["counts"] == COUNTS and created.json()["status"] == "draft"
    assert company.post(f"{API}/filings/{pk}/submit/").json()["status"] == "submitted"
    assert [row["id"] for row in results(regulator.get(f"{API}/filings/queue/"))] == [pk]
    assert regulator.post(f"{API}/filings/{pk}/claim/").json()["status"] == "in_review"
    assert_error(regulator.post(f"{API}/filings/{pk}/return/", {"comment": ""}, format="json"), 400,
                 "comment_required", "comment")
    assert regulator.post(f"{API}/filings/{pk}/return/", {"comment": "请核对"}, format="json").json()["status"] \
        == "returned"
    patched = company.patch(f"{API}/filings/{pk}/", {"counts": {**COUNTS, "installed": 81}}, format="json")
    assert patched.json()["counts"]["installed"] == 81
    assert company.post(f"{API}/filings/{pk}/resubmit/", {"comment": "已改"}, format="json").json()["status"] \
        == "resubmitted"
    regulator.post(f"{API}/filings/{pk}/claim/")
    done = regulator.post(f"{API}/filings/{pk}/approve/", {}, format="json").json()
    assert done["status"] == "approved"
    assert [t["to_status"] for t in done["transitions"]] == ["submitted", "in_review", "returned", "resubmitted",
                                                              "in_review", "approved"]
    comment = company.post(f"{API}/filings/{pk}/comments/", {"body": "谢谢"}, format="json")
    assert comment.status_code == 201 and comment.json()["body"] == "谢谢"


@pytest.mark.parametrize("counts,code,field", [
    ({**COUNTS, "produced": -1}, "count_invalid", "produced"),
    ({**COUNTS, "received": 1.5}, "count_invalid", "received"),
    ({**COUNTS, "received": "many"}, "count_invalid", "received"),
])
def test_bad_counts_are_refused(api_for, alice, counts, code, field):
    response = api_for(alice).post(f"{API}/filings/monthly-reports/",
                                   {"month": last_month().strftime("%Y-%m"), "counts": counts}, format="json")
    assert_error(response, 400, code, field)
    assert not Filing.objects.exists()


def test_a_second_report_for_the_month_is_refused(api_for, alice, submitted):
    response = api_for(alice).post(f"{API}/filings/monthly-reports/",
                                   {"month": last_month().strftime("%Y-%m"), "counts": COUNTS}, format="json")
    assert_error(response, 409, "report_month_duplicate", "month")
    assert Filing.objects.count() == 1


def test_a_bad_month_is_refused(api_for, alice):
    response = api_for(alice).post(f"{API}/filings/monthly-reports/", {"month": "2026-13", "counts": COUNTS},
                                   format="json")
    assert_error(response, 400, "report_month_invalid", "month")


# --- outsiders ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", [
    ("get", "/filings/{pk}/"), ("patch", "/filings/{pk}/"), ("post", "/filings/{pk}/submit/"),
    ("post", "/filings/{pk}/resubmit/"), ("post", "/filings/{pk}/comments/"),
])
def test_another_enterprise_gets_404(api_for, bob, draft, method, path):
    response = getattr(api_for(bob), method)(API + path.format(pk=draft.pk), {"body": "x", "counts": COUNTS},
                                             format="json")
    assert_error(response, 404, "not_found")
    assert Filing.objects.get().status == "draft"
    assert results(api_for(bob).get(f"{API}/filings/")) == []


@pytest.mark.parametrize("method,path", [
    ("post", "/filings/{pk}/claim/"), ("post", "/filings/{pk}/approve/"), ("post", "/filings/{pk}/return/"),
    ("post", "/filings/{pk}/assign/"), ("get", "/filings/{pk}/"),
])
def test_a_reviewer_outside_the_province_gets_404(api_for, reviewer_gd, submitted, method, path):
    response = getattr(api_for(reviewer_gd), method)(API + path.format(pk=submitted.pk),
                                                     {"comment": "x", "reviewer": 1}, format="json")
    assert_error(response, 404, "not_found")
    assert Filing.objects.get().status == "submitted" and FilingTransition.objects.count() == 1


def test_company_staff_cannot_use_the_reviewer_endpoints(api_for, alice, submitted):
    client = api_for(alice)
    assert_error(client.get(f"{API}/filings/queue/"), 403, "permission_denied")
    assert_error(client.post(f"{API}/filings/{submitted.pk}/claim/"), 403, "permission_denied")
    assert Filing.objects.get().status == "submitted"


def test_reviewers_cannot_file_reports(api_for, reviewer):
    response = api_for(reviewer).post(f"{API}/filings/monthly-reports/",
                                      {"month": last_month().strftime("%Y-%m"), "counts": COUNTS}, format="json")
    assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize("method,path", [
    ("get", "/filings/"), ("post", "/filings/monthly-reports/"), ("get", "/filings/queue/"),
    ("get", "/filings/{pk}/"), ("post", "/filings/{pk}/claim/"),
])
def test_anonymous_callers_get_401_or_403(draft, method, path):
    response = getattr(APIClient(), method)(API + path.format(pk=draft.pk))
    assert response.status_code in (401, 403)
    assert Filing.objects.get().status == "draft"


def test_the_queue_api_takes_a_constant_number_of_queries(api_for, reviewer):
    from tests.filings.test_pages import _many_submitted

    client = api_for(reviewer)
    _many_submitted(2)
    client.get(f"{API}/filings/queue/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/filings/queue/")
    _many_submitted(6)
    with CaptureQueriesContext(connection) as many:
        assert len(results(client.get(f"{API}/filings/queue/"))) == 8
    assert len(many.captured_queries) == len(few.captured_queries)
