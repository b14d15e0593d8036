"""Writes of the enforcement workflow (ADR 0015). Every entry point (page, API, the discrepancy escalation) calls
these; each checks the step against apps.enforcement.rules, locks the action row and records an ActionTransition
(who, when, from, to, why) in the same transaction. The action is looked up in the actor's visible set: another
enterprise's action, a draft for an enterprise, or an action outside a reviewer's provinces is "not found"."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.services import service
from apps.core.validators import PDF_MAGIC, reject_markup
from apps.enforcement import rules
from apps.enforcement.models import (
    ActionStatus,
    ActionTransition,
    EnforcementAction,
    EvidenceDiscrepancy,
    EvidenceEvent,
    EvidenceFiling,
    Outcome,
)

MAX_EVIDENCE = 200  # links of each kind on one action: evidence is picked, not dumped

STEP_VERBS = {
    "submit": _("submitted for second approval"), "approve": _("approved and issued"),
    "refuse": _("returned to the drafter"), "answer": _("answered"), "close": _("closed"),
}

# --- helpers --------------------------------------------------------------------------------------------------


def _side(actor) -> str | None:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return None
    if actor.kind in ("reviewer", "admin"):
        return rules.REVIEWER
    membership = actor.membership
    if membership is not None and membership.enterprise.is_active:
        return rules.COMPANY
    return None


def _require_side(actor, side: str) -> None:
    if _side(actor) != side:
        message = (_("Only reviewers take this action.") if side == rules.REVIEWER
                   else _("Only the enterprise's staff answer an enforcement action."))
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, message=message, status=403)


def _locked(actor, action_id) -> EnforcementAction:
    try:
        return (EnforcementAction.objects.visible_to(actor).select_for_update(of=("self",))
                .select_related("enterprise").get(pk=action_id))
    except (EnforcementAction.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def _move(action: EnforcementAction, *, actor, step: str, comment: str = "") -> str:
    side = rules.COMPANY if step == "answer" else rules.REVIEWER
    _require_side(actor, side)
    new_status = rules.next_status(action.status, step, side=side)
    if new_status is None:
        raise DomainError(
            code=ErrorCode.ENFORCEMENT_TRANSITION_NOT_ALLOWED, status=409,
            message=_("An enforcement action that is “%(status)s” cannot be %(step)s.")
            % {"status": action.get_status_display(), "step": STEP_VERBS[step]})
    if step in rules.SECOND_REVIEWER_STEPS and rules.four_eyes_problem(
            drafter_id=action.created_by_id, approver_id=actor.pk):
        raise DomainError(
            code=ErrorCode.FOUR_EYES_REQUIRED, status=409,
            message=_("You drafted this action: a second reviewer must approve or return it (four eyes)."))
    if step in rules.COMMENT_REQUIRED and not comment.strip():
        raise DomainError(code=ErrorCode.COMMENT_REQUIRED, field="comment",
                          message=_("Say why, so that the drafter or the enterprise knows the reason."))
    ActionTransition.objects.create(action=action, verb=step, from_status=action.status, to_status=new_status,
                                    actor=actor, comment=comment)
    action.status = new_status
    action.updated_by = actor
    return new_status


def _clean_comment(comment: str | None, *, field: str = "comment") -> str:
    return reject_markup((comment or "").strip(), field=field)[:4000]


def _clean_text(value, *, field: str, label) -> str:
    text = reject_markup(str(value or "").strip(), field=field)
    if not text:
        raise DomainError(code=ErrorCode.TEXT_REQUIRED, field=field,
                          message=_("Write the %(label)s: an enforcement action states them.") % {"label": label})
    if len(text) > 10000:
        raise DomainError(code=ErrorCode.TEXT_REQUIRED, field=field,
                          message=_("The %(label)s are limited to 10,000 characters.") % {"label": label})
    return text


def _clean_kind(kind) -> str:
    from apps.enforcement.models import ActionKind

    if kind not in ActionKind.values:
        raise DomainError(code=ErrorCode.INVALID, field="kind",
                          message=_("Choose the kind of action: order to correct, warning or fine."))
    return kind


AMOUNT_MESSAGES = {
    "required": _("A fine states its amount in yuan."),
    "not_a_number": _("Give the amount in yuan as a number, e.g. 50000 or 12500.50."),
    "not_positive": _("A fine is more than 0 yuan."),
    "too_precise": _("An amount has at most two decimals (fen)."),
    "too_large": _("This amount is above 100,000,000 yuan: check for a typing error."),
    "not_for_this_kind": _("Only a fine has an amount: leave it empty for an order to correct or a warning."),
}


def _clean_amount(kind: str, amount) -> Decimal | None:
    problem = rules.amount_problem(kind, amount)
    if problem:
        raise DomainError(code=ErrorCode.AMOUNT_INVALID, field="amount", message=AMOUNT_MESSAGES[problem])
    return Decimal(str(amount).strip().replace(",", "")) if kind == rules.FINE else None


def _clean_deadline(deadline) -> dt.date:
    if isinstance(deadline, str):
        try:
            deadline = dt.date.fromisoformat(deadline.strip())
        except ValueError:
            deadline = None
    if not isinstance(deadline, dt.date) or isinstance(deadline, dt.datetime) or not 2000 <= deadline.year <= 2100:
        raise DomainError(code=ErrorCode.ACTION_DEADLINE_INVALID, field="deadline",
                          message=_("Give the deadline to comply as a date (YYYY-MM-DD)."))
    _deadline_not_past(deadline)
    return deadline


def _deadline_not_past(deadline: dt.date) -> None:
    if deadline < timezone.localdate():
        raise DomainError(code=ErrorCode.ACTION_DEADLINE_INVALID, field="deadline",
                          message=_("The deadline %(date)s has already passed: give the enterprise a date from "
                                    "today on.") % {"date": deadline.isoformat()})


def _evidence_error(field: str, message) -> DomainError:
    return DomainError(code=ErrorCode.EVIDENCE_INVALID, field=field, message=message)


def _ids(values, field: str) -> list[int]:
    if isinstance(values, str):
        numbers, bad = rules.parse_ids(values)
        if bad:
            raise _evidence_error(field, _("“%(token)s” is not a number: list the numbers separated by commas or "
                                           "spaces.") % {"token": bad[0][:40]})
        values = numbers
    out = []
    for value in values or ():
        if isinstance(value, bool) or not str(value).isdigit() or len(str(value)) > 18:
            raise _evidence_error(field, _("“%(token)s” is not a number.") % {"token": str(value)[:40]})
        if int(value) not in out:
            out.append(int(value))
    if len(out) > MAX_EVIDENCE:
        raise _evidence_error(field, _("At most %(max)d items of each kind of evidence.") % {"max": MAX_EVIDENCE})
    return out


def _codes(values) -> list[str]:
    from apps.core.text import ascii_upper

    if isinstance(values, str):
        values = values.replace("，", ",").replace(",", " ").split()
    out = []
    for value in values or ():
        code = ascii_upper(str(value).strip())
        if code and code not in out:
            out.append(code)
    if len(out) > MAX_EVIDENCE:
        raise _evidence_error("battery_codes", _("At most %(max)d battery codes.") % {"max": MAX_EVIDENCE})
    return out


def _event_evidence(enterprise, event_ids: list[int], battery_codes: list[str]) -> list[int]:
    """The ledger events to link: each named event must exist and be recorded by this enterprise (its actor); a
    battery code stands for that battery's events recorded by this enterprise."""
    from apps.batteries.models import Battery, BatteryEvent

    found = dict(BatteryEvent.objects.filter(pk__in=event_ids).values_list("pk", "actor_id"))
    for pk in event_ids:
        if pk not in found:
            raise _evidence_error("event_ids", _("There is no ledger event no. %(pk)s.") % {"pk": pk})
        if found[pk] != enterprise.pk:
            raise _evidence_error("event_ids", _("Ledger event no. %(pk)s was recorded by another enterprise: "
                                                 "evidence must be this enterprise's own events.") % {"pk": pk})
    chosen = list(event_ids)
    if battery_codes:
        batteries = dict(Battery.objects.filter(code__in=battery_codes).values_list("code", "pk"))
        by_battery: dict[int, list[int]] = {}
        for battery_id, pk in (BatteryEvent.objects.filter(battery_id__in=batteries.values(), actor_id=enterprise.pk)
                               .order_by("seq").values_list("battery_id", "pk")):
            by_battery.setdefault(battery_id, []).append(pk)
        for code in battery_codes:
            if code not in batteries:
                raise _evidence_error("battery_codes", _("No battery has the code %(code)s.") % {"code": code})
            events = by_battery.get(batteries[code], [])
            if not events:
                raise _evidence_error("battery_codes", _("The ledger has no event of battery %(code)s recorded by "
                                                         "this enterprise.") % {"code": code})
            chosen += [pk for pk in events if pk not in chosen]
    if len(chosen) > MAX_EVIDENCE:
        raise _evidence_error("event_ids", _("At most %(max)d ledger events.") % {"max": MAX_EVIDENCE})
    return chosen


def _owned(actor, model, ids: list[int], enterprise, *, field: str, missing, other) -> list[int]:
    """Filings or discrepancies: each must be one the actor may see, and the enterprise's own."""
    found = dict(model.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", "enterprise_id"))
    for pk in ids:
        if pk not in found:
            raise _evidence_error(field, missing % {"pk": pk})
        if found[pk] != enterprise.pk:
            raise _evidence_error(field, other % {"pk": pk})
    return ids


def _set_evidence(action: EnforcementAction, actor, *, event_ids=(), battery_codes=(), filing_ids=(),
                  discrepancy_ids=()) -> None:
    """Replace the action's evidence links (checked first: a refused list changes nothing)."""
    from apps.filings.models import Filing
    from apps.reconciliation.models import Discrepancy

    enterprise = action.enterprise
    events = _event_evidence(enterprise, _ids(event_ids, "event_ids"), _codes(battery_codes))
    filings = _owned(actor, Filing, _ids(filing_ids, "filing_ids"), enterprise, field="filing_ids",
                     missing=_("There is no filing no. %(pk)s that you may see."),
                     other=_("Filing no. %(pk)s is another enterprise's: evidence must be this enterprise's own."))
    discrepancies = _owned(
        actor, Discrepancy, _ids(discrepancy_ids, "discrepancy_ids"), enterprise, field="discrepancy_ids",
        missing=_("There is no discrepancy no. %(pk)s that you may see."),
        other=_("Discrepancy no. %(pk)s is another enterprise's: evidence must be this enterprise's own."))
    action.evidence_events.all().delete()
    action.evidence_filings.all().delete()
    action.evidence_discrepancies.all().delete()
    EvidenceEvent.objects.bulk_create([EvidenceEvent(action=action, event_id=pk) for pk in events])
    EvidenceFiling.objects.bulk_create([EvidenceFiling(action=action, filing_id=pk) for pk in filings])
    EvidenceDiscrepancy.objects.bulk_create([EvidenceDiscrepancy(action=action, discrepancy_id=pk)
                                             for pk in discrepancies])


def _notify(action: EnforcementAction, kind: str, comment: str = "") -> None:
    """In-portal notification (the enterprise's notifications page) and an e-mail sent once the work commits."""
    from apps.filings.models import Notification
    from apps.filings.tasks import notification_email_send

    notification = Notification.objects.create(enterprise_id=action.enterprise_id, kind=kind, comment=comment)
    from apps.core.outbox import enqueue

    enqueue(notification_email_send, notification.pk)


def _require_drafter(action: EnforcementAction, actor) -> None:
    if action.created_by_id != actor.pk:
        raise DomainError(code=ErrorCode.NOT_THE_DRAFTER, status=409,
                          message=_("Only the reviewer who drafted this action changes or submits it."))


# --- drafting -------------------------------------------------------------------------------------------------


@service
def enforcement_action_create(*, actor, enterprise_id, kind, facts, legal_basis, deadline, amount=None,
                              event_ids=(), battery_codes=(), filing_ids=(), discrepancy_ids=(),
                              comment: str = "") -> EnforcementAction:
    """A draft action against an enterprise in the reviewer's provinces, with its evidence."""
    from apps.enterprises.models import Enterprise

    _require_side(actor, rules.REVIEWER)
    enterprise = Enterprise.objects.visible_to(actor).filter(pk=enterprise_id).first() \
        if str(enterprise_id).isdigit() and len(str(enterprise_id)) < 19 else None
    if enterprise is None:
        raise DomainError(code=ErrorCode.NOT_FOUND, field="enterprise",
                          message=_("There is no enterprise no. %(pk)s in your provinces.") % {"pk": enterprise_id})
    kind = _clean_kind(kind)
    action = EnforcementAction(
        kind=kind, enterprise=enterprise, province=enterprise.province, amount=_clean_amount(kind, amount),
        facts=_clean_text(facts, field="facts", label=_("facts")),
        legal_basis=_clean_text(legal_basis, field="legal_basis", label=_("legal basis")),
        deadline=_clean_deadline(deadline), created_by=actor, updated_by=actor)
    action.save()
    _set_evidence(action, actor, event_ids=event_ids, battery_codes=battery_codes, filing_ids=filing_ids,
                  discrepancy_ids=discrepancy_ids)
    ActionTransition.objects.create(action=action, verb="draft", from_status=ActionStatus.DRAFT,
                                    to_status=ActionStatus.DRAFT, actor=actor, comment=_clean_comment(comment))
    return action


@service
def enforcement_action_update(*, actor, action_id, kind, facts, legal_basis, deadline, amount=None,
                              event_ids=(), battery_codes=(), filing_ids=(), discrepancy_ids=()) -> EnforcementAction:
    """The drafter corrects a draft, or an action the second reviewer returned."""
    _require_side(actor, rules.REVIEWER)
    action = _locked(actor, action_id)
    if action.status not in rules.EDITABLE_STATUSES:
        raise DomainError(code=ErrorCode.ENFORCEMENT_NOT_EDITABLE, status=409,
                          message=_("Only a draft or an action returned to its drafter can be changed."))
    _require_drafter(action, actor)
    action.kind = _clean_kind(kind)
    action.amount = _clean_amount(action.kind, amount)
    action.facts = _clean_text(facts, field="facts", label=_("facts"))
    action.legal_basis = _clean_text(legal_basis, field="legal_basis", label=_("legal basis"))
    action.deadline = _clean_deadline(deadline)
    action.updated_by = actor
    action.save()
    _set_evidence(action, actor, event_ids=event_ids, battery_codes=battery_codes, filing_ids=filing_ids,
                  discrepancy_ids=discrepancy_ids)
    return action


@service
def enforcement_action_submit(*, actor, action_id, comment: str = "") -> EnforcementAction:
    """The drafter asks a second reviewer to approve the action."""
    action = _locked(actor, action_id)
    _require_side(actor, rules.REVIEWER)
    if action.status in rules.EDITABLE_STATUSES:
        _require_drafter(action, actor)
        _deadline_not_past(action.deadline)
    _move(action, actor=actor, step="submit", comment=_clean_comment(comment))
    action.save()
    return action


# --- four eyes ------------------------------------------------------------------------------------------------


@service
def enforcement_action_approve(*, actor, action_id, comment: str = "", confirmed: bool = True) -> EnforcementAction:
    """The second reviewer (not the drafter, with the enterprise's province in scope) approves: the action is
    issued and the enterprise told."""
    action = _locked(actor, action_id)
    comment = _clean_comment(comment)
    if not confirmed:
        raise DomainError(code=ErrorCode.CONFIRMATION_REQUIRED, field="confirm",
                          message=_("Tick the box to confirm that you approve issuing this sanction."))
    _move(action, actor=actor, step="approve", comment=comment)
    _deadline_not_past(action.deadline)
    action.approved_by, action.issued_at = actor, timezone.now()
    action.save()
    _notify(action, "action_issued", _("%(action)s, deadline to comply %(deadline)s.")
            % {"action": str(action), "deadline": action.deadline.isoformat()})
    return action


@service
def enforcement_action_refuse(*, actor, action_id, comment: str) -> EnforcementAction:
    """The second reviewer returns the draft to its drafter, saying why."""
    action = _locked(actor, action_id)
    _move(action, actor=actor, step="refuse", comment=_clean_comment(comment))
    action.save()
    return action


# --- the enterprise's answer and the closure --------------------------------------------------------------------


def _check_pdf(upload) -> None:
    if upload.size > settings.FILINGS_ATTACHMENT_MAX_BYTES:
        raise DomainError(code=ErrorCode.FILE_TOO_LARGE, field="attachment",
                          message=_("The file is %(size).1f MB; the limit is %(limit).0f MB.")
                          % {"size": upload.size / 1048576, "limit": settings.FILINGS_ATTACHMENT_MAX_BYTES / 1048576})
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not head.startswith(PDF_MAGIC):
        raise DomainError(code=ErrorCode.FILE_NOT_PDF, field="attachment",
                          message=_("Attach a PDF document (judged by its content, not its name)."))


@service
def enforcement_action_answer(*, actor, action_id, text: str, attachment=None) -> EnforcementAction:
    """The enterprise answers an issued action (what it did, or why it disagrees), optionally with a PDF."""
    action = _locked(actor, action_id)
    _require_side(actor, rules.COMPANY)
    text = reject_markup(str(text or "").strip(), field="text")
    if not text:
        raise DomainError(code=ErrorCode.TEXT_REQUIRED, field="text",
                          message=_("Write your answer: what you did to comply, or why you disagree."))
    if len(text) > 10000:
        raise DomainError(code=ErrorCode.TEXT_REQUIRED, field="text",
                          message=_("An answer is limited to 10,000 characters."))
    if attachment is not None:
        _check_pdf(attachment)
    _move(action, actor=actor, step="answer", comment=text[:4000])
    action.answer, action.answered_at, action.answered_by = text, timezone.now(), actor
    if attachment is not None:
        action.answer_attachment_name = reject_markup(str(attachment.name or ""), field="attachment")[:200]
        action.answer_attachment.save("answer.pdf", attachment, save=False)
    action.save()
    return action


@service
def enforcement_action_close(*, actor, action_id, outcome, comment: str, confirmed: bool = True) -> EnforcementAction:
    """A reviewer closes the action: the enterprise complied, or did not, with a comment the enterprise reads."""
    action = _locked(actor, action_id)
    _require_side(actor, rules.REVIEWER)
    if outcome not in Outcome.values:
        raise DomainError(code=ErrorCode.OUTCOME_REQUIRED, field="outcome",
                          message=_("Say whether the enterprise complied or not."))
    comment = _clean_comment(comment)
    if not confirmed:
        raise DomainError(code=ErrorCode.CONFIRMATION_REQUIRED, field="confirm",
                          message=_("Tick the box to confirm closing this action."))
    _move(action, actor=actor, step="close", comment=comment)
    action.outcome, action.closing_comment = outcome, comment
    action.closed_at, action.closed_by = timezone.now(), actor
    action.save()
    _notify(action, "action_closed", f"{action} · {action.get_outcome_display()}: {comment}")
    return action


# --- from a discrepancy (apps.reconciliation.services.discrepancy_escalate) ------------------------------------


def draft_from_discrepancy(*, actor, discrepancy, kind: str = "order_to_correct", comment: str = "",
                           deadline: dt.date | None = None) -> EnforcementAction:
    """A draft action with the discrepancy as its evidence and its facts written from it, for the drafter to
    complete. Called inside the escalation's transaction (no @service: that one is)."""
    from apps.reconciliation.models import Check

    label = dict(Check.choices).get(discrepancy.kind, discrepancy.kind)
    period = discrepancy.period.strftime("%Y-%m") if discrepancy.period else "—"
    facts = str(_("Reconciliation found: %(check)s (period %(period)s, figure %(figure)s): expected %(expected)s, "
                  "found %(found)s; %(count)s batteries concerned.")
                % {"check": label, "period": period, "figure": discrepancy.figure or "—",
                   "expected": discrepancy.expected, "found": discrepancy.found, "count": discrepancy.code_count})
    if comment:
        facts += "\n" + comment
    return enforcement_action_create(
        actor=actor, enterprise_id=discrepancy.enterprise_id, kind=kind, facts=facts,
        legal_basis=str(_("Interim Measures for the Management of Recycling and Comprehensive Utilization of Waste "
                          "NEV Power Batteries")),
        deadline=deadline or timezone.localdate() + dt.timedelta(days=30), discrepancy_ids=[discrepancy.pk],
        comment=comment)
