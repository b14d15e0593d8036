"""Reporting deadlines, pure (no ORM): which duty covers which ledger events, the deadline of an event, whether it
was reported late, and when a monthly-report reminder is due.

DOMAIN.md rule 5 (2018 Provisions; the 2026 values are unverified, hence data admins edit): vehicle maker 15
working days after the certificate of conformity (its installation event); repair/replacement 30; collection
point into/out of store 30; dismantler 15 after issuing the scrapping certificate (the batteries' removal) and 15
after handing the battery on; recycler 30 after intake and 30 after final disposal. Working days follow the
Chinese public-holiday calendar with make-up working days (apps.core.workdays).
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from apps.core.workdays import (
    MAX_CALENDAR_DAYS,
    DayVerdict,
    Deadline,
    add_working_days_with,
    working_days_between_with,
)

# duty -> (the enterprise role that carries it, the ledger event kinds it covers)
DUTY_SCOPE: dict[str, tuple[str, frozenset[str]]] = {
    "vehicle_installation": ("vehicle_maker", frozenset({"installed"})),
    "repair_replacement": ("repairer", frozenset({"replaced_out", "replaced_in"})),
    "collection_store": ("collection_point", frozenset({"received", "handed_over"})),
    "dismantler_certificate": ("dismantler", frozenset({"removed"})),
    "dismantler_handover": ("dismantler", frozenset({"handed_over"})),
    "recycler_intake": ("recycler", frozenset({"received"})),
    "recycler_disposal": ("recycler", frozenset({"recycled", "remanufactured"})),
}

MIN_DAYS, MAX_DAYS = 1, 250


def working_days_problem(value) -> str | None:
    """Why `value` cannot be a deadline: not a whole number, or outside 1–250 working days (a year)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "not_whole"
    if not MIN_DAYS <= value <= MAX_DAYS:
        return "out_of_range"
    return None


def days_by_kind(roles: Iterable[str], days_by_duty: Mapping[str, int]) -> dict[str, int]:
    """For an enterprise with `roles`: each event kind it must report, with its deadline in working days. An event
    kind covered by two of its duties (a dismantler that is also a collection point hands over) takes the
    shorter deadline; a kind no duty of its roles covers has no deadline (e.g. a battery maker's registration)."""
    roles = set(roles)
    result: dict[str, int] = {}
    for duty, (role, kinds) in DUTY_SCOPE.items():
        if role not in roles or duty not in days_by_duty:
            continue
        for kind in kinds:
            result[kind] = min(result.get(kind, days_by_duty[duty]), days_by_duty[duty])
    return result


def reporting_deadline(occurred_on: dt.date, working_days: int, verdict: Callable[[dt.date], DayVerdict]
                       ) -> Deadline:
    """Rule 5: the last day an event that happened on `occurred_on` may be reported on — the `working_days`-th
    working day after it (the day itself does not count)."""
    return add_working_days_with(occurred_on, working_days, verdict)


def is_reported_late(*, occurred_on: dt.date, recorded_on: dt.date, working_days: int | None,
                     verdict: Callable[[dt.date], DayVerdict]) -> bool:
    """Rule 5: late when recorded after the deadline (Asia/Shanghai calendar days); never when no deadline."""
    if working_days is None:
        return False
    return recorded_on > reporting_deadline(occurred_on, working_days, verdict).date


def cutoff_table(first_day: dt.date, last_day: dt.date, working_days: Iterable[int],
                 verdict: Callable[[dt.date], DayVerdict]) -> list[tuple[int, dt.date, dt.date]]:
    """(n, day, deadline) for every day in [first_day, last_day] and every distinct n: the small table the late-event
    query joins on, so that the calendar arithmetic runs once per day, not once per event. Each calendar day is
    judged once: the working days after first_day are listed, and the n-th one after a day is read off the list
    (the same answer as reporting_deadline, which the tests check)."""
    ns = sorted({n for n in working_days if n >= 1})
    if not ns or last_day < first_day:
        return []
    workdays: list[dt.date] = []
    day, after_last = first_day, 0
    while after_last < ns[-1]:
        day += dt.timedelta(days=1)
        if (day - last_day).days > MAX_CALENDAR_DAYS:
            raise ValueError(f"no {ns[-1]} working days within {MAX_CALENDAR_DAYS} days of {last_day}")
        if verdict(day).is_workday:
            workdays.append(day)
            after_last += day > last_day
    rows = []
    day = first_day
    while day <= last_day:
        first_after = bisect.bisect_right(workdays, day)
        for n in ns:
            rows.append((n, day, workdays[first_after + n - 1]))
        day += dt.timedelta(days=1)
    return rows


def reminder_kind(*, due: dt.date, today: dt.date, submitted: bool, days_before: int,
                  verdict: Callable[[dt.date], DayVerdict], overdue_window_days: int = 31) -> str | None:
    """Which reminder a monthly report needs today, if any: never once submitted; "due_soon" from `days_before`
    working days before the due date up to the due date; "overdue" once the due date has passed (for a month
    after it, so that a first run does not remind of years-old months). The unique key makes each go out once."""
    if submitted:
        return None
    if today > due:
        return "overdue" if (today - due).days <= overdue_window_days else None
    if working_days_between_with(today, due, verdict) <= days_before:
        return "due_soon"
    return None


# Periodic filings an enterprise owes every month (due on the configured day of the next month), and the role that
# owes it ("" = every enterprise): the monthly pack-count report, and a recycler's recovery (utilization) report.
PERIODIC_REPORTS: dict[str, str] = {"monthly_report": "", "recovery_report": "recycler"}


# --- monthly reports ---------------------------------------------------------------------------------------------

UPCOMING, DUE, OVERDUE, ON_TIME, LATE = "upcoming", "due", "overdue", "on_time", "late"


def monthly_report_state(*, due: dt.date, submitted_on: dt.date | None, today: dt.date, month_ended: bool) -> str:
    """upcoming (the month is still running) · due (ended, not submitted, due date not passed) · overdue (not
    submitted, due date passed) · on_time / late (first submitted by / after the due date)."""
    if submitted_on is not None:
        return LATE if submitted_on > due else ON_TIME
    if today > due:
        return OVERDUE
    return DUE if month_ended else UPCOMING


def days_late(*, due: dt.date, submitted_on: dt.date | None, today: dt.date) -> int:
    """Calendar days past the due date: until the first submission, or until today while not submitted."""
    return max(0, ((submitted_on or today) - due).days)
