"""Working days in mainland China, as DOMAIN.md rule 5 counts reporting deadlines: official public holidays and
make-up working days (调休) included.

Whether a day is a working day comes from, in this order:
1. a `WorkdayOverride` row entered by an admin — the State Council publishes each year's arrangement in November or
   December, usually before the `chinesecalendar` package knows it; an override may also correct the package;
2. the `chinesecalendar` package, for the years it knows (2004–2026 in version 1.11);
3. otherwise Monday to Friday. A day decided this way in a year nobody has described is a *fallback* day: a
   deadline counted over it is provisional, and the pages say so.

A year the package does not know counts as described once an admin has entered at least one override for it:
entering a year's arrangement means entering all its holidays and make-up working days (the admin page says so).

The arithmetic (`add_working_days_with`) is pure and takes the verdict function; `WorkdayCalendar` supplies the
verdicts from the package and the override table, reading the table once per year it touches.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import chinese_calendar

# A deadline is never further than this; a loop that walks further has been given a calendar without working days.
MAX_CALENDAR_DAYS = 3660


class Basis(StrEnum):
    OVERRIDE = "override"  # an admin's entry
    OFFICIAL = "official"  # the package's official arrangement
    WEEKDAY = "weekday"  # Mon–Fri in a year described by overrides (an ordinary day of that year)
    FALLBACK = "fallback"  # Mon–Fri in a year nobody has described yet: provisional


@dataclass(frozen=True)
class DayVerdict:
    is_workday: bool
    basis: Basis


@dataclass(frozen=True)
class Deadline:
    """The last day of a period of working days, and whether a fallback day was counted (then provisional)."""

    date: dt.date
    provisional: bool


@cache
def package_years() -> tuple[int, int]:
    """First and last year the chinesecalendar package knows."""
    years = {day.year for day in chinese_calendar.constants.holidays}
    years |= {day.year for day in chinese_calendar.constants.workdays}
    return min(years), max(years)


def official_workday(day: dt.date) -> bool | None:
    """The package's answer, or None for a year it has no data for (it raises NotImplementedError there)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def day_verdict(day: dt.date, *, overrides: Mapping[dt.date, bool], described_years: set[int] | frozenset[int]
                ) -> DayVerdict:
    """Pure: an override wins; then the package; then Mon–Fri (a fallback unless the year has overrides)."""
    if day in overrides:
        return DayVerdict(bool(overrides[day]), Basis.OVERRIDE)
    official = official_workday(day)
    if official is not None:
        return DayVerdict(official, Basis.OFFICIAL)
    weekday = day.weekday() < 5
    return DayVerdict(weekday, Basis.WEEKDAY if day.year in described_years else Basis.FALLBACK)


def add_working_days_with(start: dt.date, n: int, verdict: Callable[[dt.date], DayVerdict]) -> Deadline:
    """Pure: the n-th working day after `start` (the start day itself does not count, whatever it is).

    DOMAIN.md rule 5 ("within 15 working days after issuing the certificate"): a certificate issued on Friday
    25 September 2026, the first day of the Mid-autumn holiday, has its first working day on Monday 28 September.
    n = 0 gives `start` itself.
    """
    if n < 0:
        raise ValueError("n must be zero or more")
    day, counted, provisional = start, 0, False
    while counted < n:
        day += dt.timedelta(days=1)
        if (day - start).days > MAX_CALENDAR_DAYS:
            raise ValueError(f"no {n} working days within {MAX_CALENDAR_DAYS} days of {start}")
        found = verdict(day)
        provisional = provisional or found.basis == Basis.FALLBACK
        if found.is_workday:
            counted += 1
    return Deadline(day, provisional)


def working_days_between_with(start: dt.date, end: dt.date, verdict: Callable[[dt.date], DayVerdict]) -> int:
    """Pure: how many working days lie after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between_with(end, start, verdict)
    return sum(1 for k in range(1, (end - start).days + 1) if verdict(start + dt.timedelta(days=k)).is_workday)


class WorkdayCalendar:
    """Verdicts from the override table and the package. Pass `overrides` to use no database at all (tests)."""

    def __init__(self, overrides: Mapping[dt.date, bool] | None = None):
        self._fixed = overrides is not None
        self._overrides: dict[dt.date, bool] = dict(overrides or {})
        self._described: set[int] = {day.year for day in self._overrides}
        self._loaded: set[int] = set()

    def _load(self, year: int) -> None:
        if self._fixed or year in self._loaded:
            return
        from apps.core.models import WorkdayOverride

        rows = WorkdayOverride.objects.filter(date__year=year).values_list("date", "is_workday")
        for day, is_workday in rows:
            self._overrides[day] = is_workday
            self._described.add(year)
        self._loaded.add(year)

    def verdict(self, day: dt.date) -> DayVerdict:
        self._load(day.year)
        return day_verdict(day, overrides=self._overrides, described_years=self._described)

    def is_workday(self, day: dt.date) -> bool:
        return self.verdict(day).is_workday

    def is_described(self, year: int) -> bool:
        """True when the package knows the year or an admin has entered its arrangement."""
        first, last = package_years()
        self._load(year)
        return first <= year <= last or year in self._described


def working_deadline(start_date: dt.date, n: int, *, calendar: WorkdayCalendar | None = None) -> Deadline:
    """The n-th working day after `start_date`, and whether it is provisional (a fallback day was counted)."""
    return add_working_days_with(start_date, n, (calendar or WorkdayCalendar()).verdict)


def add_working_days(start_date: dt.date, n: int, *, calendar: WorkdayCalendar | None = None) -> dt.date:
    """The n-th working day after `start_date` (official holidays, make-up working days and overrides counted)."""
    return working_deadline(start_date, n, calendar=calendar).date


def working_days_between(start: dt.date, end: dt.date, *, calendar: WorkdayCalendar | None = None) -> int:
    return working_days_between_with(start, end, (calendar or WorkdayCalendar()).verdict)
