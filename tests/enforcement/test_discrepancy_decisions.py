"""The reviewer's side of a discrepancy: resolve it with a comment, or escalate it to a draft enforcement action
with the discrepancy as evidence; each decision recorded; outsiders and closed discrepancies refused."""
from __future__ import annotations

import pytest

from apps.core.errors import DomainError, NotFound
from apps.enforcement import services as enforcement_services
from apps.enforcement.models import DiscrepancyDecision, EnforcementAction
from apps.reconciliation.models import Discrepancy
from apps.reconciliation.services import discrepancy_escalate, discrepancy_review_resolve

pytestmark = pytest.mark.django_db


def test_a_reviewer_resolves_a_discrepancy_with_a_comment(reviewer, alice_discrepancy):
    with pytest.raises(DomainError) as caught:
        discrepancy_review_resolve(actor=reviewer, discrepancy_id=alice_discrepancy.pk, comment="  ")
    assert caught.value.code == "comment_required"
    assert Discrepancy.objects.get().status == "open"
    discrepancy_review_resolve(actor=reviewer, discrepancy_id=alice_discrepancy.pk, comment="系统重复上报，已核实")
    d = Discrepancy.objects.get()
    assert d.status == "resolved" and d.closed_at
    decision = DiscrepancyDecision.objects.get()
    assert (decision.decision, decision.from_status, decision.to_status, decision.actor) == (
        "resolve", "open", "resolved", reviewer)


def test_escalation_drafts_an_action_with_the_discrepancy_as_evidence(reviewer, reviewer_fj, alice_discrepancy,
                                                                      alice_co):
    action = discrepancy_escalate(actor=reviewer, discrepancy_id=alice_discrepancy.pk, comment="多次少报")
    assert Discrepancy.objects.get().status == "escalated"
    assert action.status == "draft" and action.enterprise == alice_co and action.created_by == reviewer
    assert list(action.evidence_discrepancies.values_list("discrepancy_id", flat=True)) == [alice_discrepancy.pk]
    assert "多次少报" in action.facts
    assert DiscrepancyDecision.objects.get().action == action
    # the draft then goes through four eyes like any other
    enforcement_services.enforcement_action_submit(actor=reviewer, action_id=action.pk)
    enforcement_services.enforcement_action_approve(actor=reviewer_fj, action_id=action.pk)
    assert EnforcementAction.objects.get().status == "issued"


def test_an_escalated_or_resolved_discrepancy_is_not_decided_again(reviewer, alice_discrepancy):
    discrepancy_escalate(actor=reviewer, discrepancy_id=alice_discrepancy.pk)
    with pytest.raises(DomainError) as caught:
        discrepancy_review_resolve(actor=reviewer, discrepancy_id=alice_discrepancy.pk, comment="x")
    assert caught.value.code == "discrepancy_transition_not_allowed"
    with pytest.raises(DomainError):
        discrepancy_escalate(actor=reviewer, discrepancy_id=alice_discrepancy.pk)
    assert EnforcementAction.objects.count() == 1


def test_an_explained_discrepancy_can_be_resolved(reviewer, alice_discrepancy):
    Discrepancy.objects.filter(pk=alice_discrepancy.pk).update(status="explained")
    discrepancy_review_resolve(actor=reviewer, discrepancy_id=alice_discrepancy.pk, comment="说明合理")
    assert Discrepancy.objects.get().status == "resolved"


def test_outsiders_cannot_decide(reviewer_gd, alice, alice_discrepancy):
    with pytest.raises(NotFound):
        discrepancy_escalate(actor=reviewer_gd, discrepancy_id=alice_discrepancy.pk)
    with pytest.raises(DomainError) as caught:
        discrepancy_review_resolve(actor=alice, discrepancy_id=alice_discrepancy.pk, comment="我们自己关闭")
    assert caught.value.status == 403
    assert Discrepancy.objects.get().status == "open" and not EnforcementAction.objects.exists()
