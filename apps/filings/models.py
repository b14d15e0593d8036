"""The one review workflow (Filing, its transitions and comment thread), the kinds of filing, and notifications.

A concrete `Filing` row carries everything the workflow and the reviewer queue need (status, enterprise,
province, due date, assignee); each kind of filing is its own model, one-to-one with its Filing row (ADR 0008).
"""
from __future__ import annotations

from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Chemistry, Province
from apps.core.models import BaseModel
from apps.filings.querysets import FilingQuerySet, NotificationQuerySet


class FilingKind(models.TextChoices):
    MONTHLY_REPORT = "monthly_report", _("Monthly pack-count report")
    RECOVERY_REPORT = "recovery_report", _("Recovery (utilization) report")
    LICENCE_APPLICATION = "licence_application", _("Recycler licence application")
    EXPLANATION = "explanation", _("Explanation")
    ENTERPRISE_REGISTRATION = "enterprise_registration", _("Enterprise registration")
    MISMATCH_DECISION = "mismatch_decision", _("Scrapping battery mismatch decision")


class FilingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting review")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for correction")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


@pghistory.track(model_name="FilingEvent")
class Filing(BaseModel):
    """One thing an enterprise submits for a reviewer's decision, whatever its kind."""

    kind = models.CharField(_("kind"), max_length=32, choices=FilingKind.choices)
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="filings",
                                   verbose_name=_("enterprise"))
    # Copied from the enterprise when the filing is created: the queue filters and scopes on it without a join.
    province = models.CharField(_("province"), max_length=2, choices=Province.choices)
    status = models.CharField(_("status"), max_length=16, choices=FilingStatus.choices, default=FilingStatus.DRAFT)
    # The first day of the period a periodic filing covers (a month for the monthly report); null otherwise.
    period = models.DateField(_("period"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    first_submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewer"))
    assigned_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    # Why the portal thinks this filing needs a closer look (e.g. "below_threshold", "impossible_yield",
    # "ledger_mismatch"), set by the service that saves the filing's content. The queue's risk sort puts flagged
    # filings first; each kind documents its own flag names.
    flags = ArrayField(models.CharField(max_length=32), default=list, blank=True, verbose_name=_("flags"))

    objects = FilingQuerySet.as_manager()

    class Meta:
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        constraints = [
            # One live filing per enterprise, kind and period: a rejected one does not block a new one.
            models.UniqueConstraint(fields=["enterprise", "kind", "period"], condition=~models.Q(status="rejected"),
                                    name="filing_one_live_per_period"),
            models.CheckConstraint(condition=~models.Q(status="in_review") | models.Q(assigned_to__isnull=False),
                                   name="filing_in_review_has_reviewer"),
        ]
        indexes = [
            models.Index(fields=["status", "province", "due_date"], name="filing_queue"),
            models.Index(fields=["enterprise", "-created_at"], name="filing_enterprise_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        from apps.filings.rules import is_overdue

        submitted_on = timezone.localdate(self.first_submitted_at) if self.first_submitted_at else None
        return is_overdue(due_date=self.due_date, submitted_on=submitted_on, today=timezone.localdate())


class FilingTransition(models.Model):
    """Every change of a filing's status: who, when, from, to and why. Never edited."""

    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, choices=FilingStatus.choices)
    to_status = models.CharField(max_length=16, choices=FilingStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


def comment_attachment_path(instance, filename: str) -> str:
    # the name a company gave its file is never used on disk
    import uuid
    from pathlib import PurePath

    return f"filing-attachments/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()[:5]}"


class FilingComment(models.Model):
    """The thread between the enterprise and the reviewers about one filing."""

    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    attachment = models.FileField(_("attachment"), upload_to=comment_attachment_path, blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


# The counts of a monthly report, in the order the form and the comparison show them, with the ledger event
# kind each is compared with (None: not an event count).
MONTHLY_COUNT_FIELDS: list[tuple[str, str | None]] = [
    ("produced", "produced"),
    ("installed", "installed"),
    ("swapped_in", "swapped_in"),
    ("swapped_out", "swapped_out"),
    ("replaced", "replaced_out"),
    ("removed", "removed"),
    ("handed_over", "handed_over"),
    ("received", "received"),
    ("recycled", "recycled"),
    ("remanufactured", "remanufactured"),
    ("in_stock", None),
]


class MonthlyReport(models.Model):
    """The monthly pack-count report: what an enterprise declares it did with packs in one month."""

    filing = models.OneToOneField(Filing, on_delete=models.PROTECT, primary_key=True, related_name="monthly_report")
    produced = models.PositiveIntegerField(_("produced"), default=0)
    installed = models.PositiveIntegerField(_("installed in vehicles"), default=0)
    swapped_in = models.PositiveIntegerField(_("swapped in"), default=0)
    swapped_out = models.PositiveIntegerField(_("swapped out"), default=0)
    replaced = models.PositiveIntegerField(_("replaced in repairs"), default=0)
    removed = models.PositiveIntegerField(_("removed at dismantling"), default=0)
    handed_over = models.PositiveIntegerField(_("handed over"), default=0)
    received = models.PositiveIntegerField(_("received"), default=0)
    recycled = models.PositiveIntegerField(_("recycled"), default=0)
    remanufactured = models.PositiveIntegerField(_("remanufactured"), default=0)
    in_stock = models.PositiveIntegerField(_("in stock at month end"), default=0)

    class Meta:
        verbose_name = _("monthly pack-count report")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{name}__gte": 0 for name, _kind in MONTHLY_COUNT_FIELDS}),
                name="monthly_report_counts_not_negative"),
        ]

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name, _kind in MONTHLY_COUNT_FIELDS}


class NotificationKind(models.TextChoices):
    APPROVED = "approved", _("Your filing was approved")
    REJECTED = "rejected", _("Your filing was rejected")
    RETURNED = "returned", _("Your filing was returned for correction")
    COMMENT = "comment", _("A reviewer commented on your filing")
    REPORT_DUE = "report_due", _("A monthly report is due soon")
    REPORT_OVERDUE = "report_overdue", _("A monthly report is overdue")
    # apps.enforcement: a sanction issued to the enterprise, and its closure
    ACTION_ISSUED = "action_issued", _("An enforcement action was issued to your enterprise")
    ACTION_CLOSED = "action_closed", _("An enforcement action against your enterprise was closed")


class Notification(models.Model):
    """What the portal tells an enterprise (shown on its notifications page; also sent by e-mail)."""

    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="notifications")
    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["enterprise", "read_at"], name="notification_unread")]


# --- the recovery (utilization) report ---------------------------------------------------------------------------


class Metal(models.TextChoices):
    """The metals a recovery report declares, in the order the form and the tables show them."""

    NICKEL = "ni", _("Nickel")
    COBALT = "co", _("Cobalt")
    MANGANESE = "mn", _("Manganese")
    LITHIUM = "li", _("Lithium")
    COPPER = "cu", _("Copper")
    ALUMINIUM = "al", _("Aluminium")


class ChemistryComposition(models.Model):
    """The typical mass fraction of each metal in a whole pack of one chemistry (kg of metal per kg of pack): the
    portal's "composition table as data" behind the expected content of a recovery report (ADR 0014).

    Seeded by migration 0003 with round, deliberately typical values for a complete pack (cells about 70 % of the
    pack mass, cathode about 30 % of the cell), worked from the cathode's stoichiometry and published pack
    breakdowns (Argonne BatPaC/EverBatt, GB/T 33598 recycling guidance):
      * ternary (NCM 622 as the typical blend): Ni 7.6 %, Co 2.6 %, Mn 2.4 %, Li 1.5 %; Cu 7 % (foil, busbars),
        Al 16 % (foil, casings, housing);
      * LFP: Li 1.0 %, Cu 8.5 %, Al 18 %, no Ni/Co/Mn; LMO: Mn 12.8 %, Li 0.8 %; LCO: Co 12.6 %, Li 1.5 %;
      * NiMH: Ni 26 %, Co 3 %, Mn 1 % (AB5 alloy), no Li; LTO (with an LMO cathode): Mn 10 %, Li 2 %;
      * supercapacitor: Al 25 %, Cu 2 %; "other": no metal assumed (any output from it is for a reviewer to judge).
    Administrators change a row on the composition page (recovery_services.chemistry_composition_set), each change
    audited as a ChemistryCompositionChange; each report keeps the fractions it was computed with
    (RecoveryReport.fractions), so a later change never rewrites a filed report's rates.
    """

    chemistry = models.CharField(_("chemistry"), max_length=1, unique=True,
                                 choices=Chemistry.choices)
    nickel = models.DecimalField(_("nickel"), max_digits=5, decimal_places=4, default=0)
    cobalt = models.DecimalField(_("cobalt"), max_digits=5, decimal_places=4, default=0)
    manganese = models.DecimalField(_("manganese"), max_digits=5, decimal_places=4, default=0)
    lithium = models.DecimalField(_("lithium"), max_digits=5, decimal_places=4, default=0)
    copper = models.DecimalField(_("copper"), max_digits=5, decimal_places=4, default=0)
    aluminium = models.DecimalField(_("aluminium"), max_digits=5, decimal_places=4, default=0)
    note = models.TextField(_("source and assumptions"), blank=True)

    class Meta:
        verbose_name = _("chemistry composition")
        ordering = ["chemistry"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nickel__gte=0, cobalt__gte=0, manganese__gte=0, lithium__gte=0, copper__gte=0,
                                   aluminium__gte=0)
                & models.Q(nickel__lte=1, cobalt__lte=1, manganese__lte=1, lithium__lte=1, copper__lte=1,
                           aluminium__lte=1),
                name="chemistry_composition_fractions_in_range"),
        ]

    def __str__(self) -> str:
        return self.get_chemistry_display()

    def fractions(self) -> dict[str, Decimal]:
        return {metal.value: getattr(self, METAL_FIELDS[metal.value]) for metal in Metal}

    def percents(self) -> list[Decimal]:
        """The shares in per cent, in the order of Metal (for the read-only table)."""
        return [(getattr(self, METAL_FIELDS[metal.value]) * 100).quantize(Decimal("0.01")) for metal in Metal]


# Metal code -> the field name it has on ChemistryComposition and (prefixed with output_) on RecoveryReport.
METAL_FIELDS = {"ni": "nickel", "co": "cobalt", "mn": "manganese", "li": "lithium", "cu": "copper",
                "al": "aluminium"}


class ChemistryCompositionChange(models.Model):
    """One administrator's change of a chemistry's fractions: who, when, old → new (metal code → fraction, as
    text), and why. Never edited."""

    composition = models.ForeignKey(ChemistryComposition, on_delete=models.PROTECT, related_name="changes",
                                    verbose_name=_("chemistry composition"))
    old_fractions = models.JSONField(_("before"))
    new_fractions = models.JSONField(_("after"))
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("changed by"))
    created_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("composition change")
        ordering = ["-created_at", "-id"]

    def differences(self) -> list[tuple[str, str, str]]:
        """(metal, before, after) for each metal whose fraction changed, in the order of Metal."""
        old, new = self.old_fractions or {}, self.new_fractions or {}
        return [(metal.label, old.get(metal.value, "0"), new.get(metal.value, "0")) for metal in Metal
                if Decimal(old.get(metal.value, "0")) != Decimal(new.get(metal.value, "0"))]


class RecoveryReport(models.Model):
    """A licensed recycler's recovery (utilization) report for one month: the weight of packs it put in, by
    chemistry (RecoveryInput rows), and the mass of each metal it recovered. The flags (below_threshold,
    impossible_yield) are on the Filing; the fractions used to compute them are kept here."""

    filing = models.OneToOneField(Filing, on_delete=models.PROTECT, primary_key=True, related_name="recovery_report")
    output_nickel = models.DecimalField(_("nickel recovered (kg)"), max_digits=14, decimal_places=3, default=0)
    output_cobalt = models.DecimalField(_("cobalt recovered (kg)"), max_digits=14, decimal_places=3, default=0)
    output_manganese = models.DecimalField(_("manganese recovered (kg)"), max_digits=14, decimal_places=3, default=0)
    output_lithium = models.DecimalField(_("lithium recovered (kg)"), max_digits=14, decimal_places=3, default=0)
    output_copper = models.DecimalField(_("copper recovered (kg)"), max_digits=14, decimal_places=3, default=0)
    output_aluminium = models.DecimalField(_("aluminium recovered (kg)"), max_digits=14, decimal_places=3, default=0)
    # {chemistry: {metal: "0.0760"}} as read from ChemistryComposition when the content was last saved.
    fractions = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("recovery report")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(output_nickel__gte=0, output_cobalt__gte=0, output_manganese__gte=0,
                                   output_lithium__gte=0, output_copper__gte=0, output_aluminium__gte=0),
                name="recovery_report_outputs_not_negative"),
        ]

    def outputs(self) -> dict[str, Decimal]:
        return {code: getattr(self, f"output_{name}") for code, name in METAL_FIELDS.items()}

    def inputs(self) -> dict[str, Decimal]:
        return {row.chemistry: row.weight_kg for row in self.input_rows.all()}


class RecoveryInput(models.Model):
    """The weight of packs of one chemistry a recovery report declares as put into recovery in the month."""

    report = models.ForeignKey(RecoveryReport, on_delete=models.CASCADE, related_name="input_rows")
    chemistry = models.CharField(_("chemistry"), max_length=1,
                                 choices=Chemistry.choices)
    weight_kg = models.DecimalField(_("input weight (kg)"), max_digits=14, decimal_places=3)

    class Meta:
        ordering = ["chemistry"]
        constraints = [
            models.UniqueConstraint(fields=["report", "chemistry"], name="recovery_input_one_per_chemistry"),
            models.CheckConstraint(condition=models.Q(weight_kg__gt=0), name="recovery_input_weight_positive"),
        ]


# --- the explanation ---------------------------------------------------------------------------------------------


class Explanation(models.Model):
    """An enterprise's answer to one of its reconciliation discrepancies or to one of its blocked scrapping
    intakes (exactly one of the two). Attachments go on the filing's comment thread."""

    filing = models.OneToOneField(Filing, on_delete=models.PROTECT, primary_key=True, related_name="explanation")
    discrepancy = models.ForeignKey("reconciliation.Discrepancy", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="explanations", verbose_name=_("discrepancy"))
    # Read by the reconciliation check "blocked intake not explained" (intake.explanations: a non-rejected one).
    intake = models.ForeignKey("scrapping.ScrappingIntake", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="explanations", verbose_name=_("scrapping intake"))
    text = models.TextField(_("explanation"))

    class Meta:
        verbose_name = _("explanation")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(discrepancy__isnull=False, intake__isnull=True)
                           | models.Q(discrepancy__isnull=True, intake__isnull=False)),
                name="explanation_answers_exactly_one"),
        ]
