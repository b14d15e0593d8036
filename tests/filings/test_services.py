"""The workflow services: each transition, each refusal (and that a refusal changes nothing), province scoping."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.core.errors import DomainError, NotFound
from apps.filings import services
from apps.filings.models import Filing, FilingComment, FilingTransition, MonthlyReport, Notification
from tests.filings.conftest import COUNTS, last_month

pytestmark = pytest.mark.django_db


def snapshot():
    return (Filing.objects.count(), MonthlyReport.objects.count(), FilingTransition.objects.count(),
            FilingComment.objects.count(), Notification.objects.count(),
            sorted(Filing.objects.values_list("pk", "status", "assigned_to_id")))


def refused(call, code, **kwargs):
    before = snapshot()
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value
    assert snapshot() == before
    return caught.value


# --- creating the monthly report --------------------------------------------------------------------------------


def test_it_creates_a_draft_with_its_due_date(alice, settings):
    settings.FILINGS_MONTHLY_REPORT_DUE_DAY = 12
    filing = services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)
    assert filing.status == "draft" and filing.province == "35" and filing.period == last_month()
    next_month = (last_month() + dt.timedelta(days=32)).replace(day=12)
    assert filing.due_date == next_month
    assert filing.monthly_report.counts() == COUNTS


@pytest.mark.parametrize("field,value,code", [
    ("produced", -1, "count_invalid"), ("installed", 2.5, "count_invalid"), ("received", "abc", "count_invalid"),
])
def test_it_refuses_bad_counts(alice, field, value, code):
    error = refused(services.monthly_report_create, code, actor=alice, month=last_month(),
                    counts={**COUNTS, field: value})
    assert error.field == field


def test_it_refuses_a_future_month(alice):
    future = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    refused(services.monthly_report_create, "report_month_in_future", actor=alice, month=future, counts=COUNTS)


def test_it_refuses_a_second_report_for_the_month(alice, submitted):
    error = refused(services.monthly_report_create, "report_month_duplicate", actor=alice, month=last_month(),
                    counts=COUNTS)
    assert str(submitted.pk) in str(error.message)


def test_it_refuses_a_month_already_approved(alice, reviewer, in_review):
    services.filing_approve(actor=reviewer, filing_id=in_review.pk)
    refused(services.monthly_report_create, "report_month_approved", actor=alice, month=last_month(), counts=COUNTS)


def test_a_rejected_month_may_be_filed_again(alice, reviewer, in_review):
    services.filing_reject(actor=reviewer, filing_id=in_review.pk, comment="数字全错")
    again = services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)
    assert again.pk != in_review.pk


def test_a_reviewer_cannot_file_a_report(reviewer):
    refused(services.monthly_report_create, "permission_denied", actor=reviewer, month=last_month(), counts=COUNTS)


def test_update_changes_a_draft_but_not_a_submitted_report(alice, draft):
    services.monthly_report_update(actor=alice, filing_id=draft.pk, counts={**COUNTS, "produced": 7})
    assert MonthlyReport.objects.get(pk=draft.pk).produced == 7
    services.filing_submit(actor=alice, filing_id=draft.pk)
    refused(services.monthly_report_update, "filing_not_editable", actor=alice, filing_id=draft.pk, counts=COUNTS)
    assert MonthlyReport.objects.get(pk=draft.pk).produced == 7


# --- the workflow ---------------------------------------------------------------------------------------------


def test_the_whole_round_submit_claim_return_resubmit_assign_approve(alice, reviewer, reviewer_fj, draft):
    services.filing_submit(actor=alice, filing_id=draft.pk)
    services.filing_claim(actor=reviewer, filing_id=draft.pk)
    services.filing_return(actor=reviewer, filing_id=draft.pk, comment="请核对装车数量")
    assert Filing.objects.get(pk=draft.pk).status == "returned"
    services.monthly_report_update(actor=alice, filing_id=draft.pk, counts={**COUNTS, "installed": 81})
    services.filing_resubmit(actor=alice, filing_id=draft.pk, comment="已更正")
    filing = Filing.objects.get(pk=draft.pk)
    assert filing.status == "resubmitted" and filing.assigned_to is None
    services.filing_assign(actor=reviewer, filing_id=draft.pk, reviewer_id=reviewer_fj.pk)
    services.filing_approve(actor=reviewer_fj, filing_id=draft.pk, comment="")
    filing = Filing.objects.get(pk=draft.pk)
    assert filing.status == "approved" and filing.decided_by == reviewer_fj
    history = list(FilingTransition.objects.filter(filing=filing).values_list("from_status", "to_status", "actor"))
    assert history == [("draft", "submitted", alice.pk), ("submitted", "in_review", reviewer.pk),
                       ("in_review", "returned", reviewer.pk), ("returned", "resubmitted", alice.pk),
                       ("resubmitted", "in_review", reviewer.pk), ("in_review", "approved", reviewer_fj.pk)]
    assert FilingTransition.objects.get(filing=filing, to_status="returned").comment == "请核对装车数量"
    assert list(Notification.objects.filter(enterprise=alice.enterprise).values_list("kind", flat=True)) == [
        "approved", "returned"]


def test_decisions_are_e_mailed_on_commit(alice, reviewer, in_review, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.filing_return(actor=reviewer, filing_id=in_review.pk, comment="请补充")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [alice.email]
    assert "请补充" in mail.outbox[0].body


@pytest.mark.parametrize("decide", [services.filing_reject, services.filing_return])
def test_reject_and_return_need_a_comment(reviewer, in_review, decide):
    refused(decide, "comment_required", actor=reviewer, filing_id=in_review.pk, comment="  ")


def test_a_decision_needs_confirmation(reviewer, in_review):
    refused(services.filing_approve, "confirmation_required", actor=reviewer, filing_id=in_review.pk,
            confirmed=False)


def test_only_the_assigned_reviewer_decides(reviewer_fj, in_review):
    refused(services.filing_approve, "filing_not_assigned_to_you", actor=reviewer_fj, filing_id=in_review.pk)


def test_an_admin_may_decide_a_filing_in_review(admin_user, in_review):
    services.filing_approve(actor=admin_user, filing_id=in_review.pk)
    assert Filing.objects.get(pk=in_review.pk).status == "approved"


def test_a_claimed_filing_cannot_be_claimed_again(reviewer_fj, in_review):
    refused(services.filing_claim, "filing_transition_not_allowed", actor=reviewer_fj, filing_id=in_review.pk)


def test_nothing_is_decided_before_it_is_claimed(reviewer, submitted):
    refused(services.filing_approve, "filing_transition_not_allowed", actor=reviewer, filing_id=submitted.pk)


def test_an_approved_filing_is_final(alice, reviewer, in_review):
    services.filing_approve(actor=reviewer, filing_id=in_review.pk)
    refused(services.filing_return, "filing_transition_not_allowed", actor=reviewer, filing_id=in_review.pk,
            comment="x")
    refused(services.filing_resubmit, "filing_transition_not_allowed", actor=alice, filing_id=in_review.pk)


def test_company_staff_cannot_claim_their_own_filing(alice, submitted):
    refused(services.filing_claim, "permission_denied", actor=alice, filing_id=submitted.pk)


def test_a_draft_is_invisible_to_reviewers(reviewer, draft):
    refused(services.filing_claim, "not_found", actor=reviewer, filing_id=draft.pk)


def test_assign_needs_a_reviewer_of_the_province(reviewer, reviewer_gd, alice, submitted):
    refused(services.filing_assign, "assignee_invalid", actor=reviewer, filing_id=submitted.pk,
            reviewer_id=reviewer_gd.pk)
    refused(services.filing_assign, "assignee_invalid", actor=reviewer, filing_id=submitted.pk, reviewer_id=alice.pk)
    refused(services.filing_assign, "assignee_invalid", actor=reviewer, filing_id=submitted.pk, reviewer_id="x")


# --- scoping --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call,kwargs", [
    (services.filing_claim, {}),
    (services.filing_approve, {}),
    (services.filing_return, {"comment": "x"}),
    (services.filing_comment_add, {"body": "hello"}),
])
def test_a_reviewer_outside_the_province_finds_nothing(reviewer_gd, submitted, call, kwargs):
    with pytest.raises(NotFound):
        call(actor=reviewer_gd, filing_id=submitted.pk, **kwargs)
    assert Filing.objects.get(pk=submitted.pk).status == "submitted"


def test_another_enterprise_finds_nothing(bob, draft):
    before = snapshot()
    for call, kwargs in ((services.filing_submit, {}), (services.monthly_report_update, {"counts": COUNTS}),
                         (services.filing_comment_add, {"body": "hi"})):
        with pytest.raises(NotFound):
            call(actor=bob, filing_id=draft.pk, **kwargs)
    assert snapshot() == before


def test_the_provincial_reviewer_acts_in_their_province(reviewer_fj, submitted):
    services.filing_claim(actor=reviewer_fj, filing_id=submitted.pk)
    assert Filing.objects.get(pk=submitted.pk).assigned_to == reviewer_fj


# --- comments -------------------------------------------------------------------------------------------------


def test_comments_with_a_pdf_attachment(alice, reviewer, submitted):
    pdf = SimpleUploadedFile("说明.pdf", b"%PDF-1.4\nbody\n%%EOF\n", content_type="application/pdf")
    comment = services.filing_comment_add(actor=alice, filing_id=submitted.pk, body="见附件", attachment=pdf)
    assert comment.attachment.name.endswith(".pdf") and comment.attachment_name == "说明.pdf"
    assert not Notification.objects.exists()  # the enterprise is not told about its own comment
    services.filing_comment_add(actor=reviewer, filing_id=submitted.pk, body="收到")
    assert Notification.objects.get().kind == "comment"


def test_an_attachment_is_judged_by_its_content(alice, submitted):
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    refused(services.filing_comment_add, "attachment_invalid", actor=alice, filing_id=submitted.pk, body="x",
            attachment=fake)


def test_an_empty_comment_is_refused(alice, submitted):
    refused(services.filing_comment_add, "comment_required", actor=alice, filing_id=submitted.pk, body=" ")


def test_only_a_filing_about_something_taken_back_can_be_withdrawn(alice, submitted):
    """The *withdraw* transition exists for kinds in rules.WITHDRAWABLE_KINDS (a scrapping mismatch decision, closed
    when its intake is withdrawn); a monthly report once filed stays for the reviewer's decision."""
    from apps.filings.services import filing_withdraw_with_subject

    with pytest.raises(DomainError) as err:
        filing_withdraw_with_subject(actor=alice, filing=submitted, comment="x")
    assert err.value.code == "filing_transition_not_allowed"
    submitted.refresh_from_db()
    assert (submitted.status, submitted.transitions.count()) == ("submitted", 1)
