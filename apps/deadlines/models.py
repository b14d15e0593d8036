"""Reporting deadlines (DOMAIN.md rule 5) as data that admins edit, their audit trail, and the key that makes a
deadline reminder go out at most once.

The defaults come from settings.REPORTING_DEADLINE_DEFAULTS through a data migration; admins change them on the
deadlines page (apps.deadlines.services.reporting_deadline_set), and every change is a ReportingDeadlineChange
row (who, when, old → new). Which role and which ledger event kinds a duty covers is fixed in
apps.deadlines.rules.DUTY_SCOPE.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel


class ReportingDuty(models.TextChoices):
    VEHICLE_INSTALLATION = "vehicle_installation", _("Vehicle maker: installation, after the certificate of conformity")
    REPAIR_REPLACEMENT = "repair_replacement", _("Repairer: repair and replacement")
    COLLECTION_STORE = "collection_store", _("Collection point: into and out of store")
    DISMANTLER_CERTIFICATE = "dismantler_certificate", _("Dismantler: after issuing the scrapping certificate")
    DISMANTLER_HANDOVER = "dismantler_handover", _("Dismantler: after handing the battery on")
    RECYCLER_INTAKE = "recycler_intake", _("Recycler: after intake")
    RECYCLER_DISPOSAL = "recycler_disposal", _("Recycler: after final disposal")


class ReportingDeadline(BaseModel):
    """How many working days an enterprise has to report an event of one duty. Changed only through the service."""

    duty = models.CharField(_("duty"), max_length=32, choices=ReportingDuty.choices, unique=True)
    working_days = models.PositiveSmallIntegerField(_("working days"))

    class Meta:
        verbose_name = _("reporting deadline")
        ordering = ["duty"]
        constraints = [models.CheckConstraint(condition=models.Q(working_days__gte=1, working_days__lte=250),
                                              name="reporting_deadline_days_range")]

    def __str__(self) -> str:
        return f"{self.duty}: {self.working_days}"


class ReportingDeadlineChange(models.Model):
    """One admin's change of a deadline: who, when, old → new, and why. Never edited."""

    deadline = models.ForeignKey(ReportingDeadline, on_delete=models.PROTECT, related_name="changes")
    old_working_days = models.PositiveSmallIntegerField(_("before"))
    new_working_days = models.PositiveSmallIntegerField(_("after"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("changed by"))
    created_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ReminderSent(models.Model):
    """The unique key of a deadline reminder: one per enterprise, monthly report month and kind (due soon,
    overdue). The daily task inserts it before notifying; a second run the same day (or any later day) finds it
    and sends nothing."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")

    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sent_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "period", "kind"], name="reminder_once")]
