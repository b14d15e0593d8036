"""The enforcement workflow and its rules. Pure: no ORM.

The transition table is the single statement of which step leads from which status to which, and who takes it;
the services consult it and nothing else re-implements it.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

DRAFT, AWAITING_APPROVAL, RETURNED = "draft", "awaiting_approval", "returned"
ISSUED, ANSWERED, CLOSED = "issued", "answered", "closed"
FINE = "fine"

COMPANY, REVIEWER = "company", "reviewer"

# (status, step) -> (new status, who may take it)
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (DRAFT, "submit"): (AWAITING_APPROVAL, REVIEWER),
    (RETURNED, "submit"): (AWAITING_APPROVAL, REVIEWER),
    (AWAITING_APPROVAL, "approve"): (ISSUED, REVIEWER),
    (AWAITING_APPROVAL, "refuse"): (RETURNED, REVIEWER),
    (ISSUED, "answer"): (ANSWERED, COMPANY),
    # An enterprise that never answers is closed after the deadline all the same (usually: not complied).
    (ISSUED, "close"): (CLOSED, REVIEWER),
    (ANSWERED, "close"): (CLOSED, REVIEWER),
}

# The drafter may change the content (facts, basis, amount, deadline, evidence) only here.
EDITABLE_STATUSES = (DRAFT, RETURNED)
# A step the reviewer must explain in writing.
COMMENT_REQUIRED = {"refuse", "close"}
# Steps that are the second reviewer's (four eyes): never the drafter's.
SECOND_REVIEWER_STEPS = {"approve", "refuse"}

FINE_MAX_YUAN = Decimal("100000000")  # no fine under the Interim Measures comes near; a typo guard


def next_status(status: str, step: str, *, side: str) -> str | None:
    """The status `step` leads to from `status` when taken by `side` (company or reviewer); None if not allowed."""
    entry = TRANSITIONS.get((status, step))
    if entry is None or entry[1] != side:
        return None
    return entry[0]


def allowed_steps(status: str, *, side: str) -> list[str]:
    return [step for (from_status, step), (_to, who) in TRANSITIONS.items() if from_status == status and who == side]


def is_overdue(*, status: str, deadline, today) -> bool:
    """An issued action the enterprise has not answered by its deadline to comply (the deadline day itself still
    counts as in time)."""
    return status == ISSUED and deadline is not None and today > deadline


def four_eyes_problem(*, drafter_id: int | None, approver_id: int) -> str | None:
    """Four eyes (issue 5: "sanctions need a second reviewer's approval"): the approval or refusal of a drafted
    sanction is another person's than the drafter's. Returns "same_person" when it is not."""
    return "same_person" if drafter_id is not None and drafter_id == approver_id else None


def amount_problem(kind: str, amount) -> str | None:
    """A fine states its amount in yuan: a number greater than zero with at most two decimals (fen), at most
    FINE_MAX_YUAN. An order to correct or a warning carries no amount. Returns why not, or None.

    "required" (a fine without an amount), "not_a_number", "not_positive", "too_precise", "too_large",
    "not_for_this_kind" (an amount on a warning or an order to correct)."""
    if amount in (None, ""):
        return "required" if kind == FINE else None
    if kind != FINE:
        return "not_for_this_kind"
    if isinstance(amount, bool) or isinstance(amount, float):
        amount = str(amount) if isinstance(amount, float) else "x"
    try:
        value = Decimal(str(amount).strip().replace(",", ""))
    except InvalidOperation:
        return "not_a_number"
    if not value.is_finite():
        return "not_a_number"
    if value <= 0:
        return "not_positive"
    if value != value.quantize(Decimal("0.01")):
        return "too_precise"
    if value > FINE_MAX_YUAN:
        return "too_large"
    return None


def parse_ids(text: str) -> tuple[list[int], list[str]]:
    """Numbers typed into an evidence picker, separated by commas, spaces or new lines (full-width commas too).
    Returns (the numbers in order without repeats, the tokens that are not numbers)."""
    numbers, bad = [], []
    for token in (text or "").replace("，", ",").replace("、", ",").replace(",", " ").split():
        if token.isdigit() and len(token) < 19:
            if int(token) not in numbers:
                numbers.append(int(token))
        else:
            bad.append(token)
    return numbers, bad


# --- the reviewer's side of a discrepancy (issue 6 item 3) -----------------------------------------------------------
# open → explained (the enterprise's explanation, apps.filings) → resolved or escalated by a reviewer.
DISCREPANCY_DECIDABLE = ("open", "explained")
DISCREPANCY_DECISIONS = {"resolve": "resolved", "escalate": "escalated"}


def discrepancy_next_status(status: str, decision: str) -> str | None:
    """A reviewer resolves (comment required) or escalates to an enforcement action a discrepancy that is open or
    explained; a resolved or escalated one is no longer theirs to decide. None when not allowed."""
    if status not in DISCREPANCY_DECIDABLE:
        return None
    return DISCREPANCY_DECISIONS.get(decision)
