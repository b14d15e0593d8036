"""Recovery (utilization) reports through the services: who may file, bad weights, the flags, one report per
month, and the whole round submit → return → resubmit → approve."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import DomainError
from apps.filings import kind_selectors, recovery_services, services
from apps.filings.models import ChemistryComposition, Filing, RecoveryInput, RecoveryReport
from tests.batteries.conftest import maker, maker_co  # noqa: F401 — fixtures
from tests.filings.recovery_setup import (  # noqa: F401 — fixtures
    GOOD_OUTPUTS,
    INPUTS,
    LOW_OUTPUTS,
    carol,
    dave,
    last_month,
    recovery_draft,
    recycler_co,
)

pytestmark = pytest.mark.django_db


def refused(call, code: str, field: str | None = None) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.code == code, info.value.message
    if field is not None:
        assert info.value.field == field
    return info.value


def nothing_saved():
    return (Filing.objects.count(), RecoveryReport.objects.count(), RecoveryInput.objects.count())


def test_the_composition_table_is_seeded_for_every_chemistry():
    from apps.core.choices import Chemistry

    assert set(ChemistryComposition.objects.values_list("chemistry", flat=True)) == set(Chemistry.values)
    ternary = ChemistryComposition.objects.get(chemistry="E")
    assert ternary.nickel == Decimal("0.0760") and ternary.lithium == Decimal("0.0150")


def test_a_report_below_threshold_is_flagged_and_its_table_says_which_metal(recovery_draft):
    assert recovery_draft.flags == ["below_threshold"]
    rows = {r.metal: r for r in kind_selectors.recovery_assessment(recovery_draft)}
    assert rows["ni"].expected == Decimal("76") and rows["ni"].below_threshold
    assert rows["ni"].rate_percent == Decimal("97.37")
    assert rows["li"].expected == Decimal("35") and not rows["li"].below_threshold
    assert not any(r.impossible for r in rows.values())
    assert recovery_draft.recovery_report.inputs() == {"B": Decimal("2000"), "E": Decimal("1000")}


def test_correcting_the_outputs_clears_the_flag(carol, recovery_draft):
    recovery_services.recovery_report_update(actor=carol, filing_id=recovery_draft.pk, inputs=INPUTS,
                                             outputs=GOOD_OUTPUTS)
    assert Filing.objects.get(pk=recovery_draft.pk).flags == []


def test_an_impossible_yield_is_flagged(carol):
    filing = recovery_services.recovery_report_create(actor=carol, month=last_month(), inputs={"B": "1000"},
                                                      outputs={"li": "10", "co": "1"})
    assert filing.flags == ["impossible_yield"]  # LFP contains no cobalt; Li 10 of 10 kg is 100 %, fine


def test_the_fractions_used_stay_with_the_report(carol, recovery_draft):
    ChemistryComposition.objects.filter(chemistry="E").update(nickel=Decimal("0.5"))
    rows = {r.metal: r for r in kind_selectors.recovery_assessment(Filing.objects.get(pk=recovery_draft.pk))}
    assert rows["ni"].expected == Decimal("76")


def test_output_weights_without_inputs_are_refused_and_nothing_is_saved(carol):
    before = nothing_saved()
    error = refused(lambda: recovery_services.recovery_report_create(
        actor=carol, month=last_month(), inputs={"E": "0"}, outputs={"co": "5"}), "recovery_output_without_input",
        "output_co")
    assert "钴" in str(error.message) or "Cobalt" in str(error.message)
    assert nothing_saved() == before


@pytest.mark.parametrize("inputs,outputs,field", [
    ({"E": "-5"}, {}, "input_E"),
    ({"E": "abc"}, {}, "input_E"),
    (INPUTS, {"ni": "-1"}, "output_ni"),
    (INPUTS, {"li": "lots"}, "output_li"),
    (INPUTS, {"co": "1.0001"}, "output_co"),
])
def test_bad_weights_are_refused_per_field(carol, inputs, outputs, field):
    before = nothing_saved()
    refused(lambda: recovery_services.recovery_report_create(actor=carol, month=last_month(), inputs=inputs,
                                                             outputs=outputs), "weight_invalid", field)
    assert nothing_saved() == before


def test_unknown_chemistry_or_metal_is_refused(carol):
    refused(lambda: recovery_services.recovery_report_create(actor=carol, month=last_month(), inputs={"Q": "1"},
                                                             outputs={}), "invalid", "input_Q")
    refused(lambda: recovery_services.recovery_report_create(actor=carol, month=last_month(), inputs=INPUTS,
                                                             outputs={"fe": "1"}), "invalid", "output_fe")


def test_only_licensed_recyclers_file(alice, dave, carol):
    refused(lambda: recovery_services.recovery_report_create(actor=alice, month=last_month(), inputs=INPUTS,
                                                             outputs=GOOD_OUTPUTS), "not_a_recycler")
    refused(lambda: recovery_services.recovery_report_create(actor=dave, month=last_month(), inputs=INPUTS,
                                                             outputs=GOOD_OUTPUTS), "recycler_not_licensed")
    # carol's licence covers LFP and ternary, not lithium cobalt oxide
    refused(lambda: recovery_services.recovery_report_create(actor=carol, month=last_month(), inputs={"D": "10"},
                                                             outputs={}), "recycler_not_licensed", "input_D")
    assert not Filing.objects.exists()


def test_no_future_month(carol):
    next_month = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    refused(lambda: recovery_services.recovery_report_create(actor=carol, month=next_month, inputs=INPUTS,
                                                             outputs=GOOD_OUTPUTS), "report_month_in_future", "month")


def test_a_second_report_for_the_month_is_a_correction_not_a_duplicate(carol, reviewer, recovery_draft):
    error = refused(lambda: recovery_services.recovery_report_create(
        actor=carol, month=last_month(), inputs=INPUTS, outputs=GOOD_OUTPUTS), "report_month_duplicate", "month")
    assert str(recovery_draft.pk) in str(error.message)
    services.filing_submit(actor=carol, filing_id=recovery_draft.pk)
    services.filing_claim(actor=reviewer, filing_id=recovery_draft.pk)
    services.filing_approve(actor=reviewer, filing_id=recovery_draft.pk)
    refused(lambda: recovery_services.recovery_report_create(
        actor=carol, month=last_month(), inputs=INPUTS, outputs=GOOD_OUTPUTS), "report_month_approved", "month")
    assert Filing.objects.count() == 1


def test_submit_return_resubmit_approve(carol, reviewer, recovery_draft):
    pk = recovery_draft.pk
    services.filing_submit(actor=carol, filing_id=pk)
    services.filing_claim(actor=reviewer, filing_id=pk)
    services.filing_return(actor=reviewer, filing_id=pk, comment="镍回收率低于98%，请核对产出")
    refused(lambda: recovery_services.recovery_report_update(actor=reviewer, filing_id=pk, inputs=INPUTS,
                                                             outputs=GOOD_OUTPUTS), "permission_denied")
    recovery_services.recovery_report_update(actor=carol, filing_id=pk, inputs=INPUTS, outputs=GOOD_OUTPUTS)
    services.filing_resubmit(actor=carol, filing_id=pk, comment="已更正镍产出")
    services.filing_claim(actor=reviewer, filing_id=pk)
    filing = services.filing_approve(actor=reviewer, filing_id=pk)
    assert filing.status == "approved" and filing.flags == []
    assert list(filing.transitions.values_list("to_status", flat=True)) == [
        "submitted", "in_review", "returned", "resubmitted", "in_review", "approved"]
    refused(lambda: recovery_services.recovery_report_update(actor=carol, filing_id=pk, inputs=INPUTS,
                                                             outputs=LOW_OUTPUTS), "filing_not_editable")


def test_another_enterprise_cannot_touch_the_report(bob, recovery_draft):
    refused(lambda: recovery_services.recovery_report_update(actor=bob, filing_id=recovery_draft.pk, inputs=INPUTS,
                                                             outputs=GOOD_OUTPUTS), "not_found")
    refused(lambda: services.filing_submit(actor=bob, filing_id=recovery_draft.pk), "not_found")


def test_a_monthly_report_is_not_updated_as_a_recovery_report(alice, carol):
    from tests.filings.conftest import COUNTS

    monthly = services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)
    refused(lambda: recovery_services.recovery_report_update(actor=alice, filing_id=monthly.pk, inputs=INPUTS,
                                                             outputs={}), "not_found")


def test_the_ledger_receipts_of_the_month_are_counted(carol, recovery_draft, maker):
    """What the reviewer sees beside the report: packs the recycler received in the month and their weight."""
    from tests.batteries.flows import delivered, registered

    assert kind_selectors.ledger_received_weight(enterprise_id=recovery_draft.enterprise_id,
                                                 month=recovery_draft.period) == (0, None)
    for weight in ("350.5", "120"):
        delivered(registered(maker, weight_kg=Decimal(weight)), maker, carol)
    this_month = timezone.localdate().replace(day=1)
    assert kind_selectors.ledger_received_weight(enterprise_id=recovery_draft.enterprise_id, month=this_month) \
        == (2, Decimal("470.5"))
    assert kind_selectors.ledger_received_weight(enterprise_id=recovery_draft.enterprise_id,
                                                 month=recovery_draft.period) == (0, None)


def test_the_thresholds_are_a_setting(settings, carol):
    settings.FILINGS_RECOVERY_THRESHOLDS = {"ni": "0.97", "co": "0.98", "mn": "0.98", "li": "0.90"}
    filing = recovery_services.recovery_report_create(actor=carol, month=last_month(), inputs=INPUTS,
                                                      outputs=LOW_OUTPUTS)
    assert filing.flags == []  # nickel at 97.37 % passes a 97 % threshold
