"""Reviewer pages: the enterprise list, an enterprise's page with the decision, suspension and code forms, and
its audit trail. Company staff never reach them; a provincial reviewer sees only their provinces."""
from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from apps.enterprises import services
from apps.enterprises.models import Enterprise, EnterpriseStatusChange, ManufacturerCode, Membership
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, MembershipFactory, pdf_upload
from tests.web import (
    assert_redirects_to_login,
    company_data,
    field_errors,
    outbox_to,
    page_text,
    redirect_path,
    sign_in_with_form,
)

pytestmark = pytest.mark.django_db

LIST = "/review/enterprises/"


def detail(enterprise, lang="") -> str:
    return f"{lang}/review/enterprises/{enterprise.pk}/"


@pytest.fixture
def pending_co(db):
    """An application from Fujian waiting for review, with its applicant."""
    return EnterpriseFactory(name="待审电池回收有限公司", province="35", roles=["recycler"], status="pending",
                             business_licence=pdf_upload())


@pytest.fixture
def applicant(pending_co):
    return MembershipFactory(enterprise=pending_co, role=Membership.Role.ADMIN, user__username="applicant",
                             user__email="applicant@example.cn").user


@pytest.fixture
def reviewer_client(reviewer):
    return signed_in(reviewer)


def names_listed(response) -> set[str]:
    return {e.name for e in response.context["page"].object_list}


# --- the list -------------------------------------------------------------------------------------------------


def test_review_list_shows_every_enterprise_to_a_national_reviewer(reviewer_client, alice_co, bob_co, pending_co):
    response = reviewer_client.get(LIST)
    assert response.status_code == 200
    assert names_listed(response) == {alice_co.name, bob_co.name, pending_co.name}
    html = page_text(response)
    for enterprise in (alice_co, bob_co, pending_co):
        assert enterprise.name in html
        assert enterprise.uscc in html
        assert f'href="/review/enterprises/{enterprise.pk}/"' in html


def test_review_list_filters_by_status(reviewer_client, alice_co, pending_co):
    response = reviewer_client.get(LIST, {"status": "pending"})
    assert names_listed(response) == {pending_co.name}
    assert names_listed(reviewer_client.get(LIST, {"status": "active"})) == {alice_co.name}
    assert names_listed(reviewer_client.get(LIST, {"status": "rejected"})) == set()


def test_review_list_filters_by_province(reviewer_client, alice_co, bob_co):
    assert names_listed(reviewer_client.get(LIST, {"province": "31"})) == {bob_co.name}
    assert names_listed(reviewer_client.get(LIST, {"province": "35"})) == {alice_co.name}


def test_review_list_searches_by_name_or_credit_code(reviewer_client, alice_co, bob_co):
    assert names_listed(reviewer_client.get(LIST, {"q": "爱丽丝"})) == {alice_co.name}
    assert names_listed(reviewer_client.get(LIST, {"q": bob_co.uscc[-8:].lower()})) == {bob_co.name}


def test_review_list_with_no_match_says_so(reviewer_client, alice_co):
    response = reviewer_client.get("/en" + LIST, {"q": "no such company"})
    assert response.status_code == 200
    assert "No enterprise matches your search." in page_text(response)


def test_review_list_ignores_an_invalid_filter_instead_of_failing(reviewer_client, alice_co):
    response = reviewer_client.get(LIST, {"status": "bogus", "province": "99"})
    assert response.status_code == 200


def test_review_list_is_paginated_and_keeps_the_filters_in_the_page_links(reviewer_client):
    EnterpriseFactory.create_batch(30, status="pending", province="44")
    EnterpriseFactory.create_batch(3, status="active", province="44")
    first = reviewer_client.get(LIST, {"status": "pending"})
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.count == 30
    assert "status=pending&amp;page=2" in first.content.decode()
    second = reviewer_client.get(LIST, {"status": "pending", "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert names_listed(first).isdisjoint(names_listed(second))
    # a page number past the end shows the last page rather than an error
    assert reviewer_client.get(LIST, {"status": "pending", "page": 99}).context["page"].number == 2
    assert reviewer_client.get(LIST, {"page": "x"}).status_code == 200


def test_provincial_reviewer_sees_only_their_provinces(alice_co, reviewer_gd):
    gd_co = EnterpriseFactory(name="广东电池有限公司", province="44")
    client = signed_in(reviewer_gd)
    assert names_listed(client.get(LIST)) == {gd_co.name}
    # filtering for another province does not widen the view
    assert names_listed(client.get(LIST, {"province": "35"})) == set()
    assert alice_co.name not in page_text(client.get(LIST, {"q": "爱丽丝"}))
    assert client.get(detail(gd_co)).status_code == 200


def test_provincial_reviewer_gets_404_for_an_enterprise_outside_their_provinces(alice_co, reviewer_gd):
    client = signed_in(reviewer_gd)
    assert client.get(detail(alice_co)).status_code == 404
    assert client.get(f"/review/enterprises/{alice_co.pk}/history/").status_code == 404
    assert client.get(f"/enterprises/{alice_co.pk}/business-licence.pdf").status_code == 404


def test_provincial_reviewer_cannot_decide_or_suspend_outside_their_provinces(alice_co, pending_co, reviewer_gd):
    client = signed_in(reviewer_gd)
    response = client.post(detail(pending_co), {"decision": "approve", "confirm": "on"})
    assert response.status_code == 404
    response = client.post(detail(alice_co), {"reason": "x", "confirm": "on"})
    assert response.status_code == 404
    pending_co.refresh_from_db()
    alice_co.refresh_from_db()
    assert (pending_co.status, alice_co.status) == ("pending", "active")
    assert not EnterpriseStatusChange.objects.exists()


def test_enterprise_names_are_escaped_on_the_list_and_the_detail_page(reviewer_client):
    marked = EnterpriseFactory(name="<b>x</b>")
    for response in (reviewer_client.get(LIST), reviewer_client.get(detail(marked))):
        html = response.content.decode()
        assert "&lt;b&gt;x&lt;/b&gt;" in html
        assert "<b>x</b>" not in html


def test_detail_page_shows_the_facts_staff_and_history(reviewer_client, applicant, pending_co):
    response = reviewer_client.get(detail(pending_co))
    assert response.status_code == 200
    html = page_text(response)
    assert pending_co.name in html
    assert pending_co.uscc in html
    assert "applicant" in html
    assert f"/enterprises/{pending_co.pk}/business-licence.pdf" in html
    assert f"/review/enterprises/{pending_co.pk}/history/" in html
    assert 'name="decision"' in html


def test_detail_page_of_an_unknown_enterprise_is_404(reviewer_client):
    assert reviewer_client.get("/review/enterprises/999999/").status_code == 404


# --- decisions --------------------------------------------------------------------------------------------------


def _decide(client, enterprise, capture, **data):
    with capture(execute=True):
        return client.post(detail(enterprise, "/en"), data)


def test_approving_activates_the_enterprise_records_it_and_mails_the_applicant(
        reviewer_client, reviewer, applicant, pending_co, django_capture_on_commit_callbacks):
    response = _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
                       decision="approve", comment="", confirm="on")
    assert redirect_path(response) == f"/en/review/enterprises/{pending_co.pk}/"
    pending_co.refresh_from_db()
    assert pending_co.status == Enterprise.Status.ACTIVE
    assert pending_co.approved_at is not None
    change = EnterpriseStatusChange.objects.get(enterprise=pending_co)
    assert (change.action, change.from_status, change.to_status, change.actor) == (
        "approved", "pending", "active", reviewer)
    messages = outbox_to("applicant@example.cn")
    assert len(messages) == 1
    assert pending_co.name in messages[0].body
    # the shared filing notification (ADR 0016), always in Chinese: "your filing was approved"
    assert "审核通过" in messages[0].subject
    assert "Decision recorded." in page_text(reviewer_client.get(detail(pending_co, "/en")))


def test_approved_applicant_becomes_a_full_enterprise_administrator(
        reviewer_client, applicant, pending_co, django_capture_on_commit_callbacks):
    applicant_client = signed_in(applicant)
    assert redirect_path(applicant_client.get("/enterprise/staff/")) == "/application/"
    _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks, decision="approve", confirm="on")
    assert applicant_client.get("/enterprise/staff/").status_code == 200
    assert applicant_client.get("/enterprise/api-keys/").status_code == 200
    assert applicant_client.get("/dashboard/").status_code == 200
    assert redirect_path(applicant_client.get("/application/")) == "/enterprise/"


def test_a_decision_needs_the_confirm_checkbox(reviewer_client, applicant, pending_co,
                                               django_capture_on_commit_callbacks):
    response = _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
                       decision="approve", comment="")
    assert response.status_code == 200
    assert response.context["decision_form"].errors["confirm"]
    pending_co.refresh_from_db()
    assert pending_co.status == "pending"
    assert not EnterpriseStatusChange.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("decision", ["return", "reject"])
def test_returning_or_rejecting_needs_a_comment(reviewer_client, applicant, pending_co, decision,
                                               django_capture_on_commit_callbacks):
    response = _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
                       decision=decision, comment="   ", confirm="on")
    assert response.status_code == 200
    errors = response.context["decision_form"].errors["comment"]
    assert "Give the applicant a comment explaining why." in errors
    assert "Give the applicant a comment explaining why." in page_text(response)
    pending_co.refresh_from_db()
    assert pending_co.status == "pending"
    assert not EnterpriseStatusChange.objects.exists()
    assert mail.outbox == []


def test_an_unknown_decision_is_refused(reviewer_client, applicant, pending_co, django_capture_on_commit_callbacks):
    response = _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
                       decision="promote", comment="x", confirm="on")
    assert response.context["decision_form"].errors["decision"]
    pending_co.refresh_from_db()
    assert pending_co.status == "pending"


def test_returned_applicant_sees_the_comment_corrects_and_resubmits(
        reviewer_client, reviewer, applicant, pending_co, django_capture_on_commit_callbacks):
    comment = "营业执照副本不清晰，请重新上传"
    response = _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
                       decision="return", comment=comment, confirm="on")
    assert response.status_code == 302
    pending_co.refresh_from_db()
    assert (pending_co.status, pending_co.status_reason) == ("returned", comment)
    assert EnterpriseStatusChange.objects.get(enterprise=pending_co).action == "returned"
    messages = outbox_to("applicant@example.cn")
    assert len(messages) == 1 and comment in messages[0].body

    applicant_client = signed_in(applicant)
    status_page = applicant_client.get("/application/")
    assert comment in page_text(status_page)
    assert 'href="/application/edit/"' in status_page.content.decode()

    edit = applicant_client.get("/application/edit/")
    assert edit.status_code == 200
    assert comment in page_text(edit)
    response = applicant_client.post("/application/edit/", {
        **company_data(pending_co, address="厦门市湖里区8号"), "business_licence": pdf_upload(size=5)})
    assert redirect_path(response) == "/application/"
    pending_co.refresh_from_db()
    assert pending_co.status == "pending"
    assert pending_co.address == "厦门市湖里区8号"
    assert pending_co.status_reason == ""
    assert list(EnterpriseStatusChange.objects.filter(enterprise=pending_co).values_list("action", flat=True)) == [
        "resubmitted", "returned"]

    # the reviewer finds it among the pending applications again and can decide
    assert pending_co.name in names_listed(reviewer_client.get(LIST, {"status": "pending"}))
    assert 'name="decision"' in reviewer_client.get(detail(pending_co)).content.decode()


def test_rejected_applicant_sees_the_reason_and_cannot_resubmit(
        reviewer_client, applicant, pending_co, django_capture_on_commit_callbacks):
    _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
            decision="reject", comment="不具备回收资质", confirm="on")
    pending_co.refresh_from_db()
    assert pending_co.status == "rejected"
    assert len(outbox_to("applicant@example.cn")) == 1
    applicant_client = signed_in(applicant)
    status_page = applicant_client.get("/application/")
    assert "不具备回收资质" in page_text(status_page)
    assert "/application/edit/" not in status_page.content.decode()
    assert redirect_path(applicant_client.get("/application/edit/")) == "/application/"
    assert redirect_path(applicant_client.get("/enterprise/staff/")) == "/application/"


def test_deciding_twice_shows_why_and_changes_nothing(reviewer, admin_user, applicant, pending_co,
                                                     django_capture_on_commit_callbacks):
    """Two reviewers open the same application; the second decision arrives after the first."""
    first, second = signed_in(reviewer), signed_in(admin_user)
    _decide(first, pending_co, django_capture_on_commit_callbacks, decision="approve", confirm="on")
    response = _decide(second, pending_co, django_capture_on_commit_callbacks,
                       decision="reject", comment="too late", confirm="on")
    shown = second.get(redirect_path(response)) if response.status_code == 302 else response
    assert "not pending review" in page_text(shown)
    pending_co.refresh_from_db()
    assert pending_co.status == "active"
    assert EnterpriseStatusChange.objects.filter(enterprise=pending_co).count() == 1
    assert len(mail.outbox) == 1


def test_decision_form_is_not_offered_for_an_active_enterprise(reviewer_client, alice_co):
    html = reviewer_client.get(detail(alice_co)).content.decode()
    assert 'name="decision"' not in html
    assert 'name="reason"' in html


# --- suspension ----------------------------------------------------------------------------------------------------


def test_suspending_with_a_reason_locks_the_enterprise_out(reviewer_client, reviewer, alice, alice_co):
    alice_client = signed_in(alice)
    response = reviewer_client.post(detail(alice_co), {"reason": "连续三个月未报送", "confirm": "on"})
    assert redirect_path(response) == detail(alice_co)
    alice_co.refresh_from_db()
    assert (alice_co.status, alice_co.status_reason) == ("suspended", "连续三个月未报送")
    change = EnterpriseStatusChange.objects.get(enterprise=alice_co)
    assert (change.action, change.comment, change.actor) == ("suspended", "连续三个月未报送", reviewer)
    assert "连续三个月未报送" in page_text(reviewer_client.get(detail(alice_co)))

    assert redirect_path(alice_client.get("/dashboard/")).startswith("/accounts/login/")
    assert sign_in_with_form(Client(), "alice").status_code == 200


def test_suspension_needs_a_reason_and_the_confirm_checkbox(reviewer_client, alice_co):
    no_reason = reviewer_client.post(detail(alice_co), {"reason": "", "confirm": "on"})
    assert no_reason.status_code == 200
    assert no_reason.context["reason_form"].errors["reason"]
    no_confirm = reviewer_client.post(detail(alice_co), {"reason": "违规", })
    assert no_confirm.context["reason_form"].errors["confirm"]
    alice_co.refresh_from_db()
    assert alice_co.status == "active"
    assert not EnterpriseStatusChange.objects.exists()


def test_reinstating_a_suspended_enterprise_lets_its_staff_back_in(reviewer_client, admin_user, alice, alice_co):
    services.enterprise_suspend(actor=admin_user, enterprise=alice_co, reason="违规")
    page = reviewer_client.get(detail(alice_co, "/en"))
    assert "Reinstate this enterprise" in page_text(page)
    response = reviewer_client.post(detail(alice_co), {"reason": "已整改", "confirm": "on"})
    assert response.status_code == 302
    alice_co.refresh_from_db()
    assert (alice_co.status, alice_co.status_reason) == ("active", "")
    assert EnterpriseStatusChange.objects.filter(enterprise=alice_co).first().action == "reinstated"
    assert redirect_path(sign_in_with_form(Client(), "alice")) == "/dashboard/"


def test_a_pending_application_cannot_be_suspended(reviewer_client, pending_co):
    response = reviewer_client.post(detail(pending_co, "/en"), {"reason": "x", "confirm": "on"})
    shown = reviewer_client.get(redirect_path(response)) if response.status_code == 302 else response
    assert "Only an active enterprise can be suspended." in page_text(shown)
    pending_co.refresh_from_db()
    assert pending_co.status == "pending"


# --- manufacturer codes (admins only) ---------------------------------------------------------------------------


def test_admin_assigns_a_manufacturer_code_to_a_battery_maker(admin_user, alice_co):
    client = signed_in(admin_user)
    assert 'name="code"' in client.get(detail(alice_co)).content.decode()
    response = client.post(detail(alice_co), {"code": "a1b"})
    assert response.status_code == 302
    assert ManufacturerCode.objects.get(enterprise=alice_co).code == "A1B"
    assert "<code>A1B</code>" in client.get(detail(alice_co)).content.decode()


def test_a_taken_or_malformed_manufacturer_code_is_refused_on_the_form(admin_user, alice_co):
    other = EnterpriseFactory(roles=["battery_maker"])
    ManufacturerCode.objects.create(code="XYZ", enterprise=other)
    client = signed_in(admin_user)
    taken = client.post(detail(alice_co, "/en"), {"code": "XYZ"})
    assert "already assigned" in " ".join(taken.context["code_form"].errors["code"])
    bad = client.post(detail(alice_co, "/en"), {"code": "A-1"})
    assert "position 2" in " ".join(bad.context["code_form"].errors["code"])
    assert not ManufacturerCode.objects.filter(enterprise=alice_co).exists()


def test_reviewer_cannot_assign_manufacturer_codes(reviewer_client, alice_co):
    assert 'name="code"' not in reviewer_client.get(detail(alice_co)).content.decode()
    assert reviewer_client.post(detail(alice_co), {"code": "A1B"}).status_code == 403
    assert not ManufacturerCode.objects.exists()


# --- audit trail ------------------------------------------------------------------------------------------------------


def test_audit_trail_shows_the_enterprise_and_membership_events(
        reviewer_client, applicant, pending_co, bob, django_capture_on_commit_callbacks):
    _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks, decision="approve", confirm="on")
    response = reviewer_client.get(f"/review/enterprises/{pending_co.pk}/history/")
    assert response.status_code == 200
    events = list(response.context["page"].object_list)
    models = {e.pgh_model for e in events}
    assert "enterprises.EnterpriseEvent" in models
    assert "enterprises.MembershipEvent" in models
    membership = Membership.objects.get(user=applicant)
    assert any(e.pgh_model == "enterprises.MembershipEvent" and str(e.pgh_obj_id) == str(membership.pk)
               for e in events)
    # the approval is there, with what changed and who did it
    html = page_text(response)
    assert "pending → active" in html
    # nothing of another enterprise
    bob_membership = Membership.objects.get(user=bob)
    assert not any(e.pgh_model == "enterprises.MembershipEvent" and str(e.pgh_obj_id) == str(bob_membership.pk)
                   for e in events)
    assert bob.username not in html


# --- who may come here ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "alice_filer", "bob"])
def test_company_staff_get_403_on_review_pages(request, persona, alice_co):
    client = signed_in(request.getfixturevalue(persona))
    assert client.get(LIST).status_code == 403
    assert client.get(detail(alice_co)).status_code == 403
    assert client.get(f"/review/enterprises/{alice_co.pk}/history/").status_code == 403
    assert client.post(detail(alice_co), {"reason": "x", "confirm": "on"}).status_code == 403
    alice_co.refresh_from_db()
    assert alice_co.status == "active"


def test_anonymous_visitors_are_sent_to_sign_in_from_review_pages(anon, alice_co):
    for path in (LIST, detail(alice_co), f"/review/enterprises/{alice_co.pk}/history/"):
        assert_redirects_to_login(anon.get(path))
    assert_redirects_to_login(anon.post(detail(alice_co), {"reason": "x", "confirm": "on"}))
    alice_co.refresh_from_db()
    assert alice_co.status == "active"


def test_a_reviewers_comment_with_markup_is_refused_and_changes_nothing(
        reviewer_client, applicant, pending_co, django_capture_on_commit_callbacks):
    """The shared review workflow takes comments as plain text (ADR 0016): markup is refused on the form."""
    response = _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
                       decision="return", comment='<script>alert("x")</script>', confirm="on")
    assert response.status_code == 200
    assert "HTML markup is not accepted" in " ".join(response.context["decision_form"].errors["comment"])
    pending_co.refresh_from_db()
    assert pending_co.status == "pending"


def test_a_reviewers_comment_is_shown_escaped_to_the_applicant(
        reviewer_client, applicant, pending_co, django_capture_on_commit_callbacks):
    _decide(reviewer_client, pending_co, django_capture_on_commit_callbacks,
            decision="return", comment='Tom & "Jerry"', confirm="on")
    for response in (signed_in(applicant).get("/application/"), reviewer_client.get(detail(pending_co))):
        html = response.content.decode()
        assert "Tom &amp; &quot;Jerry&quot;" in html
        assert 'Tom & "Jerry"' not in html