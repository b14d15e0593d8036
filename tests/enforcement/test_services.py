"""The enforcement workflow through its services: every transition, four eyes, the fine amount rules, evidence
of another enterprise refused, the province scope, and the audit trail."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.errors import DomainError, NotFound
from apps.enforcement import rules, services
from apps.enforcement.models import ActionTransition, EnforcementAction, EvidenceEvent
from apps.filings.models import Notification
from tests.enforcement.conftest import ALICE_CODE, draft_args, in_days
from tests.factories import pdf_upload

pytestmark = pytest.mark.django_db


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, str(caught.value))
    return caught.value


# --- the whole round ----------------------------------------------------------------------------------------------


def test_a_fine_goes_from_draft_to_closure_with_a_transition_for_every_step(
        reviewer, reviewer_fj, alice, alice_co, alice_events, alice_discrepancy, django_capture_on_commit_callbacks,
        mailoutbox):
    action = services.enforcement_action_create(
        actor=reviewer, **draft_args(alice_co, kind="fine", amount="50000.50"), event_ids=alice_events,
        discrepancy_ids=[alice_discrepancy.pk])
    assert action.status == "draft" and action.amount == Decimal("50000.50") and action.province == "35"
    assert action.evidence_events.count() == len(alice_events) and action.evidence_discrepancies.count() == 1
    services.enforcement_action_submit(actor=reviewer, action_id=action.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.enforcement_action_approve(actor=reviewer_fj, action_id=action.pk, comment="同意")
    action.refresh_from_db()
    assert action.status == "issued" and action.approved_by == reviewer_fj and action.issued_at
    assert Notification.objects.get(enterprise=alice_co).kind == "action_issued"
    assert len(mailoutbox) == 1
    services.enforcement_action_answer(actor=alice, action_id=action.pk, text="已补报并缴纳罚款",
                                       attachment=pdf_upload("receipt.pdf"))
    action.refresh_from_db()
    assert action.status == "answered" and action.answered_by == alice and action.answer_attachment_name == "receipt.pdf"
    services.enforcement_action_close(actor=reviewer, action_id=action.pk, outcome="complied", comment="已核实")
    action.refresh_from_db()
    assert action.status == "closed" and action.outcome == "complied" and action.closed_by == reviewer
    steps = list(ActionTransition.objects.filter(action=action).values_list("verb", "from_status", "to_status",
                                                                             "actor__username"))
    assert steps == [("draft", "draft", "draft", "rita"), ("submit", "draft", "awaiting_approval", "rita"),
                     ("approve", "awaiting_approval", "issued", "fj_rita"), ("answer", "issued", "answered", "alice"),
                     ("close", "answered", "closed", "rita")]
    assert Notification.objects.filter(enterprise=alice_co, kind="action_closed").exists()


def test_the_second_reviewer_returns_it_and_the_drafter_corrects_and_resubmits(reviewer, reviewer_fj, awaiting,
                                                                               alice_co, alice_events):
    refused("comment_required", services.enforcement_action_refuse, actor=reviewer_fj, action_id=awaiting.pk,
            comment=" ")
    services.enforcement_action_refuse(actor=reviewer_fj, action_id=awaiting.pk, comment="事实不清")
    assert EnforcementAction.objects.get().status == "returned"
    services.enforcement_action_update(actor=reviewer, action_id=awaiting.pk, event_ids=alice_events,
                                       **{k: v for k, v in draft_args(alice_co, facts="补充事实").items()
                                          if k != "enterprise_id"})
    services.enforcement_action_submit(actor=reviewer, action_id=awaiting.pk)
    assert EnforcementAction.objects.get().status == "awaiting_approval"
    assert EnforcementAction.objects.get().facts == "补充事实"


def test_an_issued_action_without_an_answer_is_closed_as_not_complied(reviewer, issued):
    refused("comment_required", services.enforcement_action_close, actor=reviewer, action_id=issued.pk,
            outcome="not_complied", comment="")
    refused("outcome_required", services.enforcement_action_close, actor=reviewer, action_id=issued.pk,
            outcome="maybe", comment="逾期未答复")
    services.enforcement_action_close(actor=reviewer, action_id=issued.pk, outcome="not_complied", comment="逾期未答复")
    assert EnforcementAction.objects.get().status == "closed"


# --- four eyes ----------------------------------------------------------------------------------------------------


def test_the_drafter_cannot_approve_their_own_action(reviewer, awaiting):
    error = refused("four_eyes_required", services.enforcement_action_approve, actor=reviewer, action_id=awaiting.pk)
    assert "four eyes" in str(error) or "四眼" in str(error)
    assert EnforcementAction.objects.get().status == "awaiting_approval"
    assert not ActionTransition.objects.filter(verb="approve").exists()


def test_the_drafter_cannot_return_their_own_action_either(reviewer, awaiting):
    refused("four_eyes_required", services.enforcement_action_refuse, actor=reviewer, action_id=awaiting.pk,
            comment="x")


def test_an_admin_who_drafted_cannot_approve_either(admin_user, reviewer, alice_co, alice_events):
    action = services.enforcement_action_create(actor=admin_user, **draft_args(alice_co))
    services.enforcement_action_submit(actor=admin_user, action_id=action.pk)
    refused("four_eyes_required", services.enforcement_action_approve, actor=admin_user, action_id=action.pk)
    services.enforcement_action_approve(actor=reviewer, action_id=action.pk)
    assert EnforcementAction.objects.get().status == "issued"


def test_a_draft_is_not_approved_before_it_is_submitted(reviewer_fj, draft):
    refused("enforcement_transition_not_allowed", services.enforcement_action_approve, actor=reviewer_fj,
            action_id=draft.pk)


def test_only_the_drafter_submits_or_changes_a_draft(reviewer_fj, draft, alice_co):
    refused("not_the_drafter", services.enforcement_action_submit, actor=reviewer_fj, action_id=draft.pk)
    refused("not_the_drafter", services.enforcement_action_update, actor=reviewer_fj, action_id=draft.pk,
            **{k: v for k, v in draft_args(alice_co).items() if k != "enterprise_id"})


def test_approval_needs_the_confirmation(reviewer_fj, awaiting):
    refused("confirmation_required", services.enforcement_action_approve, actor=reviewer_fj, action_id=awaiting.pk,
            confirmed=False)


def test_an_issued_action_is_no_longer_editable(reviewer, issued, alice_co):
    refused("enforcement_not_editable", services.enforcement_action_update, actor=reviewer, action_id=issued.pk,
            **{k: v for k, v in draft_args(alice_co).items() if k != "enterprise_id"})


def test_the_four_eyes_rule_is_pure():
    assert rules.four_eyes_problem(drafter_id=1, approver_id=1) == "same_person"
    assert rules.four_eyes_problem(drafter_id=1, approver_id=2) is None


# --- amounts, text, deadline ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,amount,problem", [
    ("fine", None, "required"), ("fine", "", "required"), ("fine", "0", "not_positive"),
    ("fine", "-5", "not_positive"), ("fine", "12.345", "too_precise"), ("fine", "abc", "not_a_number"),
    ("fine", "NaN", "not_a_number"), ("fine", "100000001", "too_large"), ("warning", "500", "not_for_this_kind"),
    ("order_to_correct", 1, "not_for_this_kind"), ("fine", "0.01", None), ("fine", 50000, None),
    ("warning", None, None),
])
def test_amount_rules(kind, amount, problem):
    assert rules.amount_problem(kind, amount) == problem


@pytest.mark.parametrize("overrides,code,field", [
    ({"kind": "fine"}, "amount_invalid", "amount"),
    ({"kind": "fine", "amount": "0"}, "amount_invalid", "amount"),
    ({"kind": "warning", "amount": "100"}, "amount_invalid", "amount"),
    ({"kind": "ban"}, "invalid", "kind"),
    ({"facts": "  "}, "text_required", "facts"),
    ({"legal_basis": ""}, "text_required", "legal_basis"),
    ({"facts": "<script>x</script>"}, "markup_not_allowed", "facts"),
    ({"deadline": in_days(-1)}, "action_deadline_invalid", "deadline"),
    ({"deadline": "tomorrow"}, "action_deadline_invalid", "deadline"),
])
def test_bad_drafts_are_refused_with_the_field_and_nothing_is_saved(reviewer, alice_co, overrides, code, field):
    error = refused(code, services.enforcement_action_create, actor=reviewer, **draft_args(alice_co, **overrides))
    assert error.field == field
    assert not EnforcementAction.objects.exists()


# --- evidence ------------------------------------------------------------------------------------------------------


def test_evidence_by_battery_code_links_that_batterys_events_by_the_enterprise(reviewer, alice_co, alice_events):
    action = services.enforcement_action_create(actor=reviewer, battery_codes=ALICE_CODE.lower(),
                                                **draft_args(alice_co))
    assert sorted(EvidenceEvent.objects.filter(action=action).values_list("event_id", flat=True)) == alice_events


def test_evidence_of_another_enterprise_is_refused(reviewer, alice_co, alice_events, bob_events, bob_co):
    from tests.enforcement.conftest import make_discrepancy

    error = refused("evidence_invalid", services.enforcement_action_create, actor=reviewer,
                    event_ids=[alice_events[0], bob_events[0]], **draft_args(alice_co))
    assert error.field == "event_ids" and str(bob_events[0]) in str(error)
    refused("evidence_invalid", services.enforcement_action_create, actor=reviewer,
            discrepancy_ids=[make_discrepancy(bob_co).pk], **draft_args(alice_co))
    from apps.filings import services as filing_services
    from tests.filings.conftest import last_month

    bob_filing = filing_services.monthly_report_create(actor=bob_co.memberships.first().user, month=last_month(),
                                                       counts={"produced": 1})
    filing_services.filing_submit(actor=bob_co.memberships.first().user, filing_id=bob_filing.pk)
    refused("evidence_invalid", services.enforcement_action_create, actor=reviewer, filing_ids=str(bob_filing.pk),
            **draft_args(alice_co))
    refused("evidence_invalid", services.enforcement_action_create, actor=reviewer, battery_codes=[BOB_CODE()],
            **draft_args(alice_co))
    assert not EnforcementAction.objects.exists()


def BOB_CODE():
    from tests.enforcement.conftest import BOB_CODE as code

    return code


@pytest.mark.parametrize("field,value", [("event_ids", "12, x"), ("event_ids", [999999999]),
                                         ("filing_ids", "999999"), ("discrepancy_ids", [999999]),
                                         ("battery_codes", "NOSUCHCODE")])
def test_unknown_evidence_is_refused_on_its_field(reviewer, alice_co, alice_events, field, value):
    error = refused("evidence_invalid", services.enforcement_action_create, actor=reviewer, **{field: value},
                    **draft_args(alice_co))
    assert error.field == field


def test_rules_parse_typed_ids():
    assert rules.parse_ids("3, 4，5 3\n6") == ([3, 4, 5, 6], [])
    assert rules.parse_ids("3 a") == ([3], ["a"])


# --- scope --------------------------------------------------------------------------------------------------------


def test_a_reviewer_outside_the_province_can_neither_draft_nor_act(reviewer_gd, alice_co, awaiting):
    error = refused("not_found", services.enforcement_action_create, actor=reviewer_gd, **draft_args(alice_co))
    assert error.field == "enterprise"
    with pytest.raises(NotFound):
        services.enforcement_action_approve(actor=reviewer_gd, action_id=awaiting.pk)
    assert EnforcementAction.objects.get().status == "awaiting_approval"


def test_an_enterprise_never_sees_a_draft_or_another_enterprises_action(alice, bob, reviewer_fj, awaiting):
    assert not EnforcementAction.objects.visible_to(alice).exists()
    services.enforcement_action_approve(actor=reviewer_fj, action_id=awaiting.pk)
    assert EnforcementAction.objects.visible_to(alice).count() == 1
    assert not EnforcementAction.objects.visible_to(bob).exists()
    with pytest.raises(NotFound):
        services.enforcement_action_answer(actor=bob, action_id=awaiting.pk, text="不是我们")


def test_an_enterprise_cannot_answer_a_draft_and_a_reviewer_cannot_answer(alice, reviewer, reviewer_fj, draft):
    with pytest.raises(NotFound):
        services.enforcement_action_answer(actor=alice, action_id=draft.pk, text="x")
    services.enforcement_action_submit(actor=reviewer, action_id=draft.pk)
    services.enforcement_action_approve(actor=reviewer_fj, action_id=draft.pk)
    refused("permission_denied", services.enforcement_action_answer, actor=reviewer, action_id=draft.pk, text="x")


def test_an_answer_needs_text_and_its_attachment_must_be_a_pdf(alice, issued):
    refused("text_required", services.enforcement_action_answer, actor=alice, action_id=issued.pk, text=" ")
    fake = SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    refused("file_not_pdf", services.enforcement_action_answer, actor=alice, action_id=issued.pk, text="已整改",
            attachment=fake)
    assert EnforcementAction.objects.get().status == "issued"
    services.enforcement_action_answer(actor=alice, action_id=issued.pk, text="已整改")
    refused("enforcement_transition_not_allowed", services.enforcement_action_answer, actor=alice,
            action_id=issued.pk, text="再答一次")


def test_the_database_refuses_an_approval_by_the_drafter_too(issued, reviewer):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        EnforcementAction.objects.filter(pk=issued.pk).update(approved_by=reviewer)


def test_the_database_refuses_an_amount_on_a_warning(draft):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        EnforcementAction.objects.filter(pk=draft.pk).update(amount=Decimal("5"))


def test_an_issued_action_is_overdue_after_its_deadline_until_answered():
    import datetime as dt

    day = dt.date(2026, 5, 1)
    assert not rules.is_overdue(status="issued", deadline=day, today=day)
    assert rules.is_overdue(status="issued", deadline=day, today=day + dt.timedelta(days=1))
    assert not rules.is_overdue(status="answered", deadline=day, today=day + dt.timedelta(days=1))
