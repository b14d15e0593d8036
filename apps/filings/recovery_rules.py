"""Recovery (utilization) report arithmetic. Pure: no ORM, Decimal throughout (ADR 0014).

DOMAIN.md rule 6 (industry conditions for comprehensive utilization, 2024 edition): nickel, cobalt and manganese
are recovered at 98 % or more, lithium at 90 % or more. A report below a threshold is flagged for the reviewer;
so is a physically impossible yield (more metal out than the declared inputs can contain).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

METALS = ("ni", "co", "mn", "li", "cu", "al")

# The minimum recovery rate per metal (DOMAIN.md rule 6); copper and aluminium have none. Overridable through
# settings.FILINGS_RECOVERY_THRESHOLDS.
DEFAULT_THRESHOLDS: dict[str, Decimal] = {"ni": Decimal("0.98"), "co": Decimal("0.98"), "mn": Decimal("0.98"),
                                          "li": Decimal("0.90")}

BELOW_THRESHOLD = "below_threshold"
IMPOSSIBLE_YIELD = "impossible_yield"

# kg with at most three decimals (grams); a month of one plant stays far below a million tonnes.
MAX_WEIGHT_KG = Decimal("1000000000")
WEIGHT_QUANTUM = Decimal("0.001")


FRACTION_QUANTUM = Decimal("0.0001")  # the table keeps four decimals (0.01 %)


def fraction_problem(value) -> tuple[Decimal | None, str | None]:
    """ADR 0014: (the mass fraction as a Decimal, None) or (None, why not: not_number, out_of_range (not within
    0–1), too_precise (more than four decimals)). Empty is 0 (the chemistry contains none of the metal)."""
    if value is None or value == "":
        return Decimal(0), None
    if isinstance(value, bool):
        return None, "not_number"
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (str, float, int, Decimal)) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        return None, "not_number"
    if not Decimal(0) <= number <= Decimal(1):
        return None, "out_of_range"
    if number != number.quantize(FRACTION_QUANTUM):
        return None, "too_precise"
    return number.quantize(FRACTION_QUANTUM), None


def fractions_sum_problem(fractions: dict[str, Decimal]) -> str | None:
    """ADR 0014: the metals of a pack cannot weigh more than the pack — the fractions add up to at most 1."""
    return "sum_over_one" if sum(fractions.values(), Decimal(0)) > 1 else None


def weight_problem(value) -> tuple[Decimal | None, str | None]:
    """(the weight as a Decimal, None) or (None, why not: not_number, negative, too_precise, too_large).

    Weights are kilograms, zero or more, to the gram; a float is taken through its shortest text form so that
    1.1 stays 1.1."""
    if value is None or value == "":
        return Decimal(0), None
    if isinstance(value, bool):
        return None, "not_number"
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (str, float, int, Decimal)) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        return None, "not_number"
    if number < 0:
        return None, "negative"
    if number != number.quantize(WEIGHT_QUANTUM, rounding="ROUND_DOWN"):
        return None, "too_precise"
    if number > MAX_WEIGHT_KG:
        return None, "too_large"
    return number, None


def expected_content(inputs: dict[str, Decimal], fractions: dict[str, dict[str, Decimal]]) -> dict[str, Decimal]:
    """The metal the declared inputs contain: for each metal, Σ input_kg(chemistry) × fraction(chemistry, metal).
    A chemistry missing from the composition table contributes nothing."""
    content = {metal: Decimal(0) for metal in METALS}
    for chemistry, weight in inputs.items():
        shares = fractions.get(chemistry, {})
        for metal in METALS:
            content[metal] += Decimal(weight) * Decimal(shares.get(metal, 0))
    return content


def recovery_rate(output: Decimal, expected: Decimal) -> Decimal | None:
    """output / expected content; None when the inputs contain none of the metal."""
    if expected <= 0:
        return None
    return Decimal(output) / expected


@dataclass(frozen=True)
class MetalResult:
    metal: str
    expected: Decimal
    output: Decimal
    rate: Decimal | None
    threshold: Decimal | None
    below_threshold: bool
    impossible: bool

    @property
    def rate_percent(self) -> Decimal | None:
        return None if self.rate is None else (self.rate * 100).quantize(Decimal("0.01"))

    @property
    def threshold_percent(self) -> Decimal | None:
        return None if self.threshold is None else (self.threshold * 100).quantize(Decimal("0.1"))


def recovery_assessment(*, inputs: dict[str, Decimal], outputs: dict[str, Decimal],
                        fractions: dict[str, dict[str, Decimal]],
                        thresholds: dict[str, Decimal] | None = None) -> list[MetalResult]:
    """Per metal: expected content, output, rate, threshold and what is wrong.

    * below threshold (rule 6): the inputs contain the metal and rate < threshold (at the threshold is fine;
      nothing recovered from inputs that contain it is 0 %, below);
    * impossible yield: rate > 100 %, or an output of a metal the inputs cannot contain."""
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    content = expected_content(inputs, fractions)
    results = []
    for metal in METALS:
        expected, output = content[metal], Decimal(outputs.get(metal, 0))
        rate = recovery_rate(output, expected)
        threshold = thresholds.get(metal)
        impossible = (rate is None and output > 0) or (rate is not None and rate > 1)
        below = rate is not None and threshold is not None and rate < Decimal(threshold)
        results.append(MetalResult(metal=metal, expected=expected, output=output, rate=rate,
                                   threshold=None if threshold is None else Decimal(threshold),
                                   below_threshold=below, impossible=impossible))
    return results


def recovery_flags(results: list[MetalResult]) -> list[str]:
    """The Filing.flags of a recovery report: below_threshold and/or impossible_yield."""
    flags = []
    if any(r.below_threshold for r in results):
        flags.append(BELOW_THRESHOLD)
    if any(r.impossible for r in results):
        flags.append(IMPOSSIBLE_YIELD)
    return flags


def outputs_without_inputs(inputs: dict[str, Decimal], outputs: dict[str, Decimal]) -> str | None:
    """The first metal with an output when no input weight at all is declared (an error, not a flag); else None."""
    if any(Decimal(w) > 0 for w in inputs.values()):
        return None
    return next((metal for metal in METALS if Decimal(outputs.get(metal, 0)) > 0), None)
