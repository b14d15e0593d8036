"""The transition table and the monthly report's calendar arithmetic: pure, no database."""
from __future__ import annotations

import datetime as dt

import pytest

from apps.filings import rules


@pytest.mark.parametrize("status,action,side,expected", [
    ("draft", "submit", "company", "submitted"),
    ("submitted", "claim", "reviewer", "in_review"),
    ("resubmitted", "claim", "reviewer", "in_review"),
    ("submitted", "assign", "reviewer", "in_review"),
    ("in_review", "assign", "reviewer", "in_review"),
    ("in_review", "approve", "reviewer", "approved"),
    ("in_review", "reject", "reviewer", "rejected"),
    ("in_review", "return", "reviewer", "returned"),
    ("returned", "resubmit", "company", "resubmitted"),
])
def test_allowed_transitions(status, action, side, expected):
    assert rules.next_status(status, action, side=side) == expected


@pytest.mark.parametrize("status,action,side", [
    ("draft", "submit", "reviewer"),  # a reviewer never files for a company
    ("draft", "approve", "reviewer"),  # nothing is decided before it is filed
    ("submitted", "approve", "reviewer"),  # claimed first
    ("in_review", "claim", "reviewer"),  # already in someone's hands
    ("in_review", "approve", "company"),
    ("approved", "return", "reviewer"),  # decisions are final
    ("rejected", "resubmit", "company"),
    ("approved", "resubmit", "company"),
    ("submitted", "submit", "company"),
    ("returned", "approve", "reviewer"),
])
def test_refused_transitions(status, action, side):
    assert rules.next_status(status, action, side=side) is None


def test_allowed_actions_by_side():
    assert rules.allowed_actions("in_review", side="reviewer") == ["assign", "approve", "reject", "return"]
    assert rules.allowed_actions("in_review", side="company") == ["withdraw"]
    assert rules.allowed_actions("returned", side="company") == ["resubmit", "withdraw"]
    assert rules.allowed_actions("withdrawn", side="company") == rules.allowed_actions("withdrawn",
                                                                                       side="reviewer") == []
    assert rules.may_withdraw("mismatch_decision") and not rules.may_withdraw("monthly_report")


@pytest.mark.parametrize("month,due_day,expected", [
    (dt.date(2026, 4, 1), 10, dt.date(2026, 5, 10)),
    (dt.date(2026, 12, 17), 10, dt.date(2027, 1, 10)),
    (dt.date(2026, 1, 1), 31, dt.date(2026, 2, 28)),
    (dt.date(2026, 1, 1), 0, dt.date(2026, 2, 1)),
])
def test_due_date_is_a_day_of_the_next_month(month, due_day, expected):
    assert rules.monthly_report_due_date(month, due_day=due_day) == expected


def test_future_month():
    today = dt.date(2026, 5, 31)
    assert rules.is_future_month(dt.date(2026, 6, 1), today=today)
    assert not rules.is_future_month(dt.date(2026, 5, 1), today=today)
    assert not rules.is_future_month(dt.date(2025, 12, 1), today=today)


def test_overdue():
    due = dt.date(2026, 5, 10)
    assert not rules.is_overdue(due_date=due, submitted_on=None, today=due)
    assert rules.is_overdue(due_date=due, submitted_on=None, today=dt.date(2026, 5, 11))
    assert not rules.is_overdue(due_date=due, submitted_on=due, today=dt.date(2026, 6, 1))
    assert rules.is_overdue(due_date=due, submitted_on=dt.date(2026, 5, 11), today=dt.date(2026, 6, 1))
    assert not rules.is_overdue(due_date=None, submitted_on=None, today=due)


@pytest.mark.parametrize("value,problem", [
    (0, None), (7, None), ("12", None), (3.0, None),
    (-1, "negative"), ("-4", "negative"), (2.5, "not_whole"), ("1.5", "not_whole"), ("ten", "not_whole"),
    (True, "not_whole"), (None, "not_whole"),
])
def test_count_problem(value, problem):
    assert rules.count_problem(value) == problem
