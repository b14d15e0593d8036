"""The filing pages as people use them, outsiders included, and the lists' query counts."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.filings import rules, services
from apps.filings.models import Filing, FilingTransition
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, MembershipFactory
from tests.filings.conftest import COUNTS, last_month
from tests.web import assert_redirects_to_login, page_text

pytestmark = pytest.mark.django_db


def form_data(month=None, **overrides):
    data = {name: str(value) for name, value in {**COUNTS, **overrides}.items()}
    if month is not None:
        data["month"] = month
    return data


def test_an_enterprise_files_a_report_and_submits_it(alice):
    client = signed_in(alice)
    response = client.post("/filings/monthly-reports/new/", form_data(last_month().strftime("%Y-%m")))
    filing = Filing.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/filings/{filing.pk}/")
    page = page_text(client.get(f"/filings/{filing.pk}/"))
    assert "Draft" in page or "草稿" in page
    assert client.post(f"/filings/{filing.pk}/submit/").status_code == 302
    assert Filing.objects.get().status == "submitted"
    assert str(filing.pk) in page_text(client.get("/filings/"))


@pytest.mark.parametrize("overrides,field", [({"produced": "-3"}, "produced"), ({"installed": "2.5"}, "installed")])
def test_bad_counts_are_shown_on_the_form_and_nothing_is_saved(alice, overrides, field):
    response = signed_in(alice).post("/filings/monthly-reports/new/",
                                     form_data(last_month().strftime("%Y-%m"), **overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Filing.objects.exists()


def test_a_future_month_is_refused_on_the_form(alice):
    future = (dt.date.today().replace(day=1) + dt.timedelta(days=40)).strftime("%Y-%m")
    response = signed_in(alice).post("/filings/monthly-reports/new/", form_data(future))
    assert response.status_code == 200 and response.context["form"].errors["month"]
    assert not Filing.objects.exists()


def test_a_reviewer_claims_returns_and_the_enterprise_resubmits(alice, reviewer, submitted):
    reviewer_client = signed_in(reviewer)
    assert str(submitted.pk) in page_text(reviewer_client.get("/review/filings/"))
    reviewer_client.post(f"/review/filings/{submitted.pk}/claim/")
    response = reviewer_client.post(f"/review/filings/{submitted.pk}/",
                                    {"decision": "return", "comment": "", "confirm": "on"})
    assert response.status_code == 200 and response.context["decision_form"].errors["comment"]
    response = reviewer_client.post(f"/review/filings/{submitted.pk}/",
                                    {"decision": "return", "comment": "核对装车数", "confirm": ""})
    assert response.context["decision_form"].errors["confirm"]
    assert Filing.objects.get().status == "in_review"
    reviewer_client.post(f"/review/filings/{submitted.pk}/", {"decision": "return", "comment": "核对装车数",
                                                               "confirm": "on"})
    assert Filing.objects.get().status == "returned"
    alice_client = signed_in(alice)
    assert "核对装车数" in page_text(alice_client.get("/notifications/"))
    # The return's reason is on the filing page, and the empty thread points to it rather than saying "no comments".
    detail = page_text(alice_client.get(f"/filings/{submitted.pk}/"))
    assert "核对装车数" in detail and "审核人员的决定及理由见上方的处理记录" in detail and "暂无意见" not in detail
    alice_client.post(f"/filings/{submitted.pk}/edit/", form_data(installed="81"))
    alice_client.post(f"/filings/{submitted.pk}/resubmit/", {"comment": "已更正"})
    assert Filing.objects.get().status == "resubmitted"
    assert FilingTransition.objects.count() == 4


def test_the_review_page_shows_the_ledger_beside_the_report(reviewer, in_review):
    response = signed_in(reviewer).get(f"/review/filings/{in_review.pk}/")
    rows = {row["name"]: row for row in response.context["panel"]["comparison"]}
    assert rows["produced"]["declared"] == 120 and rows["produced"]["ledger"] == 0 and rows["produced"]["differs"]
    assert rows["in_stock"]["ledger"] is None


def test_a_comment_with_an_attachment_is_downloadable_by_both_sides_only(alice, bob, reviewer, reviewer_gd, submitted):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    signed_in(alice).post(f"/filings/{submitted.pk}/comments/", {"body": "见附件", "attachment": pdf})
    comment = submitted.comments.get()
    url = f"/filings/comments/{comment.pk}/attachment/"
    assert signed_in(alice).get(url).status_code == 200
    assert signed_in(reviewer).get(url).status_code == 200
    assert signed_in(bob).get(url).status_code == 404
    assert signed_in(reviewer_gd).get(url).status_code == 404


def test_nav_shows_the_unread_count(alice, reviewer, in_review):
    services.filing_approve(actor=reviewer, filing_id=in_review.pk)
    client = signed_in(alice)
    assert 'class="badge count">1<' in client.get("/filings/").content.decode()
    client.get("/notifications/")
    assert 'class="badge count"' not in client.get("/filings/").content.decode()


# --- outsiders --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", [
    ("get", "/filings/{pk}/"), ("get", "/filings/{pk}/edit/"), ("post", "/filings/{pk}/submit/"),
    ("post", "/filings/{pk}/resubmit/"), ("post", "/filings/{pk}/comments/"),
])
def test_another_enterprise_gets_404(bob, draft, method, path):
    assert getattr(signed_in(bob), method)(path.format(pk=draft.pk)).status_code == 404
    assert Filing.objects.get().status == "draft"


@pytest.mark.parametrize("method,path", [
    ("get", "/review/filings/"), ("get", "/review/filings/{pk}/"), ("post", "/review/filings/{pk}/claim/"),
    ("post", "/review/filings/{pk}/assign/"),
])
def test_company_staff_get_403_on_reviewer_pages(alice, submitted, method, path):
    assert getattr(signed_in(alice), method)(path.format(pk=submitted.pk)).status_code == 403


@pytest.mark.parametrize("method,path", [
    ("get", "/review/filings/{pk}/"), ("post", "/review/filings/{pk}/claim/"),
])
def test_a_reviewer_outside_the_province_gets_404(reviewer_gd, submitted, method, path):
    assert getattr(signed_in(reviewer_gd), method)(path.format(pk=submitted.pk)).status_code == 404
    assert Filing.objects.get().status == "submitted"


@pytest.mark.parametrize("method,path", [
    ("get", "/filings/"), ("get", "/filings/monthly-reports/new/"), ("get", "/filings/{pk}/"),
    ("post", "/filings/{pk}/submit/"), ("get", "/notifications/"), ("get", "/review/filings/"),
    ("get", "/review/filings/{pk}/"), ("post", "/review/filings/{pk}/claim/"),
])
def test_anonymous_visitors_are_sent_to_sign_in(anon, draft, method, path):
    assert_redirects_to_login(getattr(anon, method)(path.format(pk=draft.pk)))


# --- query counts -------------------------------------------------------------------------------------------------


def _many_submitted(n: int, province="35"):
    for i in range(n):
        co = EnterpriseFactory(province=province)
        user = MembershipFactory(enterprise=co, role="admin").user
        filing = services.monthly_report_create(actor=user, month=last_month(), counts=COUNTS)
        services.filing_submit(actor=user, filing_id=filing.pk)


def _queries(client, url) -> int:
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_queue_takes_a_constant_number_of_queries(reviewer):
    client = signed_in(reviewer)
    _many_submitted(2)
    few = _queries(client, "/review/filings/")
    _many_submitted(8)
    assert _queries(client, "/review/filings/") == few


def test_the_enterprise_list_takes_a_constant_number_of_queries(alice):
    client = signed_in(alice)
    months = [dt.date(2025, m, 1) for m in range(1, 11)]
    services.monthly_report_create(actor=alice, month=months[0], counts=COUNTS)
    few = _queries(client, "/filings/")
    for month in months[1:]:
        services.monthly_report_create(actor=alice, month=month, counts=COUNTS)
    assert _queries(client, "/filings/") == few


def test_the_queue_sorts_overdue_first_and_filters(reviewer, alice):
    from django.utils import timezone

    on_time = services.monthly_report_create(actor=alice, month=timezone.localdate(), counts=COUNTS)
    services.filing_submit(actor=alice, filing_id=on_time.pk)  # due next month: not overdue, and the oldest
    old = services.monthly_report_create(actor=alice, month=dt.date(2025, 1, 1), counts=COUNTS)
    services.filing_submit(actor=alice, filing_id=old.pk)  # submitted long after its due date: overdue
    client = signed_in(reviewer)
    rows = list(client.get("/review/filings/").context["page"].object_list)
    assert [f.pk for f in rows] == [old.pk, on_time.pk]
    assert "overdue" in rules.risk_reasons(rows[0].risk) and "overdue" not in rules.risk_reasons(rows[1].risk)
    filtered = client.get("/review/filings/?province=44").context["page"].object_list
    assert list(filtered) == []


def test_the_list_shows_only_the_enterprises_own_filings(alice, bob, draft):
    assert list(signed_in(bob).get("/filings/").context["page"].object_list) == []
    assert [f.pk for f in signed_in(alice).get("/filings/").context["page"].object_list] == [draft.pk]


def test_the_notifications_page_takes_a_constant_number_of_queries(alice, reviewer):
    client = signed_in(alice)
    months = [dt.date(2025, m, 1) for m in range(1, 7)]

    def decided(month):
        filing = services.monthly_report_create(actor=alice, month=month, counts=COUNTS)
        services.filing_submit(actor=alice, filing_id=filing.pk)
        services.filing_claim(actor=reviewer, filing_id=filing.pk)
        services.filing_return(actor=reviewer, filing_id=filing.pk, comment="请核对")

    decided(months[0])
    few = _queries(client, "/notifications/")
    for month in months[1:]:
        decided(month)
    assert _queries(client, "/notifications/") == few
