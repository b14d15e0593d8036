"""The daily reminder task: N working days before a monthly report's due date and on the day it becomes overdue,
in the portal and by e-mail; once per enterprise, month and kind (a re-run the same day sends nothing); never for
a report already submitted. Due day: the 10th (settings.FILINGS_MONTHLY_REPORT_DUE_DAY), 3 working days before."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from apps.deadlines import services, tasks
from apps.deadlines.models import ReminderSent
from apps.filings import services as filing_services
from apps.filings.models import Notification
from tests.deadlines.conftest import at

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.FILINGS_MONTHLY_REPORT_DUE_DAY = 10
    settings.FILINGS_REMINDER_WORKING_DAYS = 3


@pytest.fixture
def approved_carco(carco):
    carco.approved_at = at(D(2026, 6, 1))
    carco.save()
    return carco


def test_nothing_is_sent_before_the_reminder_window(approved_carco):
    # 4 Nov: the October report is due on Tue 10 Nov, 4 working days ahead (5, 6, 9, 10): not yet. September's
    # (due 10 Oct) is overdue and has not been reminded of: that one goes out.
    assert services.deadline_reminders_send(today=D(2026, 11, 4)) == 1
    assert Notification.objects.get(enterprise=approved_carco).kind == "report_overdue"


def test_due_soon_then_overdue_each_once_with_email(approved_carco, carmaker_staff,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.deadline_reminders_send(today=D(2026, 11, 5))
    assert sent == 2  # October due soon, September overdue
    kinds = sorted(Notification.objects.filter(enterprise=approved_carco).values_list("kind", flat=True))
    assert kinds == ["report_due", "report_overdue"]
    assert "2026-10" in Notification.objects.get(kind="report_due").comment
    assert len(mail.outbox) == 2 and carmaker_staff.email in mail.outbox[0].to
    # The same day again, and the next days before the due date: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.deadline_reminders_send(today=D(2026, 11, 5)) == 0
        assert services.deadline_reminders_send(today=D(2026, 11, 9)) == 0
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2
    # 11 Nov: October becomes overdue: one more.
    assert services.deadline_reminders_send(today=D(2026, 11, 11)) == 1
    assert services.deadline_reminders_send(today=D(2026, 11, 11)) == 0
    assert ReminderSent.objects.filter(enterprise=approved_carco).count() == 3


def test_never_for_a_submitted_report(approved_carco, carmaker_staff):
    for month in (D(2026, 9, 1), D(2026, 10, 1)):
        filing = filing_services.monthly_report_create(actor=carmaker_staff, month=month, counts={})
        filing_services.filing_submit(actor=carmaker_staff, filing_id=filing.pk)
    assert services.deadline_reminders_send(today=D(2026, 11, 5)) == 0
    assert not Notification.objects.exists()


def test_a_draft_is_reminded_and_linked(approved_carco, carmaker_staff):
    draft = filing_services.monthly_report_create(actor=carmaker_staff, month=D(2026, 10, 1), counts={})
    services.deadline_reminders_send(today=D(2026, 11, 6))
    assert Notification.objects.get(kind="report_due").filing_id == draft.pk


def test_an_enterprise_approved_after_the_month_owes_no_report(carco):
    carco.approved_at = at(D(2026, 11, 2))
    carco.save()
    assert services.deadline_reminders_send(today=D(2026, 11, 5)) == 0


def test_the_beat_task_is_scheduled_and_safe_to_rerun(settings, approved_carco):
    assert settings.CELERY_BEAT_SCHEDULE["deadline-reminders-daily"]["task"] == "apps.deadlines.tasks.deadline_reminders_send"
    first = tasks.deadline_reminders_send()
    assert tasks.deadline_reminders_send() == 0
    assert Notification.objects.count() == first
