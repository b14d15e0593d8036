"""The working-day calendar (apps.core.workdays): official holidays and make-up working days from chinesecalendar,
admins' overrides first, Monday to Friday (provisional) beyond both; and the admins' page that keeps the overrides.

The 2026 dates are the State Council's arrangement as chinesecalendar 1.11 has it: National Day Golden Week
1–7 October (Thu–Wed) with make-up working days on Sunday 20 September and Saturday 10 October; the Mid-autumn
festival 25–27 September (Fri–Sun); Labour Day 1–5 May with a make-up Saturday 9 May; Spring Festival 15–23 February
with make-up Saturdays 14 and 28 February.
"""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.errors import DomainError
from apps.core.models import WorkdayOverride
from apps.core.services import workday_override_delete, workday_override_set
from apps.core.workdays import (
    Basis,
    WorkdayCalendar,
    add_working_days,
    add_working_days_with,
    day_verdict,
    official_workday,
    package_years,
    working_days_between,
    working_deadline,
)
from tests.conftest import signed_in
from tests.web import page_text, redirect_path

D = dt.date
NO_DB = WorkdayCalendar(overrides={})  # the package and Mon–Fri only, no database


# --- the package's data (pure) ----------------------------------------------------------------------------------


@pytest.fixture
def package_ends_2026(monkeypatch):
    """chinesecalendar 1.11 knows up to 2026; a later release will know 2027. The tests about a year the package
    does not know pin the package's horizon at 2026, so they keep testing the fallback whatever is installed."""
    import apps.core.workdays as workdays

    real = workdays.official_workday
    monkeypatch.setattr(workdays, "official_workday", lambda day: None if day.year > 2026 else real(day))


def test_the_package_knows_2026_and_raises_beyond_its_data():
    first, last = package_years()
    assert first <= 2018 and last >= 2026
    assert official_workday(D(last + 1, 1, 4)) is None  # the package raises NotImplementedError there


@pytest.mark.parametrize("day,workday", [
    (D(2026, 9, 20), True),  # Sunday, make-up working day for National Day
    (D(2026, 10, 10), True),  # Saturday, make-up working day for National Day
    (D(2026, 10, 1), False), (D(2026, 10, 7), False),  # Golden Week, Thursday to Wednesday
    (D(2026, 10, 8), True),  # Thursday after the holiday
    (D(2026, 9, 25), False),  # Friday, Mid-autumn festival
    (D(2026, 5, 9), True), (D(2026, 5, 4), False),  # Labour Day: make-up Saturday, holiday Monday
    (D(2026, 2, 14), True), (D(2026, 2, 28), True), (D(2026, 2, 23), False),  # Spring Festival
    (D(2026, 1, 4), True),  # Sunday, make-up working day for New Year
    (D(2026, 11, 26), True), (D(2026, 11, 28), False),  # an ordinary Thursday and Saturday
])
def test_official_days_of_2026(day, workday):
    verdict = NO_DB.verdict(day)
    assert (verdict.is_workday, verdict.basis) == (workday, Basis.OFFICIAL)


# --- adding working days (pure) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start,n,expected", [
    # Issued Monday 21 September: 22, 23, 24 (3), Mid-autumn 25–27 off, 28, 29, 30 (6), Golden Week 1–7 off,
    # 8, 9 (8), Saturday 10 is a make-up working day (9), 11 Sunday off, 12, 13, 14, 15, 16 (14), 19 Monday (15).
    (D(2026, 9, 21), 15, D(2026, 10, 19)),
    # Issued on the first day of the Mid-autumn holiday: the first working day is Monday 28 September.
    (D(2026, 9, 25), 1, D(2026, 9, 28)),
    (D(2026, 9, 25), 15, D(2026, 10, 22)),
    # Issued Friday 18 September: the make-up Sunday 20 September counts.
    (D(2026, 9, 18), 1, D(2026, 9, 20)),
    # Issued in the middle of Golden Week: 8, 9, 10 (Saturday, make-up), 12 …
    (D(2026, 10, 3), 3, D(2026, 10, 10)),
    (D(2026, 10, 3), 4, D(2026, 10, 12)),
    # Labour Day: issued Thursday 30 April, holiday 1–5 May, 6, 7, 8, then the make-up Saturday 9 May.
    (D(2026, 4, 30), 4, D(2026, 5, 9)),
    (D(2026, 11, 26), 15, D(2026, 12, 17)),  # an ordinary stretch: three weeks, Mon–Fri
    (D(2026, 11, 26), 0, D(2026, 11, 26)),
])
def test_add_working_days_across_2026_holidays(start, n, expected):
    assert add_working_days(start, n, calendar=NO_DB) == expected
    assert working_days_between(start, expected, calendar=NO_DB) == n


def test_beyond_the_package_weekdays_count_and_the_deadline_is_provisional(package_ends_2026):
    # Issued Friday 18 December 2026: 21–25, 28–31 December (9 days), then 2027 counted Monday to Friday: New
    # Year's Day 1 January (a Friday) counts, because nobody has entered 2027 yet.
    deadline = working_deadline(D(2026, 12, 18), 15, calendar=NO_DB)
    assert deadline.date == D(2027, 1, 8)
    assert deadline.provisional is True
    assert working_deadline(D(2026, 11, 26), 15, calendar=NO_DB).provisional is False


def test_overrides_win_and_describe_their_year(package_ends_2026):
    overrides = {D(2027, 1, 1): False, D(2026, 10, 12): False}
    calendar = WorkdayCalendar(overrides=overrides)
    assert calendar.verdict(D(2027, 1, 1)) == day_verdict(D(2027, 1, 1), overrides=overrides,
                                                          described_years={2026, 2027})
    assert calendar.verdict(D(2027, 1, 1)).basis == Basis.OVERRIDE
    assert calendar.verdict(D(2027, 1, 4)).basis == Basis.WEEKDAY  # 2027 is described now: not provisional
    assert calendar.verdict(D(2026, 10, 12)).is_workday is False  # an override corrects the package
    deadline = working_deadline(D(2026, 12, 18), 15, calendar=calendar)
    assert deadline == working_deadline(D(2026, 12, 18), 15, calendar=calendar)
    assert (deadline.date, deadline.provisional) == (D(2027, 1, 11), False)


def test_add_working_days_with_is_pure_and_refuses_nonsense():
    every_day = lambda day: day_verdict(day, overrides={}, described_years={day.year})  # noqa: E731
    assert add_working_days_with(D(2030, 1, 1), 5, every_day).date == D(2030, 1, 8)
    with pytest.raises(ValueError):
        add_working_days_with(D(2026, 1, 1), -1, every_day)
    never = lambda day: day_verdict(D(2030, 1, 5), overrides={D(2030, 1, 5): False}, described_years=set())  # noqa: E731
    with pytest.raises(ValueError):
        add_working_days_with(D(2026, 1, 1), 1, never)


# --- the override table ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_calendar_reads_overrides_once_per_year(admin_user, package_ends_2026):
    workday_override_set(actor=admin_user, date=D(2027, 1, 1), is_workday=False, note="元旦")
    workday_override_set(actor=admin_user, date=D(2027, 2, 20), is_workday=True, note="春节调休")
    calendar = WorkdayCalendar()
    with CaptureQueriesContext(connection) as ctx:
        deadline = working_deadline(D(2026, 12, 18), 15, calendar=calendar)
        working_deadline(D(2026, 12, 20), 30, calendar=calendar)
    assert len(ctx.captured_queries) == 2  # 2026 and 2027, once each
    assert (deadline.date, deadline.provisional) == (D(2027, 1, 11), False)
    assert add_working_days(D(2027, 2, 19), 1) == D(2027, 2, 20)


@pytest.mark.django_db
def test_only_admins_keep_the_calendar(reviewer, alice, admin_user):
    for actor in (reviewer, alice):
        with pytest.raises(DomainError) as info:
            workday_override_set(actor=actor, date=D(2027, 1, 1), is_workday=False)
        assert info.value.code == "permission_denied"
    assert WorkdayOverride.objects.count() == 0
    with pytest.raises(DomainError) as info:
        workday_override_set(actor=admin_user, date=D(1999, 1, 1), is_workday=False)
    assert info.value.code == "workday_override_invalid"


@pytest.mark.django_db
def test_setting_a_day_twice_updates_it_and_deleting_restores_the_package(admin_user):
    workday_override_set(actor=admin_user, date=D(2026, 10, 12), is_workday=False, note="临时")
    workday_override_set(actor=admin_user, date=D(2026, 10, 12), is_workday=True, note="更正")
    assert list(WorkdayOverride.objects.values_list("is_workday", "note")) == [(True, "更正")]
    assert workday_override_delete(actor=admin_user, date=D(2026, 10, 12)) is True
    assert workday_override_delete(actor=admin_user, date=D(2026, 10, 12)) is False
    assert WorkdayCalendar().verdict(D(2026, 10, 12)).basis == Basis.OFFICIAL


# --- the admins' page ---------------------------------------------------------------------------------------------------


PAGE = "/calendar/workdays/"


@pytest.mark.django_db
def test_the_page_says_which_years_are_known(admin_user):
    response = signed_in(admin_user).get(PAGE)
    assert response.status_code == 200
    text = page_text(response)
    assert "2026" in text and "调休" in text


@pytest.mark.django_db
def test_an_admin_enters_a_day_through_the_page(admin_user):
    client = signed_in(admin_user)
    response = client.post(PAGE, {"date": "2027-01-01", "kind": "day_off", "note": "元旦"})
    assert redirect_path(response) == PAGE
    assert WorkdayOverride.objects.get(date=D(2027, 1, 1)).is_workday is False
    listed = client.get(PAGE)
    assert "元旦" in page_text(listed)
    assert redirect_path(client.post(f"{PAGE}2027-01-01/delete/")) == PAGE
    assert not WorkdayOverride.objects.exists()
    assert client.post(f"{PAGE}2027-01-01/delete/").status_code == 404
    assert client.post(f"{PAGE}not-a-date/delete/").status_code == 404


@pytest.mark.django_db
def test_the_page_refuses_markup_and_counts_working_days(admin_user):
    client = signed_in(admin_user)
    response = client.post(PAGE, {"date": "2027-01-01", "kind": "day_off", "note": "<b>x</b>"})
    assert response.status_code == 200 and response.context["form"].errors["note"]
    assert not WorkdayOverride.objects.exists()
    response = client.get(PAGE, {"start": "2026-09-21", "days": "15"})
    assert response.context["result"].date == D(2026, 10, 19)
    assert "2026-10-19" in page_text(response)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["reviewer", "alice"])
def test_the_page_is_for_admins_only(request, who):
    client = signed_in(request.getfixturevalue(who))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"date": "2027-01-01", "kind": "day_off"}).status_code == 403
    assert client.post(f"{PAGE}2027-01-01/delete/").status_code == 403
    assert not WorkdayOverride.objects.exists()


@pytest.mark.django_db
def test_the_page_needs_a_sign_in(anon):
    response = anon.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
