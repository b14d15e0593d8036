"""Explanations through the services: an enterprise answers its own discrepancy or blocked intake; the
discrepancy follows the filing (open → explained → resolved, or back to open); another's is "not found"."""
from __future__ import annotations

import pytest

from apps.core.errors import DomainError
from apps.filings import explanation_services, services
from apps.filings.models import Explanation, Filing
from apps.reconciliation.models import Discrepancy
from tests.filings.explanation_setup import (  # noqa: F401 — fixtures
    alice_discrepancy,
    blocked_intake,
    bob_discrepancy,
    carmaker,
    dismantler,
    maker,
    maker_co,
    make_discrepancy,
    nev,
)

pytestmark = pytest.mark.django_db


def refused(call, code: str, field: str | None = None) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.code == code, info.value.message
    if field is not None:
        assert info.value.field == field
    return info.value


def status_of(discrepancy) -> str:
    return Discrepancy.objects.get(pk=discrepancy.pk).status


def explain(actor, discrepancy, text="二号产线扫码枪故障，两包未上传，已补录"):
    return explanation_services.explanation_create(actor=actor, discrepancy_id=discrepancy.pk, text=text)


def test_submit_return_resubmit_approve_resolves_the_discrepancy(alice, reviewer, alice_discrepancy):
    filing = explain(alice, alice_discrepancy)
    assert filing.kind == "explanation" and filing.status == "draft"
    assert status_of(alice_discrepancy) == "open"  # a draft explains nothing yet
    services.filing_submit(actor=alice, filing_id=filing.pk)
    assert status_of(alice_discrepancy) == "explained"
    services.filing_claim(actor=reviewer, filing_id=filing.pk)
    services.filing_return(actor=reviewer, filing_id=filing.pk, comment="请附补录记录")
    assert status_of(alice_discrepancy) == "explained"
    explanation_services.explanation_update(actor=alice, filing_id=filing.pk, text="已补录，见附件")
    services.filing_resubmit(actor=alice, filing_id=filing.pk)
    services.filing_claim(actor=reviewer, filing_id=filing.pk)
    services.filing_approve(actor=reviewer, filing_id=filing.pk)
    discrepancy = Discrepancy.objects.get(pk=alice_discrepancy.pk)
    assert discrepancy.status == "resolved" and discrepancy.closed_at is not None
    assert Explanation.objects.get(filing=filing).text == "已补录，见附件"


def test_a_rejected_explanation_reopens_the_discrepancy_and_a_new_one_may_be_filed(alice, reviewer,
                                                                                    alice_discrepancy):
    filing = explain(alice, alice_discrepancy)
    services.filing_submit(actor=alice, filing_id=filing.pk)
    services.filing_claim(actor=reviewer, filing_id=filing.pk)
    services.filing_reject(actor=reviewer, filing_id=filing.pk, comment="理由不成立")
    assert status_of(alice_discrepancy) == "open"
    assert explain(alice, alice_discrepancy).pk != filing.pk


def test_one_live_explanation_per_discrepancy(alice, alice_discrepancy):
    first = explain(alice, alice_discrepancy)
    error = refused(lambda: explain(alice, alice_discrepancy), "explanation_already_filed", "discrepancy")
    assert str(first.pk) in str(error.message)
    assert Filing.objects.count() == 1


def test_two_discrepancies_of_one_month_may_both_be_explained(alice, alice_co, alice_discrepancy):
    other = make_discrepancy(alice_co, figure="installed")
    explain(alice, alice_discrepancy)
    explain(alice, other)
    assert Filing.objects.filter(kind="explanation").count() == 2


def test_a_resolved_or_escalated_discrepancy_is_not_explained(alice, alice_co):
    for status in ("resolved", "escalated"):
        discrepancy = make_discrepancy(alice_co, status=status)
        refused(lambda: explain(alice, discrepancy), "explanation_subject_invalid", "discrepancy")
        discrepancy.delete()


def test_explaining_another_enterprises_discrepancy_is_not_found(alice, bob, bob_discrepancy, alice_discrepancy):
    refused(lambda: explain(alice, bob_discrepancy), "not_found")
    refused(lambda: explanation_services.explanation_create(actor=alice, discrepancy_id=999999, text="x"),
            "not_found")
    filing = explain(alice, alice_discrepancy)
    refused(lambda: explanation_services.explanation_update(actor=bob, filing_id=filing.pk, text="x"), "not_found")
    assert Filing.objects.count() == 1


def test_exactly_one_subject_and_some_text(alice, alice_discrepancy, blocked_intake):
    refused(lambda: explanation_services.explanation_create(actor=alice, text="x"), "explanation_subject_invalid")
    refused(lambda: explanation_services.explanation_create(actor=alice, discrepancy_id=alice_discrepancy.pk,
                                                            intake_id=blocked_intake.pk, text="x"),
            "explanation_subject_invalid")
    refused(lambda: explain(alice, alice_discrepancy, text="   "), "explanation_text_required", "text")
    assert not Filing.objects.exists()


def test_a_dismantler_explains_its_blocked_intake(dismantler, reviewer, blocked_intake):
    filing = explanation_services.explanation_create(actor=dismantler, intake_id=blocked_intake.pk,
                                                     text="车主自行拆除电池包，已报警")
    services.filing_submit(actor=dismantler, filing_id=filing.pk)
    assert blocked_intake.explanations.exclude(filing__status="rejected").count() == 1
    services.filing_claim(actor=reviewer, filing_id=filing.pk)
    assert services.filing_approve(actor=reviewer, filing_id=filing.pk).status == "approved"
    refused(lambda: explanation_services.explanation_create(actor=dismantler, intake_id=blocked_intake.pk,
                                                            text="again"), "explanation_already_filed", "intake")


def test_explaining_another_enterprises_intake_is_not_found(alice, blocked_intake):
    refused(lambda: explanation_services.explanation_create(actor=alice, intake_id=blocked_intake.pk, text="x"),
            "not_found")


def test_an_intake_that_is_not_blocked_is_not_explained_here(dismantler, blocked_intake):
    from apps.scrapping.models import ScrappingIntake

    ScrappingIntake.objects.filter(pk=blocked_intake.pk).update(status="withdrawn")
    refused(lambda: explanation_services.explanation_create(actor=dismantler, intake_id=blocked_intake.pk,
                                                            text="x"), "explanation_subject_invalid", "intake")


def test_a_rerun_keeps_an_explained_discrepancy_and_one_resolved_by_its_explanation(alice, reviewer,
                                                                                     alice_discrepancy):
    """The run's upsert: found again, an explained discrepancy stays explained; one resolved by an approved
    explanation stays resolved while its figures are the ones explained, and reopens when they change."""
    from django.db import connection
    from django.utils import timezone

    from apps.reconciliation.services import EXPLANATION_ACCEPTED, UPSERT

    def found_again(found):
        check = ("SELECT %(enterprise)s::bigint AS enterprise_id, %(period)s::date AS period, 'produced' AS figure,"
                 " '' AS subject, 120::bigint AS expected, " + str(found) + "::bigint AS found, 'medium' AS severity,"
                 " ARRAY[]::varchar[] AS codes, 0 AS code_count")
        with connection.cursor() as cursor:
            cursor.execute(UPSERT.format(check=check, explained=EXPLANATION_ACCEPTED),
                           {"kind": "reported_vs_ledger", "now": timezone.now(), "enterprise": alice_discrepancy
                            .enterprise_id, "period": alice_discrepancy.period})
        return status_of(alice_discrepancy)

    filing = explain(alice, alice_discrepancy)
    services.filing_submit(actor=alice, filing_id=filing.pk)
    assert found_again(118) == "explained"
    services.filing_claim(actor=reviewer, filing_id=filing.pk)
    services.filing_approve(actor=reviewer, filing_id=filing.pk)
    assert found_again(118) == "resolved"
    assert found_again(110) == "open"
