"""Pure scrapping rules (no ORM): the vehicle-and-battery check, what a battery found in a vehicle may be, the
owner's identity number (check, mask, keyed hash), certificate numbers and the handover deadline.

The services load rows, lock them and call these; forms, the API and bulk requests all reach them through the
services.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from apps.core.workdays import Deadline, DayVerdict, add_working_days_with
from apps.enterprises.rules import IdentifierError, uscc_problem
from apps.core.text import ascii_upper_compact

# --- the vehicle-and-battery check (车电一体报废) --------------------------------------------------------------

COMPLETE, MISSING, MISMATCH, SWAP_EXEMPT, NOT_NEV = "complete", "missing", "mismatch", "swap_exempt", "not_nev"


@dataclass(frozen=True)
class BatteryCheck:
    outcome: str
    present: frozenset[str]  # in the vehicle according to the ledger, and found
    missing: frozenset[str]  # in the vehicle according to the ledger, not found
    unexpected: frozenset[str]  # found, but the ledger has it elsewhere


def battery_check(*, is_nev: bool, is_swap_model: bool, expected, found) -> BatteryCheck:
    """DOMAIN.md rule 1 (Interim Measures 2026): a scrapped NEV arrives with its battery.

    - not a new-energy vehicle: no battery check;
    - a battery-swap model: exempt — its battery belongs to the swap operator, so a certificate is allowed
      without it (what was found and what is missing is still recorded);
    - a battery found that the ledger does not show in this vehicle: *mismatch* (e.g. an unreported
      replacement), whatever else is missing — a reviewer decides;
    - otherwise a battery the ledger shows in the vehicle but not found, or no battery at all: *missing*
      (电池缺失视为车辆缺失 — a missing battery counts as a missing vehicle);
    - otherwise *complete*.
    """
    expected, found = frozenset(expected), frozenset(found)
    present, missing, unexpected = expected & found, expected - found, found - expected
    if not is_nev:
        outcome = NOT_NEV
    elif is_swap_model:
        outcome = SWAP_EXEMPT
    elif unexpected:
        outcome = MISMATCH
    elif missing or not found:
        outcome = MISSING
    else:
        outcome = COMPLETE
    return BatteryCheck(outcome, present, missing, unexpected)


# What each outcome allows: a certificate at once, a block, or a reviewer's decision first.
READY, BLOCKED, AWAITING_DECISION = "ready", "blocked", "awaiting_decision"
STATUS_FOR_OUTCOME = {COMPLETE: READY, SWAP_EXEMPT: READY, NOT_NEV: READY, MISSING: BLOCKED,
                      MISMATCH: AWAITING_DECISION}


def intake_status_for(outcome: str) -> str:
    return STATUS_FOR_OUTCOME[outcome]


# Why a battery listed as found in the vehicle cannot be there at all (the listing is refused, nothing saved):
NOT_A_PACK = "not_a_pack"  # modules and cells are not installed in vehicles; list the pack
LIFE_ENDED = "life_ended"  # recycled or used in a remanufactured product
IN_ANOTHER_VEHICLE = "in_another_vehicle"  # installed in another vehicle, held by that vehicle's side
ALREADY_YOURS = "already_yours"  # already in the dismantler's own stock, not in a vehicle

FINAL_STATUSES = frozenset({"recycled", "remanufactured"})


def found_battery_refusal(*, product_type: str, status: str, installed_in: str | None, vin: str,
                          held_by_actor: bool) -> str | None:
    """A code the dismantler lists that the ledger does not show in this vehicle is a *mismatch* when the battery
    could physically be there unreported (in some enterprise's stock, or in transit): the holder's missing report
    is then what the reviewer looks at. It is refused outright when the ledger places it where it cannot be in
    this vehicle — held by someone else inside another vehicle, at the end of its life, or a module or cell."""
    if product_type != "P":
        return NOT_A_PACK
    if status in FINAL_STATUSES:
        return LIFE_ENDED
    if status == "installed" and installed_in and installed_in != vin:
        return IN_ANOTHER_VEHICLE
    if held_by_actor and status == "in_stock":
        return ALREADY_YOURS
    return None


# --- the owner's identity number ---------------------------------------------------------------------------

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
OTHER_ID_RE = re.compile(r"^[0-9A-Z]{6,30}$")


def normalise_id_number(raw: str) -> str:
    """Spaces dropped, a-z upper-cased (only ASCII: str.upper() would turn some letters into ASCII ones)."""
    return ascii_upper_compact(raw)


def resident_id_check_character(first17: str) -> str:
    """GB 11643-1999: Σ digitᵢ·weightᵢ mod 11, mapped through 1 0 X 9 8 7 6 5 4 3 2."""
    return RESIDENT_ID_CHECK[sum(int(c) * w for c, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True)) % 11]


def resident_id_problem(number: str) -> IdentifierError | None:
    """A citizen identity number (GB 11643-1999): 17 digits (the 7th–14th a real birth date) and a check
    character 0-9 or X."""
    if len(number) != 18:
        return IdentifierError(None, None, "length", expected="18")
    for index, char in enumerate(number[:17]):
        if not char.isascii() or not char.isdigit():
            return IdentifierError(index + 1, char, "digit")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdentifierError(7, number[6:14], "birth_date")
    expected = resident_id_check_character(number[:17])
    if number[17] != expected:
        return IdentifierError(18, number[17], "check_character", expected=expected)
    return None


def id_number_problem(kind: str, number: str) -> IdentifierError | None:
    if kind == "resident_id":
        return resident_id_problem(number)
    if kind == "uscc":
        return uscc_problem(number)
    if not OTHER_ID_RE.match(number):
        return IdentifierError(None, None, "other_shape")
    return None


def mask_id_number(number: str) -> str:
    """What people may read: the first 3 and last 4 characters (the first 1 and last 2 of a short number)."""
    if len(number) >= 15:
        return f"{number[:3]}****{number[-4:]}"
    return f"{number[:1]}****{number[-2:]}"


def id_number_hash(kind: str, number: str, *, key: str) -> str:
    """HMAC-SHA256 keyed with PII_HASH_KEY (never the secret key): the same owner is recognised across intakes,
    and without the key nobody can test guesses (an 18-digit ID has too little entropy for a plain hash)."""
    if not key:
        raise ValueError("PII_HASH_KEY is not set")
    return hmac.new(key.encode(), f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()


# --- vehicles and certificates -----------------------------------------------------------------------------

CERTIFICATE_NUMBER_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z./_-]{3,63}$")


def certificate_number_ok(number: str) -> bool:
    """The commerce ministry's number, opaque: 4 to 64 ASCII letters and digits, also . / _ - inside."""
    return bool(CERTIFICATE_NUMBER_RE.match(number or ""))


def mask_vin(vin: str) -> str:
    """The public verification page: the maker's WMI (positions 1–3) and the last four characters, so someone
    holding the paper can match it, while nobody can harvest full VINs from the page."""
    return f"{vin[:3]}{'*' * (len(vin) - 7)}{vin[-4:]}" if len(vin) > 7 else "*" * len(vin)


# --- the handover deadline (DOMAIN.md rule 5) --------------------------------------------------------------


def handover_deadline(issued_on: dt.date, working_days: int, verdict: Callable[[dt.date], DayVerdict]) -> Deadline:
    """Rule 5: the dismantler hands the batteries to a licensed recycler within `working_days` working days
    (15 in the 2018 Provisions; a setting) after issuing the scrapping certificate."""
    return add_working_days_with(issued_on, working_days, verdict)


DUE_SOON_DAYS = 3


def deadline_state(*, deadline: dt.date | None, today: dt.date, handover_open: bool,
                   working_days_left: int | None = None) -> str:
    """none (no battery taken in) · met (every battery handed on) · overdue · due_soon (3 working days or
    fewer left) · open."""
    if deadline is None:
        return "none"
    if not handover_open:
        return "met"
    if today > deadline:
        return "overdue"
    if working_days_left is not None and working_days_left <= DUE_SOON_DAYS:
        return "due_soon"
    return "open"
