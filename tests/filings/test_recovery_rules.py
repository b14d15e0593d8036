"""DOMAIN.md rule 6 in apps.filings.recovery_rules: expected content, recovery rates, thresholds at, just below and
just above, impossible yields. Pure: no database."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.filings import recovery_rules as rr

# One chemistry whose pack is 10 % of each threshold metal, 5 % copper and no aluminium: 1000 kg in → 100 kg of
# Ni, Co, Mn, Li expected, 50 kg of Cu, 0 of Al.
FRACTIONS = {"E": {"ni": D("0.1"), "co": D("0.1"), "mn": D("0.1"), "li": D("0.1"), "cu": D("0.05"), "al": D(0)}}
INPUTS = {"E": D("1000")}


def result(outputs: dict, metal: str) -> rr.MetalResult:
    results = rr.recovery_assessment(inputs=INPUTS, outputs=outputs, fractions=FRACTIONS)
    return next(r for r in results if r.metal == metal)


def test_expected_content_sums_input_times_fraction_over_chemistries():
    fractions = {**FRACTIONS, "B": {"li": D("0.01"), "cu": D("0.085")}}
    content = rr.expected_content({"E": D("1000"), "B": D("2000")}, fractions)
    assert content["li"] == D("120") and content["cu"] == D("220") and content["ni"] == D("100")
    assert content["al"] == 0


def test_a_chemistry_missing_from_the_table_contributes_nothing():
    assert rr.expected_content({"Z": D("500")}, FRACTIONS) == {m: 0 for m in rr.METALS}


@pytest.mark.parametrize("metal", ["ni", "co", "mn"])
@pytest.mark.parametrize("output,below", [("98", False), ("97.999", True), ("98.001", False), ("100", False)])
def test_nickel_cobalt_manganese_need_98_percent(metal, output, below):
    r = result({metal: D(output)}, metal)
    assert r.threshold == D("0.98")
    assert r.below_threshold is below
    assert not r.impossible


@pytest.mark.parametrize("output,below", [("90", False), ("89.999", True), ("90.001", False)])
def test_lithium_needs_90_percent(output, below):
    r = result({"li": D(output)}, "li")
    assert r.threshold == D("0.90") and r.below_threshold is below and not r.impossible


def test_nothing_recovered_from_inputs_that_contain_the_metal_is_below_threshold():
    r = result({}, "ni")
    assert r.rate == 0 and r.below_threshold


def test_copper_and_aluminium_have_no_threshold():
    r = result({"cu": D("1")}, "cu")
    assert r.threshold is None and not r.below_threshold


@pytest.mark.parametrize("output,impossible", [("100", False), ("100.001", True), ("150", True)])
def test_more_out_than_the_inputs_contain_is_impossible(output, impossible):
    assert result({"ni": D(output)}, "ni").impossible is impossible


def test_an_output_of_a_metal_the_inputs_cannot_contain_is_impossible():
    r = result({"al": D("0.001")}, "al")
    assert r.rate is None and r.impossible


def test_flags_name_what_is_wrong():
    results = rr.recovery_assessment(inputs=INPUTS, outputs={"ni": D("97"), "co": D("101"), "mn": D("99"),
                                                             "li": D("95")}, fractions=FRACTIONS)
    assert rr.recovery_flags(results) == [rr.BELOW_THRESHOLD, rr.IMPOSSIBLE_YIELD]
    good = rr.recovery_assessment(inputs=INPUTS, outputs={"ni": D("99"), "co": D("99"), "mn": D("99"),
                                                          "li": D("95"), "cu": D("40")}, fractions=FRACTIONS)
    assert rr.recovery_flags(good) == []


def test_thresholds_can_be_configured():
    r = rr.recovery_assessment(inputs=INPUTS, outputs={"ni": D("96")}, fractions=FRACTIONS,
                               thresholds={"ni": D("0.95")})
    assert not r[0].below_threshold and r[1].threshold is None


def test_outputs_without_any_input_are_named():
    assert rr.outputs_without_inputs({}, {"co": D("1")}) == "co"
    assert rr.outputs_without_inputs({}, {"co": D("0")}) is None
    assert rr.outputs_without_inputs(INPUTS, {"co": D("1")}) is None


@pytest.mark.parametrize("value,expected", [
    (12, (D("12"), None)), ("1250.5", (D("1250.5"), None)), (1.1, (D("1.1"), None)), ("", (D(0), None)),
    (-1, (None, "negative")), ("-0.5", (None, "negative")), ("abc", (None, "not_number")),
    (True, (None, "not_number")), ("NaN", (None, "not_number")), ("1.0001", (None, "too_precise")),
    ("1e12", (None, "too_large")), ([1], (None, "not_number")),
])
def test_weights_are_kilograms_to_the_gram(value, expected):
    assert rr.weight_problem(value) == expected
