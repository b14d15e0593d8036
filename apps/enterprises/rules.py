"""Pure regulatory rules for enterprises: identifiers and licence arithmetic. No ORM here."""
from __future__ import annotations

import re
from apps.core.text import ascii_upper_compact
from dataclasses import dataclass
from datetime import date

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i-1) mod 31 for positions 1..17
MANUFACTURER_CODE_RE = re.compile(r"^[0-9A-Z]{3}$")


@dataclass(frozen=True)
class IdentifierError:
    """Why an identifier is wrong: the 1-based position, the character found and the rule broken."""

    position: int | None
    character: str | None
    rule: str
    expected: str | None = None


def uscc_expected_check_character(first17: str) -> str:
    """GB 32100-2015 §4: check = 31 − (Σ value(cᵢ)·3^(i−1) mod 31) mod 31, mapped back to the alphabet."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> IdentifierError | None:
    """Check a unified social credit code (统一社会信用代码, GB 32100-2015).

    18 characters from 0-9 and A-Y without I, O, S, V, Z; the 18th is the check character.
    Returns None when valid, else the first problem found.
    """
    if len(code) != 18:
        return IdentifierError(None, None, "length", expected="18")
    for index, char in enumerate(code):
        if char not in USCC_ALPHABET:
            return IdentifierError(index + 1, char, "alphabet")
    expected = uscc_expected_check_character(code[:17])
    if code[17] != expected:
        return IdentifierError(18, code[17], "check_character", expected=expected)
    return None


def normalise_uscc(raw: str) -> str:
    """People paste codes with spaces and lower case; the code itself is upper case without spaces."""
    return ascii_upper_compact(raw)


def manufacturer_code_problem(code: str) -> IdentifierError | None:
    """GB/T 34014 positions 1–3: three digits or upper-case Latin letters."""
    if len(code) != 3:
        return IdentifierError(None, None, "length", expected="3")
    for index, char in enumerate(code):
        if not ("0" <= char <= "9" or "A" <= char <= "Z"):
            return IdentifierError(index + 1, char, "alphabet")
    return None


def date_ranges_overlap(a_from: date, a_to: date, b_from: date, b_to: date) -> bool:
    """Closed intervals [from, to] overlap when each starts on or before the other ends."""
    return a_from <= b_to and b_from <= a_to
