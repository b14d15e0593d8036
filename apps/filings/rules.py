"""The review workflow every filing shares, and the monthly report's calendar arithmetic. Pure: no ORM.

The transition table is the single statement of who may move a filing from which status to which; the services
consult it and nothing else re-implements it.
"""
from __future__ import annotations

import datetime as dt

DRAFT, SUBMITTED, IN_REVIEW = "draft", "submitted", "in_review"
APPROVED, REJECTED, RETURNED, RESUBMITTED = "approved", "rejected", "returned", "resubmitted"
WITHDRAWN = "withdrawn"

# Waiting for (or under) a reviewer's decision: what the reviewer queue lists.
OPEN_STATUSES = (SUBMITTED, IN_REVIEW, RESUBMITTED)
# The enterprise may change the content only here.
EDITABLE_STATUSES = (DRAFT, RETURNED)

COMPANY, REVIEWER = "company", "reviewer"

# (status, action) -> (new status, who may act)
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (DRAFT, "submit"): (SUBMITTED, COMPANY),
    (SUBMITTED, "claim"): (IN_REVIEW, REVIEWER),
    (RESUBMITTED, "claim"): (IN_REVIEW, REVIEWER),
    (SUBMITTED, "assign"): (IN_REVIEW, REVIEWER),
    (RESUBMITTED, "assign"): (IN_REVIEW, REVIEWER),
    (IN_REVIEW, "assign"): (IN_REVIEW, REVIEWER),  # hand it on to another reviewer
    (IN_REVIEW, "approve"): (APPROVED, REVIEWER),
    (IN_REVIEW, "reject"): (REJECTED, REVIEWER),
    (IN_REVIEW, "return"): (RETURNED, REVIEWER),
    (RETURNED, "resubmit"): (RESUBMITTED, COMPANY),
    # The enterprise closes, without a decision, a filing whose subject it has taken back (a scrapping intake it
    # withdrew): a terminal status of its own, so nobody reads it as a reviewer's rejection. Only the kinds in
    # WITHDRAWABLE_KINDS, and only through the kind's own service (never a button of the filing page).
    (SUBMITTED, "withdraw"): (WITHDRAWN, COMPANY),
    (IN_REVIEW, "withdraw"): (WITHDRAWN, COMPANY),
    (RESUBMITTED, "withdraw"): (WITHDRAWN, COMPANY),
    (RETURNED, "withdraw"): (WITHDRAWN, COMPANY),
}

# Filing kinds that are about a thing the enterprise may take back — the withdrawal of the thing closes the filing.
# A monthly report, an explanation or an application stays for a reviewer's decision once filed.
WITHDRAWABLE_KINDS = frozenset({"mismatch_decision"})


def may_withdraw(kind: str) -> bool:
    """ADR 0009 workflow: only a filing about something the enterprise may take back can be withdrawn."""
    return kind in WITHDRAWABLE_KINDS

# A decision a reviewer must explain in writing.
COMMENT_REQUIRED = {"reject", "return"}


def next_status(status: str, action: str, *, side: str) -> str | None:
    """The status `action` leads to from `status` when taken by `side` (company or reviewer); None if not allowed."""
    entry = TRANSITIONS.get((status, action))
    if entry is None or entry[1] != side:
        return None
    return entry[0]


def allowed_actions(status: str, *, side: str) -> list[str]:
    return [action for (from_status, action), (_to, who) in TRANSITIONS.items() if from_status == status and who == side]


def month_start(value: dt.date) -> dt.date:
    return value.replace(day=1)


def next_month(start: dt.date) -> dt.date:
    return dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def monthly_report_due_date(month: dt.date, *, due_day: int) -> dt.date:
    """The monthly pack-count report is due on day `due_day` of the following month (setting
    FILINGS_MONTHLY_REPORT_DUE_DAY; clamped to 1–28 so that every month has that day)."""
    return next_month(month_start(month)).replace(day=max(1, min(int(due_day), 28)))


def is_future_month(month: dt.date, *, today: dt.date) -> bool:
    return month_start(month) > month_start(today)


def is_overdue(*, due_date: dt.date | None, submitted_on: dt.date | None, today: dt.date) -> bool:
    """Late: first submitted after the due date, or not submitted and the due date has passed."""
    if due_date is None:
        return False
    if submitted_on is not None:
        return submitted_on > due_date
    return today > due_date


def count_problem(value) -> str | None:
    """Why `value` is not a pack count (a whole number, zero or more); None when it is one."""
    if isinstance(value, bool):
        return "not_whole"
    if isinstance(value, int):
        return "negative" if value < 0 else None
    if isinstance(value, float) and value.is_integer():
        return "negative" if value < 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return "negative" if int(text) < 0 else None
    return "not_whole"


# --- the reviewer queue's risk order ----------------------------------------------------------------------------

# The flag a monthly report gets when a declared count differs from the ledger's count for that month (set at
# submit and resubmit; other kinds set their own flags, e.g. below_threshold, impossible_yield).
LEDGER_MISMATCH = "ledger_mismatch"

# Why a filing is risky, in the order the queue sorts by (and shows its badges).
RISK_OVERDUE, RISK_FLAGGED, RISK_REPEAT_OFFENDER = "overdue", "flagged", "repeat_offender"
RISK_WEIGHTS = {RISK_OVERDUE: 4, RISK_FLAGGED: 2, RISK_REPEAT_OFFENDER: 1}


def risk_rank(*, overdue: bool, flagged: bool, repeat_offender: bool) -> int:
    """The reviewer queue's default order (issue 5, item 3), highest first: overdue filings before every other,
    then flagged ones (the portal found something: a count differing from the ledger, a recovery rate below
    threshold…), then those of a repeat offender; ties go to the oldest. One number so that the order is a
    single sort key: the weights make each criterion outrank all the later ones together."""
    return (RISK_WEIGHTS[RISK_OVERDUE] * bool(overdue) + RISK_WEIGHTS[RISK_FLAGGED] * bool(flagged)
            + RISK_WEIGHTS[RISK_REPEAT_OFFENDER] * bool(repeat_offender))


def risk_reasons(rank: int) -> list[str]:
    """The criteria behind a rank, in sort order (the badges a row shows)."""
    return [reason for reason, weight in RISK_WEIGHTS.items() if rank & weight]


def counts_differing(declared: dict[str, int], ledger: dict[str, int], fields: list[tuple[str, str | None]]) -> list[str]:
    """The declared counts of a monthly report that differ from the ledger's events of the same kind in the month
    (fields without an event kind, e.g. the stock at month end, are not compared)."""
    return [name for name, event_kind in fields
            if event_kind is not None and int(declared.get(name, 0)) != int(ledger.get(event_kind, 0))]


def with_flag(flags: list[str], flag: str, present: bool) -> list[str]:
    """`flags` with `flag` added or removed, the others (set by other rules) left as they are."""
    kept = [f for f in flags if f != flag]
    return [*kept, flag] if present else kept
