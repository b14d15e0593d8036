"""Reporting deadlines across Chinese holidays with make-up working days (DOMAIN.md rule 5), pure.

The test data are explicit: chinesecalendar 1.11 knows 2026 — Spring Festival days off Sun 15 to Mon 23 February,
make-up working days Sat 14 and Sat 28 February; National Day days off Thu 1 to Wed 7 October (with the
Mid-autumn festival from Fri 25 September), make-up working days Sun 20 September and Sat 10 October. 2027 is
not in the package, so the 2027 case passes its own overrides (as an admin would enter them)."""
from __future__ import annotations

import datetime as dt

import chinese_calendar

from apps.core.workdays import WorkdayCalendar
from apps.deadlines import rules

D = dt.date
NO_DB = WorkdayCalendar(overrides={})  # package + Mon–Fri, no database


def test_the_package_knows_the_2026_spring_festival_as_this_test_assumes():
    assert chinese_calendar.is_workday(D(2026, 2, 14))  # Saturday, make-up working day
    assert not chinese_calendar.is_workday(D(2026, 2, 16))  # Monday, holiday
    assert not chinese_calendar.is_workday(D(2026, 2, 23))  # Monday, holiday
    assert chinese_calendar.is_workday(D(2026, 2, 28))  # Saturday, make-up working day


def test_15_working_days_across_the_spring_festival_count_both_make_up_saturdays():
    # Fri 13 Feb: Sat 14 (1), Tue 24 – Fri 27 (2–5), Sat 28 (6), 2–6 Mar (7–11), 9–12 Mar (12–15).
    deadline = rules.reporting_deadline(D(2026, 2, 13), 15, NO_DB.verdict)
    assert deadline.date == D(2026, 3, 12) and not deadline.provisional
    # Monday to Friday alone would have said Friday 6 March.
    assert deadline.date != D(2026, 3, 6)


def test_30_working_days_across_national_day():
    # Wed 30 Sep 2026: 1–7 Oct off; Thu 8, Fri 9, Sat 10 (make-up) are the first three working days.
    assert rules.reporting_deadline(D(2026, 9, 30), 3, NO_DB.verdict).date == D(2026, 10, 10)
    # then 12–16, 19–23, 26–30 Oct (4–18), 2–6, 9–13 Nov (19–28), Mon 16 (29), Tue 17 (30).
    assert rules.reporting_deadline(D(2026, 9, 30), 30, NO_DB.verdict).date == D(2026, 11, 17)


def test_a_year_the_package_does_not_know_uses_the_admins_overrides():
    # 2027 Spring Festival as entered by an admin (explicit test data): Mon 8 – Fri 12 Feb off, Sat 13 worked.
    overrides = {D(2027, 2, 8) + dt.timedelta(days=k): False for k in range(5)} | {D(2027, 2, 13): True}
    calendar = WorkdayCalendar(overrides=overrides)
    deadline = rules.reporting_deadline(D(2027, 2, 5), 5, calendar.verdict)
    assert deadline.date == D(2027, 2, 18) and not deadline.provisional  # Sat 13, Mon 15 – Thu 18
    # Without the overrides the year is unknown: Monday to Friday, and the answer is provisional.
    fallback = rules.reporting_deadline(D(2027, 2, 5), 5, WorkdayCalendar(overrides={D(2027, 12, 31): False}).verdict)
    assert fallback.date == D(2027, 2, 12)


def test_late_means_recorded_after_the_deadline_day():
    kwargs = {"occurred_on": D(2026, 2, 13), "working_days": 15, "verdict": NO_DB.verdict}
    assert not rules.is_reported_late(recorded_on=D(2026, 3, 12), **kwargs)  # on the deadline day
    assert rules.is_reported_late(recorded_on=D(2026, 3, 13), **kwargs)  # the day after
    assert not rules.is_reported_late(occurred_on=D(2026, 2, 13), recorded_on=D(2026, 12, 1), working_days=None,
                                      verdict=NO_DB.verdict)


def test_days_by_kind_follows_the_enterprises_roles_and_takes_the_shorter_deadline():
    days = {"collection_store": 30, "dismantler_handover": 15, "dismantler_certificate": 15, "recycler_intake": 30,
            "recycler_disposal": 30, "vehicle_installation": 15, "repair_replacement": 30}
    assert rules.days_by_kind(["battery_maker"], days) == {}
    assert rules.days_by_kind(["vehicle_maker"], days) == {"installed": 15}
    both = rules.days_by_kind(["collection_point", "dismantler"], days)
    assert both["handed_over"] == 15 and both["received"] == 30 and both["removed"] == 15
    assert rules.days_by_kind(["recycler"], days) == {"received": 30, "recycled": 30, "remanufactured": 30}


def test_working_days_problem():
    assert rules.working_days_problem(15) is None
    assert rules.working_days_problem(0) == "out_of_range"
    assert rules.working_days_problem(251) == "out_of_range"
    assert rules.working_days_problem(1.5) == "not_whole"
    assert rules.working_days_problem(True) == "not_whole"


def test_cutoff_table_has_one_row_per_day_and_deadline_length():
    rows = rules.cutoff_table(D(2026, 2, 13), D(2026, 2, 14), [15, 30, 15], NO_DB.verdict)
    assert [(n, day) for n, day, _d in rows] == [(15, D(2026, 2, 13)), (30, D(2026, 2, 13)),
                                                 (15, D(2026, 2, 14)), (30, D(2026, 2, 14))]
    assert rows[0][2] == D(2026, 3, 12)


def test_cutoff_table_agrees_with_reporting_deadline_across_the_2026_holidays():
    overrides = {D(2026, 12, 28): False}  # an admin's extra day off, to make sure overrides count too
    calendar = WorkdayCalendar(overrides=overrides)
    rows = rules.cutoff_table(D(2026, 1, 20), D(2026, 12, 31), [15, 30], calendar.verdict)
    assert len(rows) == 2 * 346
    for n, day, deadline in rows:
        assert deadline == rules.reporting_deadline(day, n, calendar.verdict).date, (n, day)


def test_monthly_report_state_and_days_late():
    due = D(2026, 11, 10)
    assert rules.monthly_report_state(due=due, submitted_on=None, today=D(2026, 10, 20), month_ended=False) == "upcoming"
    assert rules.monthly_report_state(due=due, submitted_on=None, today=D(2026, 11, 10), month_ended=True) == "due"
    assert rules.monthly_report_state(due=due, submitted_on=None, today=D(2026, 11, 11), month_ended=True) == "overdue"
    assert rules.monthly_report_state(due=due, submitted_on=D(2026, 11, 10), today=D(2026, 12, 1),
                                      month_ended=True) == "on_time"
    assert rules.monthly_report_state(due=due, submitted_on=D(2026, 11, 12), today=D(2026, 12, 1),
                                      month_ended=True) == "late"
    assert rules.days_late(due=due, submitted_on=None, today=D(2026, 11, 26)) == 16
    assert rules.days_late(due=due, submitted_on=D(2026, 11, 12), today=D(2026, 11, 26)) == 2


def test_reminders_go_out_n_working_days_before_and_once_overdue():
    # Due Tue 10 Nov 2026; 3 working days before: from Thu 5 Nov (6, 9, 10 remain).
    kwargs = {"due": D(2026, 11, 10), "days_before": 3, "verdict": NO_DB.verdict}
    assert rules.reminder_kind(today=D(2026, 11, 4), submitted=False, **kwargs) is None
    assert rules.reminder_kind(today=D(2026, 11, 5), submitted=False, **kwargs) == "due_soon"
    assert rules.reminder_kind(today=D(2026, 11, 10), submitted=False, **kwargs) == "due_soon"
    assert rules.reminder_kind(today=D(2026, 11, 11), submitted=False, **kwargs) == "overdue"
    assert rules.reminder_kind(today=D(2026, 11, 11), submitted=True, **kwargs) is None
    assert rules.reminder_kind(today=D(2027, 1, 11), submitted=False, **kwargs) is None  # too old to remind of
