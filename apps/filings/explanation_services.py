"""Writes of the explanation: an enterprise answers one of its reconciliation discrepancies or one of its blocked
scrapping intakes through the shared review workflow. The discrepancy follows the filing (apps.reconciliation
services): submitted → explained; approved → resolved; rejected → open again. A returned explanation leaves the
discrepancy explained: the enterprise is correcting its answer."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.services import service
from apps.core.validators import reject_markup
from apps.filings import rules
from apps.filings.models import Explanation, Filing, FilingKind, FilingStatus
from apps.filings.services import _locked, _require_side

MAX_TEXT = 8000


def _clean_text(text) -> str:
    text = reject_markup(str(text or "").strip(), field="text")
    if not text:
        raise DomainError(code=ErrorCode.EXPLANATION_TEXT_REQUIRED, field="text",
                          message=_("Write the explanation: what happened, and what your enterprise did about it."))
    if len(text) > MAX_TEXT:
        raise DomainError(code=ErrorCode.INVALID, field="text",
                          message=_("Keep the explanation under %(max)s characters; attach documents on the "
                                    "comment thread.") % {"max": MAX_TEXT})
    return text


def _own_subject(actor, *, discrepancy_id, intake_id):
    """The actor's enterprise's discrepancy or blocked intake, locked; another's is "not found"."""
    from apps.reconciliation.models import Discrepancy, DiscrepancyStatus
    from apps.scrapping.models import IntakeStatus, ScrappingIntake

    if (discrepancy_id in (None, "")) == (intake_id in (None, "")):
        raise DomainError(code=ErrorCode.EXPLANATION_SUBJECT_INVALID, field="discrepancy",
                          message=_("An explanation answers exactly one discrepancy or one blocked intake."))
    enterprise_id = actor.membership.enterprise_id
    try:
        if discrepancy_id not in (None, ""):
            subject = Discrepancy.objects.select_for_update().get(pk=int(discrepancy_id), enterprise_id=enterprise_id)
            if subject.status not in (DiscrepancyStatus.OPEN, DiscrepancyStatus.EXPLAINED):
                raise DomainError(code=ErrorCode.EXPLANATION_SUBJECT_INVALID, field="discrepancy", status=409,
                                  message=_("This discrepancy is “%(status)s”: only an open one is explained.")
                                  % {"status": subject.get_status_display()})
            live = Explanation.objects.filter(discrepancy=subject)
        else:
            subject = ScrappingIntake.objects.select_for_update().get(pk=int(intake_id), dismantler_id=enterprise_id)
            if subject.status != IntakeStatus.BLOCKED:
                raise DomainError(code=ErrorCode.EXPLANATION_SUBJECT_INVALID, field="intake", status=409,
                                  message=_("This intake is “%(status)s”: only a blocked intake is explained here.")
                                  % {"status": subject.get_status_display()})
            live = Explanation.objects.filter(intake=subject)
    except (Discrepancy.DoesNotExist, ScrappingIntake.DoesNotExist, ValueError, TypeError):
        raise NotFound()
    existing = live.exclude(filing__status=FilingStatus.REJECTED).select_related("filing").first()
    if existing is not None:
        raise DomainError(code=ErrorCode.EXPLANATION_ALREADY_FILED, status=409,
                          field="discrepancy" if discrepancy_id not in (None, "") else "intake",
                          message=_("Your enterprise already filed explanation no. %(pk)s (%(status)s) for this: "
                                    "correct or comment on that one instead of filing a second.")
                          % {"pk": existing.filing_id, "status": existing.filing.get_status_display()})
    return subject


@service
def explanation_create(*, actor, text, discrepancy_id=None, intake_id=None) -> Filing:
    """A draft explanation of one of the actor's enterprise's discrepancies or blocked intakes."""
    from apps.reconciliation.models import Discrepancy

    _require_side(actor, rules.COMPANY)
    subject = _own_subject(actor, discrepancy_id=discrepancy_id, intake_id=intake_id)
    text = _clean_text(text)
    enterprise = actor.membership.enterprise
    # No period: "one live filing per enterprise, kind and period" is for periodic reports; an enterprise may
    # explain several discrepancies of one month (one live explanation per subject is checked above).
    filing = Filing.objects.create(kind=FilingKind.EXPLANATION, enterprise=enterprise, province=enterprise.province,
                                   created_by=actor, updated_by=actor)
    is_discrepancy = isinstance(subject, Discrepancy)
    Explanation.objects.create(filing=filing, text=text, discrepancy=subject if is_discrepancy else None,
                               intake=None if is_discrepancy else subject)
    return filing


@service
def explanation_update(*, actor, filing_id, text) -> Filing:
    """Change the text of a draft, or of an explanation returned for correction."""
    _require_side(actor, rules.COMPANY)
    filing = _locked(actor, filing_id)
    if filing.kind != FilingKind.EXPLANATION:
        raise NotFound()
    if filing.status not in rules.EDITABLE_STATUSES:
        raise DomainError(code=ErrorCode.FILING_NOT_EDITABLE, status=409,
                          message=_("Only a draft or a filing returned for correction can be changed."))
    Explanation.objects.filter(filing=filing).update(text=_clean_text(text))
    filing.updated_by = actor
    filing.save(update_fields=["updated_by", "updated_at"])
    return filing


def explanation_filing_moved(filing: Filing, *, actor, action: str, comment: str = "") -> None:
    """The workflow's effect for explanations (apps.filings.services.KIND_EFFECTS), run in the transition's
    transaction: the discrepancy the explanation answers follows the filing."""
    from apps.reconciliation import services as reconciliation

    discrepancy_id = Explanation.objects.filter(filing=filing).values_list("discrepancy_id", flat=True).first()
    if discrepancy_id is None:
        return
    if action in ("submit", "resubmit"):
        reconciliation.discrepancy_explain(actor=actor, discrepancy_id=discrepancy_id)
    elif action == "approve":
        reconciliation.discrepancy_resolve(actor=actor, discrepancy_id=discrepancy_id)
    elif action == "reject":
        reconciliation.discrepancy_reopen(actor=actor, discrepancy_id=discrepancy_id)
