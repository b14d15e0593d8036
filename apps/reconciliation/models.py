"""Reconciliation: what the checks found (Discrepancy) and each run of them (ReconciliationRun).

A discrepancy is keyed by (enterprise, period, kind, figure, subject): a re-run finds the same row and updates it
(INSERT … ON CONFLICT, ADR 0011), so the history of a discrepancy — first seen, last seen, closed — stays on one row.
"""
from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.reconciliation.querysets import DiscrepancyQuerySet


class Check(models.TextChoices):
    REPORTED_VS_LEDGER = "reported_vs_ledger", _("Reported count differs from the ledger")
    STOCK_BALANCE = "stock_balance", _("Stock does not balance")
    HANDOVER_NOT_RECEIVED = "handover_not_received", _("Handed over, not received in time")
    RECEIVED_BY_OTHER = "received_by_other", _("Received by another enterprise than the named recipient")
    REFUSED_NOT_TAKEN_BACK = "refused_not_taken_back", _("Refused and not taken back")
    SCRAPPED_NOT_HANDED_OVER = "scrapped_not_handed_over", _("Removed at dismantling, not handed over by the deadline")
    LICENCE_NOT_ACTIVE = "licence_not_active", _("Waste batteries received without a licence in force")
    LICENCE_CAPACITY_EXCEEDED = "licence_capacity_exceeded", _("Licensed annual capacity exceeded")
    GONE_DARK = "gone_dark", _("Gone dark: no event for too long")
    BLOCKED_INTAKE_UNEXPLAINED = "blocked_intake_unexplained", _("Blocked scrapping intake not explained")
    MASS_BALANCE = "mass_balance", _("Recovered metals exceed the metal content received")


# What the checks' `figure` codes mean, besides a monthly report's count fields and the metals (apps.filings).
FIGURE_LABELS = {
    "closing_stock": _("Stock at month end"),
    "in_transit": _("Handed over, not received"),
    "not_addressed": _("Received, not addressed to this enterprise"),
    "not_taken_back": _("Refused, not taken back"),
    "no_event": _("No event recorded"),
    "received_waste": _("Waste batteries received"),
    "received_kg": _("Weight received (kg)"),
    "removed_still_held": _("Removed at dismantling, still held"),
    "blocked_intake": _("Blocked scrapping intake"),
}


def figure_label(code: str) -> str:
    if not code:
        return ""
    if code in FIGURE_LABELS:
        return str(FIGURE_LABELS[code])
    from apps.filings.models import Metal, MonthlyReport

    if code in Metal.values:
        return str(Metal(code).label)
    try:
        return str(MonthlyReport._meta.get_field(code).verbose_name)
    except Exception:  # an unknown code is shown as it is rather than hidden
        return code


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", _("Open")
    EXPLAINED = "explained", _("Explained")
    RESOLVED = "resolved", _("Resolved")
    ESCALATED = "escalated", _("Escalated")


# The statuses a run may close when the situation no longer holds (an escalated one stays with the reviewer).
CLOSABLE_STATUSES = (DiscrepancyStatus.OPEN, DiscrepancyStatus.EXPLAINED)


class Discrepancy(models.Model):
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("enterprise"))
    # First day of the month the discrepancy concerns; null for checks that are not monthly (a state of today).
    period = models.DateField(_("period"), null=True, blank=True)
    # Named `kind`, not `check`: a field `check` would hide Model.check() (Django's system checks), and CHECK is
    # an SQL keyword.
    kind = models.CharField(_("check"), max_length=32, choices=Check.choices)
    figure = models.CharField(_("figure"), max_length=32, blank=True, default="")
    # What the discrepancy is about within the figure, when one enterprise and period can have several ('' if not).
    subject = models.CharField(_("subject"), max_length=64, blank=True, default="")
    expected = models.BigIntegerField(_("expected"))
    found = models.BigIntegerField(_("found"))
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    # The first settings.RECONCILIATION_CODES_CAP codes behind it (sorted), and how many there are in all.
    codes = ArrayField(models.CharField(max_length=24), default=list, blank=True, verbose_name=_("battery codes"))
    code_count = models.PositiveIntegerField(_("number of batteries"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=DiscrepancyStatus.choices,
                              default=DiscrepancyStatus.OPEN)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = DiscrepancyQuerySet.as_manager()

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        constraints = [
            # NULLS NOT DISTINCT: a non-monthly discrepancy (period null) is still found again by its key.
            models.UniqueConstraint(fields=["enterprise", "period", "kind", "figure", "subject"],
                                    nulls_distinct=False, name="discrepancy_key"),
            models.CheckConstraint(condition=models.Q(status="resolved") | models.Q(closed_at__isnull=True),
                                   name="discrepancy_closed_only_when_resolved"),
        ]
        indexes = [
            models.Index(fields=["status", "kind", "severity"], name="discrepancy_queue"),
            models.Index(fields=["enterprise", "status"], name="discrepancy_enterprise"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.figure}".strip()

    @property
    def difference(self) -> int:
        return self.found - self.expected

    @property
    def figure_label(self) -> str:
        """The figure in words (the checks write stable codes: a monthly report's field, a metal, or a state)."""
        return figure_label(self.figure)


class ReconciliationRun(models.Model):
    """One run of the checks. A run split across workers (the nightly one) is a parent with one child per batch of
    enterprises: each child records its own counts, and the last child to finish adds them up on the parent and
    finishes it (ADR 0011)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        SKIPPED = "skipped", _("Skipped: another run was in progress")
        PARTIAL = "partial", _("Partly skipped: some batches met a run in progress")

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    # null (and no batch): every enterprise
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("scope"))
    # A child of a split run: the ids of the enterprises of its batch.
    batch = ArrayField(models.BigIntegerField(), default=list, blank=True, verbose_name=_("enterprises of the batch"))
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("part of"))
    children_total = models.PositiveIntegerField(_("batches"), default=0)
    counts = models.JSONField(_("discrepancies found per check"), default=dict, blank=True)
    closed = models.PositiveIntegerField(_("discrepancies closed"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)

    class Meta:
        verbose_name = _("reconciliation run")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["parent"], name="reconciliation_run_parent",
                                condition=models.Q(parent__isnull=False))]

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None

    @property
    def total_found(self) -> int:
        return sum(self.counts.values()) if self.counts else 0


# The dashboards' pre-aggregated figures (read-only models over materialized views, ADR 0013).
from apps.reconciliation.stats import AggregateRefresh, FlowMonth, ReceivedWeightMonth, StatusCount  # noqa: E402,F401
