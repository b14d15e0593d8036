"""Pure arithmetic of the reconciliation checks. No ORM."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from apps.core.workdays import MAX_CALENDAR_DAYS, DayVerdict, add_working_days_with


def handover_overdue_through(today: dt.date, working_days: int, verdict: Callable[[dt.date], DayVerdict]) -> dt.date:
    """The last handover date that is overdue today: a battery handed over on day D and still in transit is overdue
    once today is past the `working_days`-th working day after D (DOMAIN.md rule 5 counts in working days, with the
    official holidays and make-up working days). The deadline only moves forward with D, so walking back from
    yesterday, the first overdue D is the latest one."""
    day = today - dt.timedelta(days=1)
    for _step in range(MAX_CALENDAR_DAYS):
        if add_working_days_with(day, working_days, verdict).date < today:
            return day
        day -= dt.timedelta(days=1)
    raise ValueError(f"no working days within {MAX_CALENDAR_DAYS} days before {today}")


def count_severity(expected: int, found: int) -> str:
    """A reported count that misses the ledger by a tenth or more of the larger of the two is high, else medium.
    (Mirrored in SQL by checks.REPORTED_VS_LEDGER; a test holds the two together.)"""
    return "high" if abs(found - expected) * 10 >= max(expected, found) else "medium"
