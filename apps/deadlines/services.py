"""Writes of apps.deadlines: an admin changes a reporting deadline (audited), and the daily reminders."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.errors import DomainError, ErrorCode
from apps.core.services import service
from apps.core.validators import reject_markup
from apps.core.workdays import WorkdayCalendar
from apps.deadlines import rules
from apps.deadlines.models import ReportingDeadline, ReportingDeadlineChange, ReportingDuty


def _require_admin(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_active or actor.kind != "admin":
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403,
                          message=_("Only administrators change reporting deadlines."))


@service
def reporting_deadline_set(*, actor, duty: str, working_days, reason: str = "") -> ReportingDeadline:
    """An admin sets the deadline of one duty (DOMAIN.md rule 5: the 2026 values are unverified). The change is
    recorded with who, when, old and new value; setting the same value again records nothing."""
    _require_admin(actor)
    if duty not in ReportingDuty.values:
        raise DomainError(code=ErrorCode.DEADLINE_INVALID, field="duty", message=_("Unknown reporting duty."))
    problem = rules.working_days_problem(working_days)
    if problem is not None:
        raise DomainError(code=ErrorCode.DEADLINE_INVALID, field="working_days",
                          message=_("A deadline is a whole number of working days from %(min)d to %(max)d "
                                    "(%(value)s was given).")
                          % {"min": rules.MIN_DAYS, "max": rules.MAX_DAYS, "value": working_days})
    reason = reject_markup((reason or "").strip(), field="reason")[:500]
    deadline = ReportingDeadline.objects.select_for_update().filter(duty=duty).first()
    if deadline is None:  # a duty added after the seeding migration
        deadline = ReportingDeadline(duty=duty, working_days=settings.REPORTING_DEADLINE_DEFAULTS.get(duty, 30),
                                     created_by=actor)
        deadline.save()
    old = deadline.working_days
    if old == working_days:
        return deadline
    deadline.working_days, deadline.updated_by = working_days, actor
    deadline.save(update_fields=["working_days", "updated_by", "updated_at"])
    ReportingDeadlineChange.objects.create(deadline=deadline, old_working_days=old, new_working_days=working_days,
                                           reason=reason, actor=actor)
    return deadline


# --- reminders -------------------------------------------------------------------------------------------------


def _months_to_check(today: dt.date) -> list[dt.date]:
    """The months whose report can need a reminder today: the last one (due this month) and the one before."""
    from apps.filings.rules import month_start

    last = month_start(month_start(today) - dt.timedelta(days=1))
    return [month_start(last - dt.timedelta(days=1)), last]


@service
def deadline_reminders_send(*, actor=None, today: dt.date | None = None) -> int:
    """Notify (in the portal and by e-mail) every active enterprise whose monthly report is due within
    settings.FILINGS_REMINDER_WORKING_DAYS working days, or became overdue, and is not submitted yet.

    Idempotent: the ReminderSent row (enterprise, month, kind) is inserted first with ON CONFLICT DO NOTHING, and
    only the enterprises whose row was new are notified — a second run the same day sends nothing."""
    from apps.filings.models import Notification, NotificationKind
    from apps.filings.rules import monthly_report_due_date, next_month
    from apps.filings.tasks import notification_email_send

    today = today or timezone.localdate()
    calendar = WorkdayCalendar()
    sent = 0
    for month in _months_to_check(today):
        due = monthly_report_due_date(month, due_day=settings.FILINGS_MONTHLY_REPORT_DUE_DAY)
        kind = rules.reminder_kind(due=due, today=today, submitted=False,
                                   days_before=settings.FILINGS_REMINDER_WORKING_DAYS, verdict=calendar.verdict)
        if kind is None:
            continue
        # Active enterprises approved before the month ended, without a report for it that was ever submitted.
        month_end = dt.datetime.combine(next_month(month), dt.time(), timezone.get_current_timezone())
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO deadlines_remindersent (enterprise_id, period, kind, sent_on, created_at)
                SELECT ent.id, %(month)s, %(kind)s, %(today)s, now()
                  FROM enterprises_enterprise ent
                 WHERE ent.status = 'active' AND coalesce(ent.approved_at, ent.created_at) < %(month_end)s
                   AND NOT EXISTS (SELECT 1 FROM filings_filing f
                                    WHERE f.enterprise_id = ent.id AND f.kind = 'monthly_report'
                                      AND f.period = %(month)s AND f.status <> 'rejected'
                                      AND f.first_submitted_at IS NOT NULL)
                ON CONFLICT (enterprise_id, period, kind) DO NOTHING
                RETURNING enterprise_id
                """, {"month": month, "kind": kind, "today": today, "month_end": month_end})
            enterprise_ids = [row[0] for row in cursor.fetchall()]
        if not enterprise_ids:
            continue
        drafts = dict(_live_reports(enterprise_ids, month))
        notification_kind = NotificationKind.REPORT_DUE if kind == "due_soon" else NotificationKind.REPORT_OVERDUE
        with translation.override(settings.LANGUAGE_CODE):
            comment = (_("The monthly pack-count report for %(month)s is due on %(due)s.") if kind == "due_soon"
                       else _("The monthly pack-count report for %(month)s was due on %(due)s and has not been "
                          "submitted.")) % {"month": month.strftime("%Y-%m"), "due": due.isoformat()}
        created = Notification.objects.bulk_create([
            Notification(enterprise_id=eid, filing_id=drafts.get(eid), kind=notification_kind, comment=comment)
            for eid in enterprise_ids])
        ids = [n.pk for n in created]
        from apps.core.outbox import enqueue

        for pk in ids:
            enqueue(notification_email_send, pk)
        sent += len(created)
    return sent


def _live_reports(enterprise_ids: list[int], month: dt.date):
    """The live (unsubmitted) report of each enterprise for `month`, to link the notification to it."""
    from apps.filings.models import Filing

    return (Filing.objects.filter(enterprise_id__in=enterprise_ids, kind="monthly_report", period=month)
            .exclude(status="rejected").values_list("enterprise_id", "pk"))
