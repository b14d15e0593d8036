"""Vehicle identification numbers (GB 16735 / ISO 3779): pure checks, no ORM."""
from __future__ import annotations

from dataclasses import dataclass

VIN_LENGTH = 17
TRANSLITERATION = {**{str(d): d for d in range(10)},
                   "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8, "J": 1, "K": 2, "L": 3, "M": 4,
                   "N": 5, "P": 7, "R": 9, "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9}
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class VinProblem:
    rule: str  # length | character | check_digit
    position: int | None = None
    character: str | None = None
    expected: str | None = None


def vin_check_digit(vin: str) -> str:
    """Position 9: Σ value(cᵢ)·wᵢ mod 11, with 10 written as X."""
    total = sum(TRANSLITERATION[c] * w for c, w in zip(vin, WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(vin: str, *, strict: bool = True) -> VinProblem | None:
    """None if valid. `strict=False` skips the check digit (some markets do not use it) but never the alphabet."""
    if len(vin) != VIN_LENGTH:
        return VinProblem("length")
    for index, char in enumerate(vin):
        if char not in TRANSLITERATION:
            return VinProblem("character", index + 1, char)
    if strict:
        expected = vin_check_digit(vin)
        if vin[8] != expected:
            return VinProblem("check_digit", 9, vin[8], expected)
    return None
