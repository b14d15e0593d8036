"""Enterprise registration as a filing of the shared review workflow (issue 5, ADR 0016): submit → return with a
comment → resubmit → approve through the services, the pages and the API; the applicant (whose enterprise is not
active yet) acts on its own registration and nothing else; outsiders get 404."""
from __future__ import annotations

import pytest
from django.core import mail

from apps.core.errors import DomainError, NotFound
from apps.enterprises import services
from apps.enterprises.models import Enterprise, EnterpriseRegistration
from apps.filings import services as filing_services
from apps.filings.models import Filing, FilingKind, Notification
from tests.api_helpers import API, results
from tests.conftest import signed_in
from tests.factories import pdf_upload, valid_uscc
from tests.web import company_data, page_text, redirect_path

pytestmark = pytest.mark.django_db


def company(**overrides) -> dict:
    data = {"name": "闽江回收科技有限公司", "uscc": valid_uscc(), "province": "35", "address": "福州市鼓楼区1号",
            "contact_name": "林晓", "contact_phone": "0591-87654321", "contact_email": "contact@mj.example.cn",
            "roles": ["recycler"]}
    data.update(overrides)
    return data


def register(username="applicant", email="applicant@example.cn", **overrides) -> Enterprise:
    return services.enterprise_register(company=company(**overrides), business_licence=pdf_upload(),
                                        applicant_username=username, applicant_email=email,
                                        applicant_password="Battery-trace-2026")


def applicant_of(enterprise):
    return enterprise.memberships.get().user


def statuses(filing) -> list[str]:
    return list(filing.transitions.values_list("to_status", flat=True))


def test_a_registration_is_a_submitted_filing_in_the_reviewer_queue(reviewer):
    enterprise = register()
    filing = enterprise.registration.filing
    assert (filing.kind, filing.status, filing.enterprise, filing.province) == (
        FilingKind.ENTERPRISE_REGISTRATION, "submitted", enterprise, "35")
    assert statuses(filing) == ["submitted"]
    from apps.filings.selectors import filing_queue

    assert list(filing_queue(actor=reviewer).values_list("pk", flat=True)) == [filing.pk]


def test_the_whole_round_through_the_services(reviewer, mailoutbox, django_capture_on_commit_callbacks):
    enterprise = register()
    applicant = applicant_of(enterprise)
    filing = enterprise.registration.filing
    filing_services.filing_claim(actor=reviewer, filing_id=filing.pk)
    with django_capture_on_commit_callbacks(execute=True):
        filing_services.filing_return(actor=reviewer, filing_id=filing.pk, comment="地址不完整")
    enterprise.refresh_from_db()
    assert (enterprise.status, enterprise.status_reason) == ("returned", "地址不完整")
    # the applicant is told in the portal and by e-mail, though its enterprise has no active staff yet
    assert Notification.objects.for_user(applicant).get().kind == "returned"
    assert [m.to for m in mailoutbox] == [["applicant@example.cn"]] and "地址不完整" in mailoutbox[0].body

    filing_services.filing_comment_add(actor=applicant, filing_id=filing.pk, body="已补充门牌号")
    services.enterprise_registration_resubmit(actor=applicant, enterprise=enterprise,
                                              company=company(uscc=enterprise.uscc, address="福州市鼓楼区1号2栋"))
    enterprise.refresh_from_db()
    filing.refresh_from_db()
    assert (enterprise.status, enterprise.address, filing.status) == ("pending", "福州市鼓楼区1号2栋", "resubmitted")

    filing_services.filing_claim(actor=reviewer, filing_id=filing.pk)
    filing_services.filing_approve(actor=reviewer, filing_id=filing.pk)
    enterprise.refresh_from_db()
    assert enterprise.status == "active" and enterprise.approved_at is not None
    assert statuses(filing) == ["submitted", "in_review", "returned", "resubmitted", "in_review", "approved"]
    assert list(enterprise.status_changes.values_list("action", flat=True)) == [
        "approved", "resubmitted", "returned", "submitted"]


def test_the_old_decision_services_claim_and_decide_the_filing(reviewer):
    enterprise = register()
    services.enterprise_registration_reject(actor=reviewer, enterprise=enterprise, comment="不具备资质")
    filing = Filing.objects.get(pk=enterprise.registration.pk)
    assert (filing.status, filing.decided_by, filing.assigned_to) == ("rejected", reviewer, reviewer)
    assert Enterprise.objects.get(pk=enterprise.pk).status == "rejected"


def test_a_registration_in_another_reviewers_hands_is_not_decided_by_the_old_service(reviewer, admin_user):
    other = type(reviewer).objects.create(username="other_rev", kind="reviewer")
    enterprise = register()
    filing_services.filing_claim(actor=other, filing_id=enterprise.registration.pk)
    with pytest.raises(DomainError) as err:
        services.enterprise_registration_approve(actor=reviewer, enterprise=enterprise)
    assert err.value.code == "filing_not_assigned_to_you"
    assert Enterprise.objects.get(pk=enterprise.pk).status == "pending"


def test_an_application_from_before_the_workflow_gets_its_filing_when_decided(reviewer):
    from tests.factories import EnterpriseFactory

    old = EnterpriseFactory(status="pending", province="35")
    assert not EnterpriseRegistration.objects.filter(enterprise=old).exists()
    services.enterprise_registration_approve(actor=reviewer, enterprise=old)
    assert old.registration.filing.status == "approved"


def test_outsiders_never_see_a_registration(bob, reviewer_gd, reviewer):
    enterprise = register()
    other = register(username="other_applicant", email="o@example.cn", name="另一家公司")
    filing_id = enterprise.registration.pk
    for outsider in (bob, reviewer_gd, applicant_of(other)):
        with pytest.raises(NotFound):
            filing_services.filing_comment_add(actor=outsider, filing_id=filing_id, body="x")
    # the other applicant cannot resubmit or comment on this registration either
    filing_services.filing_claim(actor=reviewer, filing_id=filing_id)
    filing_services.filing_return(actor=reviewer, filing_id=filing_id, comment="请补充")
    with pytest.raises(NotFound):
        filing_services.filing_resubmit(actor=applicant_of(other), filing_id=filing_id)
    with pytest.raises(DomainError):
        services.enterprise_registration_resubmit(actor=applicant_of(other), enterprise=enterprise,
                                                  company=company(uscc=enterprise.uscc))


def test_an_applicant_acts_only_on_its_registration_not_on_other_filings(alice):
    """A pending enterprise's staff are 'the filing enterprise' on the registration only: no other filing."""
    enterprise = register()
    applicant = applicant_of(enterprise)
    with pytest.raises(DomainError) as err:
        filing_services.monthly_report_create(actor=applicant, month="2026-01", counts={})
    assert err.value.status == 403


# --- the pages ------------------------------------------------------------------------------------------------


def test_the_whole_round_through_the_pages(reviewer, django_capture_on_commit_callbacks):
    enterprise = register()
    applicant_client, reviewer_client = signed_in(applicant_of(enterprise)), signed_in(reviewer)
    pk = enterprise.registration.pk
    queue = reviewer_client.get("/en/review/filings/")
    assert f"/review/filings/{pk}/" in queue.content.decode()
    review = reviewer_client.get(f"/en/review/filings/{pk}/")
    assert enterprise.uscc in page_text(review)
    reviewer_client.post(f"/review/filings/{pk}/claim/")
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer_client.post(f"/en/review/filings/{pk}/",
                                        {"decision": "return", "comment": "请上传清晰的营业执照", "confirm": "on"})
    assert response.status_code == 302
    assert "请上传清晰的营业执照" in page_text(applicant_client.get("/application/"))
    response = applicant_client.post("/application/comments/", {"body": "稍后上传"})
    assert redirect_path(response) == "/application/"
    assert "稍后上传" in page_text(reviewer_client.get(f"/review/filings/{pk}/"))
    response = applicant_client.post("/application/edit/", {**company_data(enterprise), "business_licence": pdf_upload()})
    assert redirect_path(response) == "/application/"
    assert Filing.objects.get(pk=pk).status == "resubmitted"
    reviewer_client.post(f"/review/filings/{pk}/claim/")
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(f"/en/review/filings/{pk}/", {"decision": "approve", "comment": "", "confirm": "on"})
    assert Enterprise.objects.get(pk=enterprise.pk).status == "active"
    assert applicant_client.get("/enterprise/staff/").status_code == 200


def test_the_applicant_cannot_open_other_filing_pages(alice):
    enterprise = register()
    applicant_client = signed_in(applicant_of(enterprise))
    assert redirect_path(applicant_client.get("/filings/")) == "/application/"
    assert redirect_path(applicant_client.get(f"/filings/{enterprise.registration.pk}/")) == "/application/"


def test_outsiders_get_404_on_the_registration_review_page(reviewer_gd, bob):
    enterprise = register()
    pk = enterprise.registration.pk
    assert signed_in(reviewer_gd).get(f"/review/filings/{pk}/").status_code == 404
    assert signed_in(bob).get(f"/filings/{pk}/").status_code == 404


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_whole_round_through_the_api(api_for, reviewer, anon):
    from rest_framework.test import APIClient

    created = APIClient().post(f"{API}/registrations/", {
        **company(), "business_licence": pdf_upload(), "applicant_username": "api_applicant",
        "applicant_email": "api@example.cn", "applicant_password": "Battery-trace-2026"}, format="multipart")
    assert created.status_code == 201, created.content
    enterprise = Enterprise.objects.get(pk=created.json()["id"])
    pk = enterprise.registration.pk
    regulator = api_for(reviewer)
    assert pk in [row["id"] for row in results(regulator.get(f"{API}/filings/queue/", {"kind": "enterprise_registration"}))]
    detail = regulator.get(f"{API}/filings/{pk}/").json()
    assert detail["registration"] == {"enterprise": enterprise.pk, "uscc": enterprise.uscc,
                                      "enterprise_status": "pending"}
    regulator.post(f"{API}/filings/{pk}/claim/")
    returned = regulator.post(f"{API}/filings/{pk}/return/", {"comment": "请补充联系人"}, format="json")
    assert returned.json()["status"] == "returned"
    assert Enterprise.objects.get(pk=enterprise.pk).status == "returned"
    # the applicant corrects on the application page (the API is for active enterprises)
    applicant_client = signed_in(applicant_of(enterprise))
    applicant_client.post("/application/edit/", {**company_data(enterprise, contact_name="王五")})
    regulator.post(f"{API}/filings/{pk}/claim/")
    approved = regulator.post(f"{API}/filings/{pk}/approve/", {}, format="json")
    assert approved.json()["status"] == "approved", approved.content
    assert approved.json()["registration"]["enterprise_status"] == "active"


def test_outsiders_get_404_from_the_api(api_for, reviewer_gd, bob):
    pk = register().registration.pk
    regulator = api_for(reviewer_gd)
    assert regulator.get(f"{API}/filings/{pk}/").status_code == 404
    assert regulator.post(f"{API}/filings/{pk}/claim/", {}, format="json").status_code == 404
    assert api_for(bob).get(f"{API}/filings/{pk}/").status_code == 404
    assert Filing.objects.get(pk=pk).status == "submitted"
    assert mail.outbox == []


def test_the_applicant_opens_the_reviewers_attachment_and_nobody_else_does(reviewer, bob):
    enterprise = register()
    comment = filing_services.filing_comment_add(actor=reviewer, filing_id=enterprise.registration.pk,
                                                 body="请按此模板补充", attachment=pdf_upload())
    applicant_client = signed_in(applicant_of(enterprise))
    page = applicant_client.get("/application/").content.decode()
    assert "请按此模板补充" in page and f"/filings/comments/{comment.pk}/attachment/" in page
    assert applicant_client.get(f"/filings/comments/{comment.pk}/attachment/").status_code == 200
    assert signed_in(bob).get(f"/filings/comments/{comment.pk}/attachment/").status_code == 404
    other = register(username="other_applicant", email="o@example.cn", name="另一家公司")
    assert signed_in(applicant_of(other)).get(f"/filings/comments/{comment.pk}/attachment/").status_code == 404


def test_an_active_enterprise_posting_to_the_application_thread_files_nothing(alice):
    response = signed_in(alice).post("/application/comments/", {"body": "x"})
    assert response.status_code == 404
    assert not Filing.objects.filter(kind=FilingKind.ENTERPRISE_REGISTRATION).exists()
