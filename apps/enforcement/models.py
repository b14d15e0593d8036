"""Enforcement actions: an order to correct, a warning or a fine that a reviewer records against an enterprise,
with links to its evidence (ledger events, filings, discrepancies), issued only after a second reviewer approves
(four eyes), answered by the enterprise and closed by a reviewer (ADR 0015)."""
from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.choices import Province
from apps.core.models import BaseModel
from apps.enforcement.querysets import EnforcementActionQuerySet


class ActionKind(models.TextChoices):
    ORDER_TO_CORRECT = "order_to_correct", _("Order to correct")
    WARNING = "warning", _("Warning")
    FINE = "fine", _("Fine")


class ActionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting second approval")
    RETURNED = "returned", _("Returned to the drafter")
    ISSUED = "issued", pgettext_lazy("enforcement", "Issued")
    ANSWERED = "answered", _("Answered by the enterprise")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    COMPLIED = "complied", _("Complied")
    NOT_COMPLIED = "not_complied", _("Not complied")


def answer_attachment_path(instance, filename: str) -> str:
    # the name a company gave its file is never used on disk
    import uuid

    return f"enforcement-answers/{uuid.uuid4().hex}.pdf"


@pghistory.track(model_name="EnforcementActionEvent")
class EnforcementAction(BaseModel):
    """One sanction against one enterprise. `created_by` is the drafter; `approved_by` the second reviewer."""

    kind = models.CharField(_("kind"), max_length=20, choices=ActionKind.choices)
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("enterprise"))
    # Copied from the enterprise when the action is drafted: reviewer scoping and filters need no join.
    province = models.CharField(_("province"), max_length=2, choices=Province.choices)
    status = models.CharField(_("status"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.DRAFT)
    # Yuan, only for a fine (a check constraint holds the rule in the database too).
    amount = models.DecimalField(_("fine amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    facts = models.TextField(_("facts"))
    legal_basis = models.TextField(_("legal basis"))
    deadline = models.DateField(_("deadline to comply"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("approved by"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answer_attachment = models.FileField(_("answer attachment"), upload_to=answer_attachment_path, blank=True)
    answer_attachment_name = models.CharField(max_length=200, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    closing_comment = models.TextField(_("closing comment"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")

    objects = EnforcementActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("enforcement action")
        verbose_name_plural = _("enforcement actions")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="fine", amount__gt=0) | (~models.Q(kind="fine") & models.Q(amount__isnull=True))),
                name="enforcement_amount_only_for_a_fine"),
            # Four eyes, as the database's last word: the approver is never the drafter.
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("created_by")),
                name="enforcement_approver_is_not_drafter"),
        ]
        indexes = [
            models.Index(fields=["province", "status", "-created_at"], name="enforcement_review_list"),
            models.Index(fields=["enterprise", "status"], name="enforcement_enterprise"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_overdue(self) -> bool:
        """Issued, not answered, and the deadline to comply has passed (rules.is_overdue)."""
        from django.utils import timezone

        from apps.enforcement.rules import is_overdue

        return is_overdue(status=self.status, deadline=self.deadline, today=timezone.localdate())


class ActionTransition(models.Model):
    """Every change of an action's status: who, when, from, to and why. Never edited."""

    action = models.ForeignKey(EnforcementAction, on_delete=models.PROTECT, related_name="transitions")
    verb = models.CharField(max_length=16)
    from_status = models.CharField(max_length=20, choices=ActionStatus.choices)
    to_status = models.CharField(max_length=20, choices=ActionStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


# Evidence: links only, never copies. A ledger event is referenced by id without a database FK constraint, like
# every reference to the national-volume ledger (ADR 0006); the service checks the event exists and is the
# enterprise's when it links it, and the ledger is append-only, so it stays there.


class EvidenceEvent(models.Model):
    action = models.ForeignKey(EnforcementAction, on_delete=models.CASCADE, related_name="evidence_events")
    event = models.ForeignKey("batteries.BatteryEvent", on_delete=models.DO_NOTHING, related_name="+",
                              db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action", "event"], name="evidence_event_once")]


class EvidenceFiling(models.Model):
    action = models.ForeignKey(EnforcementAction, on_delete=models.CASCADE, related_name="evidence_filings")
    filing = models.ForeignKey("filings.Filing", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action", "filing"], name="evidence_filing_once")]


class EvidenceDiscrepancy(models.Model):
    action = models.ForeignKey(EnforcementAction, on_delete=models.CASCADE, related_name="evidence_discrepancies")
    discrepancy = models.ForeignKey("reconciliation.Discrepancy", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action", "discrepancy"], name="evidence_discrepancy_once")]


class DiscrepancyDecision(models.Model):
    """A reviewer's decision on a discrepancy (apps.reconciliation.services.discrepancy_review_resolve and
    discrepancy_escalate): who, when, from which status to which, why, and the action it was escalated to.

    Kept here, beside the actions escalation creates, so that the reconciliation tables written in bulk by the
    nightly run carry no per-row history. Never edited."""

    class Decision(models.TextChoices):
        RESOLVE = "resolve", _("Resolved by a reviewer")
        ESCALATE = "escalate", _("Escalated to an enforcement action")

    discrepancy = models.ForeignKey("reconciliation.Discrepancy", on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    action = models.ForeignKey(EnforcementAction, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
