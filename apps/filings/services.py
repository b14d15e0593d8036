"""Writes of the review workflow and of the monthly pack-count report. Every entry point (page, API, task) calls
these; each checks the transition against apps.filings.rules and records a FilingTransition in the same
transaction. The filing is looked up in the actor's visible set under a row lock: another enterprise's filing,
or one outside a reviewer's provinces, is "not found"."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.services import service
from apps.core.validators import reject_markup
from apps.filings import rules
from apps.filings.models import (
    MONTHLY_COUNT_FIELDS,
    Filing,
    FilingComment,
    FilingKind,
    FilingStatus,
    FilingTransition,
    MonthlyReport,
    Notification,
    NotificationKind,
)

PDF_MAGIC = b"%PDF-"
IMAGE_MAGIC = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}

# --- helpers --------------------------------------------------------------------------------------------------


def _locked(actor, filing_id) -> Filing:
    try:
        return Filing.objects.visible_to(actor).select_for_update(of=("self",)).select_related("enterprise").get(
            pk=filing_id)
    except (Filing.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def _side(actor, filing: Filing | None = None) -> str | None:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return None
    if actor.kind in ("reviewer", "admin"):
        return rules.REVIEWER
    membership = actor.membership
    if membership is not None and membership.enterprise.is_active:
        return rules.COMPANY
    # An applicant's enterprise is not active until its registration is approved: on that one filing (and only
    # there) its staff act as the filing enterprise (ADR 0016).
    if (membership is not None and filing is not None and filing.kind == FilingKind.ENTERPRISE_REGISTRATION
            and filing.enterprise_id == membership.enterprise_id):
        return rules.COMPANY
    return None


def _require_side(actor, side: str, filing: Filing | None = None) -> None:
    if _side(actor, filing) != side:
        message = (_("Only reviewers take this action.") if side == rules.REVIEWER
                   else _("Only the filing enterprise's staff take this action."))
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, message=message, status=403)


def _move(filing: Filing, *, actor, action: str, comment: str = "", assignee=None) -> str:
    side = rules.COMPANY if action in ("submit", "resubmit", "withdraw") else rules.REVIEWER
    _require_side(actor, side, filing)
    new_status = rules.next_status(filing.status, action, side=side)
    if new_status is None:
        raise DomainError(
            code=ErrorCode.FILING_TRANSITION_NOT_ALLOWED, status=409,
            message=_("A filing that is “%(status)s” cannot be %(action)s.")
            % {"status": filing.get_status_display(), "action": ACTION_VERBS[action]})
    if action in rules.COMMENT_REQUIRED and not comment.strip():
        raise DomainError(code=ErrorCode.COMMENT_REQUIRED, field="comment",
                          message=_("Say why, so that the enterprise knows what to do."))
    FilingTransition.objects.create(filing=filing, action=action, from_status=filing.status, to_status=new_status,
                                    actor=actor, assignee=assignee, comment=comment)
    filing.status = new_status
    filing.updated_by = actor
    _kind_effect(filing, actor=actor, action=action, comment=comment)
    return new_status


# Kinds whose transitions change something outside the filing (the enterprise, the licence register, a scrapping
# intake). The kind's own app does it in the same transaction, through its own services, so that its rules stay
# in one place (ADR 0016). Called as effect(filing, actor=, action=, comment=) with filing.status already the new
# status; raising a DomainError refuses the transition and changes nothing.
KIND_EFFECTS = {
    FilingKind.ENTERPRISE_REGISTRATION: "apps.enterprises.services.registration_filing_moved",
    FilingKind.LICENCE_APPLICATION: "apps.enterprises.services.licence_application_moved",
    FilingKind.MISMATCH_DECISION: "apps.scrapping.services.mismatch_filing_moved",
    FilingKind.EXPLANATION: "apps.filings.explanation_services.explanation_filing_moved",
}


def _kind_effect(filing: Filing, *, actor, action: str, comment: str) -> None:
    from django.utils.module_loading import import_string

    path = KIND_EFFECTS.get(filing.kind)
    if path is not None:
        import_string(path)(filing, actor=actor, action=action, comment=comment)


def filing_open_submitted(*, actor, kind: str, enterprise) -> Filing:
    """A filing that is submitted the moment it exists (a registration; a scrapping mismatch awaiting a
    decision), with its submit transition. Not a service of its own: the caller's service checked who may file it
    and runs this in its transaction."""
    now = timezone.now()
    filing = Filing.objects.create(kind=kind, enterprise=enterprise, province=enterprise.province,
                                   status=FilingStatus.SUBMITTED, submitted_at=now, first_submitted_at=now,
                                   created_by=actor, updated_by=actor)
    FilingTransition.objects.create(filing=filing, action="submit", from_status=FilingStatus.DRAFT,
                                    to_status=FilingStatus.SUBMITTED, actor=actor)
    return filing


ACTION_VERBS = {
    "submit": _("submitted"), "resubmit": _("resubmitted"), "claim": _("claimed"), "assign": _("assigned"),
    "approve": _("approved"), "reject": _("rejected"), "return": _("returned for correction"),
    "withdraw": _("withdrawn"),
}


def filing_withdraw_with_subject(*, actor, filing: Filing, comment: str) -> Filing:
    """Close a filing because the enterprise took back its subject (a scrapping intake withdrawn): the transition
    *withdraw* of the workflow table, with an automatic comment saying why. Not a service of its own: the kind's
    service checked who may take the subject back, locked it and runs this in its transaction. A filing already
    decided (approved, rejected) or withdrawn is left as it is."""
    if not rules.may_withdraw(filing.kind):
        raise DomainError(code=ErrorCode.FILING_TRANSITION_NOT_ALLOWED, status=409,
                          message=_("A filing of this kind cannot be withdrawn."))
    filing = Filing.objects.select_for_update().get(pk=filing.pk)
    if rules.next_status(filing.status, "withdraw", side=rules.COMPANY) is None:
        return filing
    _move(filing, actor=actor, action="withdraw", comment=comment)
    filing.save(update_fields=["status", "updated_by", "updated_at"])
    return filing


def _clean_comment(comment: str | None, *, field: str = "comment") -> str:
    return reject_markup((comment or "").strip(), field=field)[:4000]


def _notify(filing: Filing, kind: str, comment: str = "") -> Notification:
    from apps.filings.tasks import notification_email_send

    notification = Notification.objects.create(enterprise_id=filing.enterprise_id, filing=filing, kind=kind,
                                               comment=comment)
    from apps.core.outbox import enqueue

    enqueue(notification_email_send, notification.pk)
    return notification


def _require_decider(filing: Filing, actor) -> None:
    if actor.kind != "admin" and filing.assigned_to_id != actor.pk:
        raise DomainError(code=ErrorCode.FILING_NOT_ASSIGNED_TO_YOU, status=409,
                          message=_("This filing is in the hands of another reviewer; claim or be assigned it first."))


# --- the monthly pack-count report ------------------------------------------------------------------------------


def _clean_counts(counts: dict) -> dict[str, int]:
    cleaned = {}
    for name, _kind in MONTHLY_COUNT_FIELDS:
        value = counts.get(name, 0)
        value = 0 if value in (None, "") else value
        problem = rules.count_problem(value)
        if problem == "negative":
            raise DomainError(code=ErrorCode.COUNT_INVALID, field=name,
                              message=_("A count cannot be negative (%(value)s was given).") % {"value": value})
        if problem is not None:
            raise DomainError(code=ErrorCode.COUNT_INVALID, field=name,
                              message=_("A count is a whole number of packs (%(value)s was given).") % {"value": value})
        cleaned[name] = int(value)
        if cleaned[name] > 2_000_000_000:
            raise DomainError(code=ErrorCode.COUNT_INVALID, field=name, message=_("This count is too large."))
    return cleaned


def _clean_month(month) -> dt.date:
    if isinstance(month, str):
        try:
            month = dt.date.fromisoformat(month if len(month) > 7 else f"{month}-01")
        except ValueError:
            month = None
    if not isinstance(month, dt.date) or isinstance(month, dt.datetime) or not 2000 <= month.year <= 2100:
        raise DomainError(code=ErrorCode.REPORT_MONTH_INVALID, field="month",
                          message=_("Give the month as YYYY-MM, e.g. 2026-04."))
    month = rules.month_start(month)
    if rules.is_future_month(month, today=timezone.localdate()):
        raise DomainError(code=ErrorCode.REPORT_MONTH_IN_FUTURE, field="month",
                          message=_("%(month)s has not begun yet: a report covers a past or the current month.")
                          % {"month": month.strftime("%Y-%m")})
    return month


def _month_must_be_free(enterprise, month: dt.date) -> None:
    live = (Filing.objects.filter(enterprise=enterprise, kind=FilingKind.MONTHLY_REPORT, period=month)
            .exclude(status=FilingStatus.REJECTED).first())
    if live is None:
        return
    if live.status == FilingStatus.APPROVED:
        raise DomainError(code=ErrorCode.REPORT_MONTH_APPROVED, field="month", status=409,
                          message=_("The report for %(month)s was already approved; it can no longer be changed.")
                          % {"month": month.strftime("%Y-%m")})
    raise DomainError(code=ErrorCode.REPORT_MONTH_DUPLICATE, field="month", status=409,
                      message=_("Your enterprise already has a report for %(month)s (no. %(pk)s, %(status)s): "
                                "correct that one instead of filing a second.")
                      % {"month": month.strftime("%Y-%m"), "pk": live.pk, "status": live.get_status_display()})


@service
def monthly_report_create(*, actor, month, counts: dict) -> Filing:
    """A draft monthly pack-count report for `month` of the actor's enterprise."""
    from apps.enterprises.models import Enterprise

    _require_side(actor, rules.COMPANY)
    month = _clean_month(month)
    cleaned = _clean_counts(counts)
    # Serialise reports of one enterprise: the duplicate check below then cannot race.
    enterprise = Enterprise.objects.select_for_update().get(pk=actor.membership.enterprise_id)
    _month_must_be_free(enterprise, month)
    due = rules.monthly_report_due_date(month, due_day=settings.FILINGS_MONTHLY_REPORT_DUE_DAY)
    try:
        with transaction.atomic():
            filing = Filing.objects.create(kind=FilingKind.MONTHLY_REPORT, enterprise=enterprise,
                                           province=enterprise.province, period=month, due_date=due,
                                           created_by=actor, updated_by=actor)
    except IntegrityError:
        _month_must_be_free(enterprise, month)
        raise
    MonthlyReport.objects.create(filing=filing, **cleaned)
    return filing


@service
def monthly_report_update(*, actor, filing_id, counts: dict) -> Filing:
    """Change the counts of a draft, or of a report returned for correction."""
    _require_side(actor, rules.COMPANY)
    filing = _locked(actor, filing_id)
    if filing.kind != FilingKind.MONTHLY_REPORT:
        # Each kind is corrected through its own endpoint; counts sent to another kind must not answer "200, saved".
        raise DomainError(code=ErrorCode.FILING_WRONG_KIND, status=409,
                          message=_("This filing is a “%(kind)s”, not a monthly pack-count report; correct it on its "
                                    "own page or endpoint.") % {"kind": filing.get_kind_display()})
    if filing.status not in rules.EDITABLE_STATUSES:
        raise DomainError(code=ErrorCode.FILING_NOT_EDITABLE, status=409,
                          message=_("Only a draft or a filing returned for correction can be changed."))
    cleaned = _clean_counts(counts)
    MonthlyReport.objects.filter(filing=filing).update(**cleaned)
    filing.updated_by = actor
    filing.save(update_fields=["updated_by", "updated_at"])
    return filing


# --- the workflow -------------------------------------------------------------------------------------------------


def _reconcile_on_commit(filing: Filing) -> None:
    """A filed report is compared with the ledger at once (apps.reconciliation), not only at night."""
    from apps.reconciliation.tasks import reconciliation_run_enterprise

    from apps.core.outbox import enqueue

    enqueue(reconciliation_run_enterprise, filing.enterprise_id)


def _flag_ledger_mismatch(filing: Filing) -> None:
    """A monthly report whose declared counts differ from the ledger is flagged `ledger_mismatch` (the queue's
    risk sort and badges read it); a corrected one loses the flag. Other kinds' flags are left alone."""
    if filing.kind != FilingKind.MONTHLY_REPORT:
        return
    from apps.filings.selectors import monthly_report_ledger_mismatch

    filing.flags = rules.with_flag(list(filing.flags or []), rules.LEDGER_MISMATCH,
                                   bool(monthly_report_ledger_mismatch(filing)))


@service
def filing_submit(*, actor, filing_id) -> Filing:
    filing = _locked(actor, filing_id)
    _move(filing, actor=actor, action="submit")
    now = timezone.now()
    filing.submitted_at = now
    filing.first_submitted_at = filing.first_submitted_at or now
    _flag_ledger_mismatch(filing)
    filing.save()
    _reconcile_on_commit(filing)
    return filing


@service
def filing_resubmit(*, actor, filing_id, comment: str = "") -> Filing:
    filing = _locked(actor, filing_id)
    _move(filing, actor=actor, action="resubmit", comment=_clean_comment(comment))
    filing.submitted_at = timezone.now()
    filing.assigned_to, filing.assigned_at = None, None
    _flag_ledger_mismatch(filing)
    filing.save()
    _reconcile_on_commit(filing)
    return filing


@service
def filing_claim(*, actor, filing_id) -> Filing:
    filing = _locked(actor, filing_id)
    _move(filing, actor=actor, action="claim", assignee=actor)
    filing.assigned_to, filing.assigned_at = actor, timezone.now()
    filing.save()
    return filing


@service
def filing_assign(*, actor, filing_id, reviewer_id) -> Filing:
    """Put the filing in another reviewer's hands (who must cover the enterprise's province)."""
    filing = _locked(actor, filing_id)
    _require_side(actor, rules.REVIEWER)
    assignee = User.objects.filter(pk=reviewer_id, kind="reviewer", is_active=True).first() \
        if str(reviewer_id).isdigit() else None
    if assignee is None or (assignee.reviewer_provinces and filing.province not in assignee.reviewer_provinces):
        raise DomainError(code=ErrorCode.ASSIGNEE_INVALID, field="reviewer",
                          message=_("Choose an active reviewer whose provinces include this enterprise's."))
    _move(filing, actor=actor, action="assign", assignee=assignee)
    filing.assigned_to, filing.assigned_at = assignee, timezone.now()
    filing.save()
    return filing


def _decide(*, actor, filing_id, action: str, comment: str, confirmed: bool, kind: str) -> Filing:
    filing = _locked(actor, filing_id)
    _require_side(actor, rules.REVIEWER)
    if filing.status == FilingStatus.IN_REVIEW:
        _require_decider(filing, actor)
    comment = _clean_comment(comment)
    if not confirmed:
        raise DomainError(code=ErrorCode.CONFIRMATION_REQUIRED, field="confirm",
                          message=_("Tick the box to confirm the decision."))
    _move(filing, actor=actor, action=action, comment=comment)
    filing.decided_at, filing.decided_by = timezone.now(), actor
    filing.save()
    _notify(filing, kind, comment)
    if action in ("return", "reject"):
        # the enterprise may now be a repeat offender: the queue's cached set is recomputed at its next read
        from apps.filings.risk import repeat_offenders_changed

        transaction.on_commit(repeat_offenders_changed)
    return filing


@service
def filing_approve(*, actor, filing_id, comment: str = "", confirmed: bool = True) -> Filing:
    return _decide(actor=actor, filing_id=filing_id, action="approve", comment=comment, confirmed=confirmed,
                   kind=NotificationKind.APPROVED)


@service
def filing_reject(*, actor, filing_id, comment: str, confirmed: bool = True) -> Filing:
    return _decide(actor=actor, filing_id=filing_id, action="reject", comment=comment, confirmed=confirmed,
                   kind=NotificationKind.REJECTED)


@service
def filing_return(*, actor, filing_id, comment: str, confirmed: bool = True) -> Filing:
    return _decide(actor=actor, filing_id=filing_id, action="return", comment=comment, confirmed=confirmed,
                   kind=NotificationKind.RETURNED)


def _check_attachment(upload) -> str:
    """A PDF, JPEG or PNG, recognised by its first bytes; returns the suffix to store it under."""
    if upload.size > settings.FILINGS_ATTACHMENT_MAX_BYTES:
        raise DomainError(code=ErrorCode.FILE_TOO_LARGE, field="attachment",
                          message=_("The file is %(size).1f MB; the limit is %(limit).0f MB.")
                          % {"size": upload.size / 1048576, "limit": settings.FILINGS_ATTACHMENT_MAX_BYTES / 1048576})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if head.startswith(PDF_MAGIC):
        return ".pdf"
    for magic, suffix in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return suffix
    raise DomainError(code=ErrorCode.ATTACHMENT_INVALID, field="attachment",
                      message=_("Attach a PDF document or a JPEG or PNG image (judged by its content, not its name)."))


@service
def filing_comment_add(*, actor, filing_id, body: str, attachment=None) -> FilingComment:
    """Add to the thread; a reviewer's comment is notified to the enterprise."""
    filing = _locked(actor, filing_id)
    if _side(actor, filing) is None:
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, message=_("Your role does not allow this action."),
                          status=403)
    body = _clean_comment(body, field="body")
    if not body:
        raise DomainError(code=ErrorCode.COMMENT_REQUIRED, field="body", message=_("Write a comment."))
    comment = FilingComment(filing=filing, author=actor, body=body)
    if attachment is not None:
        suffix = _check_attachment(attachment)
        comment.attachment_name = reject_markup(str(attachment.name or ""), field="attachment")[:200]
        comment.attachment.save(f"attachment{suffix}", attachment, save=False)
    comment.save()
    if _side(actor, filing) == rules.REVIEWER:
        _notify(filing, NotificationKind.COMMENT, body)
    return comment


@service
def notifications_mark_read(*, actor) -> int:
    return Notification.objects.for_user(actor).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- bulk actions of the reviewer queue ---------------------------------------------------------------------------

BULK_ACTIONS = ("claim", "assign", "return")
BULK_MAX = 200


def reviewer_by_username(username: str) -> User:
    """The active reviewer a bulk assignment names (by username, as the queue's search suggests it)."""
    assignee = User.objects.filter(username=(username or "").strip(), kind="reviewer", is_active=True).first()
    if assignee is None:
        raise DomainError(code=ErrorCode.ASSIGNEE_INVALID, field="reviewer",
                          message=_("No active reviewer has the username “%(username)s”.")
                          % {"username": (username or "").strip()[:150]})
    return assignee


def _bulk_one(*, actor, action: str, filing_id: int, assignee=None, comment: str = "") -> tuple[str, Filing]:
    """One filing of a bulk action, through its single-filing service(s) in one transaction. Returns (outcome,
    filing): "done", or "unchanged" when the filing was already where the action would put it (a retried bulk
    request then reports the same success instead of an error)."""
    with transaction.atomic():
        filing = _locked(actor, filing_id)
        if action == "claim":
            if filing.status == FilingStatus.IN_REVIEW and filing.assigned_to_id == actor.pk:
                return "unchanged", filing
            return "done", filing_claim(actor=actor, filing_id=filing.pk)
        if action == "assign":
            if filing.status == FilingStatus.IN_REVIEW and filing.assigned_to_id == assignee.pk:
                return "unchanged", filing
            return "done", filing_assign(actor=actor, filing_id=filing.pk, reviewer_id=assignee.pk)
        # return: a filing nobody has claimed yet is claimed by the actor first, in the same transaction
        if filing.status in (FilingStatus.SUBMITTED, FilingStatus.RESUBMITTED):
            filing_claim(actor=actor, filing_id=filing.pk)
        return "done", filing_return(actor=actor, filing_id=filing.pk, comment=comment)


def filings_bulk_arguments(*, action: str, reviewer: str = "", comment: str = "") -> tuple[User | None, str]:
    """The bulk action's own arguments, checked (also before the queue's confirmation page): the assignee of an
    assignment (an active reviewer), and the cleaned comment, required to return. Returns (assignee, comment)."""
    assignee = reviewer_by_username(reviewer) if action == "assign" else None
    comment = _clean_comment(comment)
    if action == "return" and not comment:
        raise DomainError(code=ErrorCode.COMMENT_REQUIRED, field="comment",
                          message=_("Say why, so that the enterprise knows what to do."))
    return assignee, comment


def filings_bulk_act(*, actor, action: str, filing_ids, reviewer: str = "", comment: str = "") -> list[dict]:
    """Claim, assign or return several filings of the queue, each in its own transaction through the single-filing
    services (one filing failing — another reviewer took it — leaves the others done). Returns, per filing in the
    order given: {"id", "ok", "outcome" (done / unchanged / failed), "status", "code", "message"}. A filing the actor
    may not see fails exactly like one that does not exist."""
    _require_side(actor, rules.REVIEWER)
    if action not in BULK_ACTIONS:
        raise DomainError(code=ErrorCode.INVALID, field="action",
                          message=_("Choose claim, assign or return."))
    ids = list(dict.fromkeys(int(i) for i in filing_ids if str(i).isdigit()))
    if not ids:
        raise DomainError(code=ErrorCode.INVALID, field="ids", message=_("Select at least one filing."))
    if len(ids) > BULK_MAX:
        raise DomainError(code=ErrorCode.INVALID, field="ids",
                          message=_("Select at most %(max)d filings at a time.") % {"max": BULK_MAX})
    assignee, comment = filings_bulk_arguments(action=action, reviewer=reviewer, comment=comment)
    results = []
    for filing_id in ids:
        try:
            outcome, filing = _bulk_one(actor=actor, action=action, filing_id=filing_id, assignee=assignee,
                                        comment=comment)
        except DomainError as exc:
            results.append({"id": filing_id, "ok": False, "outcome": "failed", "status": None, "code": exc.code,
                            "message": str(exc.message)})
        else:
            results.append({"id": filing_id, "ok": True, "outcome": outcome, "status": filing.status, "code": "",
                            "message": ""})
    return results
