"""Scrapping: a dismantler's intake of a scrapped vehicle, the vehicle-and-battery check against the ledger
(车电一体报废), and the scrapping certificate (报废机动车回收证明) it allows.

Personal data kept to what the law needs: the owner's identity number is never stored, only a masked form for
people to read and a keyed hash (HMAC-SHA256 with settings.PII_HASH_KEY) for matching (ADR 0008).
"""
from __future__ import annotations

import uuid
from pathlib import PurePath

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.batteries.models import BatteryStatus
from apps.core.models import BaseModel
from apps.scrapping.querysets import CertificateQuerySet, IntakeQuerySet


class CheckOutcome(models.TextChoices):
    """What the vehicle-and-battery check found (apps.scrapping.rules.battery_check). Never changes afterwards."""

    COMPLETE = "complete", _("Complete: every battery the ledger shows is present")
    MISSING = "missing", _("Battery missing")
    MISMATCH = "mismatch", _("Different battery present")
    SWAP_EXEMPT = "swap_exempt", _("Battery-swap model: exempt from the battery check")
    NOT_NEV = "not_nev", _("Not a new-energy vehicle: no battery check")


class IntakeStatus(models.TextChoices):
    READY = "ready", _("Certificate may be issued")
    BLOCKED = "blocked", _("Blocked: battery missing")
    AWAITING_DECISION = "awaiting_decision", _("Awaiting a reviewer's decision")
    REFUSED = "refused", _("Refused by a reviewer")
    ISSUED = "issued", _("Certificate issued")
    WITHDRAWN = "withdrawn", _("Withdrawn by the dismantler")


# An intake in one of these states holds its VIN: nobody else may take the same vehicle in meanwhile.
OPEN_STATUSES = (IntakeStatus.READY, IntakeStatus.AWAITING_DECISION, IntakeStatus.ISSUED)


class OwnerIdKind(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident identity card")
    USCC = "uscc", _("Unified social credit code (owner is an organisation)")
    OTHER = "other", _("Other identity document (passport, travel permit)")


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved: the certificate may be issued")
    REFUSED = "refused", _("Refused: no certificate")


PHOTO_SUFFIXES = {".jpg", ".png"}


def intake_photo_path(instance, filename: str) -> str:
    """Random names: the name a client gave its file is never used on disk (the service names the type)."""
    suffix = PurePath(filename).suffix.lower()
    return f"scrapping/photos/{uuid.uuid4().hex}{suffix if suffix in PHOTO_SUFFIXES else '.bin'}"


def certificate_pdf_path(instance, filename: str) -> str:
    return f"scrapping/certificates/{uuid.uuid4().hex}.pdf"


@pghistory.track(model_name="ScrappingIntakeEvent")
class ScrappingIntake(BaseModel):
    """A scrapped vehicle taken in by a dismantler, with what the dismantler found in it and what the ledger says."""

    dismantler = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("dismantler"))
    # "C" collation like the ledger's VINs: the index then serves prefix search (LIKE 'LSV%').
    vin = models.CharField(_("VIN"), max_length=17, db_collation="C")
    vehicle = models.ForeignKey("batteries.Vehicle", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("vehicle in the ledger"))
    is_nev = models.BooleanField(_("new-energy vehicle"))
    is_swap_model = models.BooleanField(_("battery-swap model"), default=False)
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    plate_number = models.CharField(_("plate number"), max_length=16)
    engine_number = models.CharField(_("engine or motor number"), max_length=40)
    owner_id_kind = models.CharField(_("owner's identity document"), max_length=16, choices=OwnerIdKind.choices)
    owner_id_masked = models.CharField(_("owner's identity number (masked)"), max_length=40)
    owner_id_hash = models.CharField(_("owner's identity number (keyed hash)"), max_length=64, db_index=True)
    declared_not_mortgaged = models.BooleanField(_("declared not mortgaged"))
    declared_not_stolen = models.BooleanField(_("declared not reported stolen"))
    photo_front = models.FileField(_("photo of the front"), upload_to=intake_photo_path, blank=True)
    photo_vin = models.FileField(_("photo of the VIN plate"), upload_to=intake_photo_path, blank=True)
    received_on = models.DateField(_("taken in on"))
    outcome = models.CharField(_("battery check"), max_length=16, choices=CheckOutcome.choices)
    status = models.CharField(_("status"), max_length=20, choices=IntakeStatus.choices)
    explanation = models.TextField(_("dismantler's explanation"), blank=True)
    decision = models.CharField(_("reviewer's decision"), max_length=16, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        verbose_name = _("scrapping intake")
        constraints = [
            # The last line of defence behind the vehicle's row lock: two dismantlers taking in one VIN at once.
            models.UniqueConstraint(fields=["vin"], condition=Q(status__in=[s.value for s in OPEN_STATUSES]),
                                    name="scrapping_intake_one_open_per_vin"),
            models.CheckConstraint(condition=Q(vin__regex=r"^[0-9A-HJ-NPR-Z]{17}$"), name="scrapping_intake_vin_shape"),
            # No certificate while the vehicle is mortgaged or reported stolen: such an intake is never recorded.
            models.CheckConstraint(condition=Q(declared_not_mortgaged=True, declared_not_stolen=True),
                                   name="scrapping_intake_declarations"),
            models.CheckConstraint(condition=Q(is_nev=True) | Q(outcome="not_nev"), name="scrapping_intake_not_nev"),
            # Only the mask and the hash of the owner's number: a full 18-character number cannot fit the pattern.
            models.CheckConstraint(condition=Q(owner_id_masked__contains="****"), name="scrapping_owner_id_masked"),
        ]
        indexes = [
            models.Index(fields=["dismantler", "-created_at"], name="scrapping_intake_dismantler"),
            models.Index(fields=["status", "dismantler"], name="scrapping_intake_leads",
                         condition=Q(status__in=["blocked", "awaiting_decision"])),
            models.Index(fields=["vin"], name="scrapping_intake_vin"),
        ]

    def __str__(self) -> str:
        return f"{self.vin} ({self.get_status_display()})"

    @property
    def is_lead(self) -> bool:
        """A blocked or mismatched intake is an enforcement lead for reviewers."""
        return self.status in (IntakeStatus.BLOCKED, IntakeStatus.AWAITING_DECISION)

    @property
    def has_photos(self) -> bool:
        return bool(self.photo_front) and bool(self.photo_vin)


class IntakeBattery(models.Model):
    """One battery of an intake: expected (the ledger showed it installed in the VIN), found (the dismantler
    listed it), or both. Expected but not found is missing; found but not expected is a mismatch. The ledger's
    view of it at intake is kept, so a lead still shows it after the battery moves on."""

    intake = models.ForeignKey(ScrappingIntake, on_delete=models.PROTECT, related_name="batteries")
    battery = models.ForeignKey("batteries.Battery", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("battery code"), max_length=24)
    expected = models.BooleanField(_("in the vehicle according to the ledger"))
    found = models.BooleanField(_("found in the vehicle"))
    status_at_intake = models.CharField(_("ledger status at intake"), max_length=16, choices=BatteryStatus.choices)
    holder_at_intake = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+",
                                         verbose_name=_("holder at intake"))
    vin_at_intake = models.CharField(_("installed in at intake"), max_length=17, blank=True)
    removed = models.BooleanField(_("removed at issue"), default=False)

    class Meta:
        verbose_name = _("battery of a scrapping intake")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "battery"], name="scrapping_intake_battery_once"),
            models.CheckConstraint(condition=Q(expected=True) | Q(found=True),
                                   name="scrapping_battery_expected_or_found"),
        ]

    @property
    def role(self) -> str:
        if self.expected and self.found:
            return BatteryRole.PRESENT
        return BatteryRole.MISSING if self.expected else BatteryRole.UNEXPECTED


class BatteryRole(models.TextChoices):
    PRESENT = "present", _("present")
    MISSING = "missing", _("missing")
    UNEXPECTED = "unexpected", _("not expected in this vehicle")


class CertificateStatus(models.TextChoices):
    VALID = "valid", pgettext_lazy("certificate status", "Valid")
    VOIDED = "voided", _("Voided")


@pghistory.track(model_name="ScrappingCertificateEvent")
class ScrappingCertificate(BaseModel):
    """The scrapping certificate. Its number is the commerce ministry's, typed by the dismantler: opaque, unique
    (a voided number stays used). A re-issue is a new certificate that `replaces` the voided one."""

    number = models.CharField(_("certificate number"), max_length=64)
    intake = models.ForeignKey(ScrappingIntake, on_delete=models.PROTECT, related_name="certificates")
    dismantler = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("dismantler"))
    vin = models.CharField(_("VIN"), max_length=17, db_collation="C")
    vehicle = models.ForeignKey("batteries.Vehicle", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    issued_on = models.DateField(_("issued on"))
    status = models.CharField(_("status"), max_length=16, choices=CertificateStatus.choices,
                              default=CertificateStatus.VALID)
    swap_exemption = models.BooleanField(_("battery-swap model exemption"), default=False)
    handover_deadline = models.DateField(_("battery handover deadline"), null=True, blank=True)
    deadline_provisional = models.BooleanField(_("deadline provisional"), default=False)
    # The working days the deadline was computed with (the admin-edited table's value on the day of issue), so that a
    # later change of the table, or a recount once the holiday calendar is known, never moves this deadline's length.
    handover_working_days = models.PositiveSmallIntegerField(_("handover working days"), null=True, blank=True)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by", verbose_name=_("re-issue of"))
    pdf = models.FileField(upload_to=certificate_pdf_path, blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    void_reason = models.TextField(_("reason for voiding"), blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("scrapping certificate")
        constraints = [
            models.UniqueConstraint(fields=["number"], name="scrapping_certificate_number_unique"),
            models.UniqueConstraint(fields=["intake"], condition=Q(status="valid"),
                                    name="scrapping_one_valid_certificate_per_intake"),
            models.CheckConstraint(condition=Q(status="valid") | ~Q(void_reason=""),
                                   name="scrapping_voided_has_reason"),
        ]
        indexes = [models.Index(fields=["dismantler", "-issued_on"], name="scrapping_cert_dismantler"),
                   models.Index(fields=["vin"], name="scrapping_cert_vin")]

    def __str__(self) -> str:
        return self.number


class CertificateChange(models.Model):
    """Issue, voiding and re-issue of a certificate, with who and why. Never edited."""

    class Action(models.TextChoices):
        ISSUED = "issued", _("Issued")
        VOIDED = "voided", _("Voided")
        REISSUED = "reissued", _("Re-issued")

    certificate = models.ForeignKey(ScrappingCertificate, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class IntakeFile(models.Model):
    """A bulk file of scrapped vehicles uploaded by a dismantler (apps.scrapping.intake_file), applied all or nothing
    through the same service as a single intake. The file itself is not kept (it holds owners' identity numbers);
    only its SHA-256, so that the same file from the same dismantler is recognised and not applied twice."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Applied: every vehicle was taken in")
        FAILED = "failed", _("Refused — nothing was recorded")

    dismantler = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("dismantler"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    total_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True,
                              help_text="The first 1,000 errors: {row, column, code, message}")
    errors_csv = models.TextField(blank=True, help_text="Every error, as the CSV offered for download.")
    message = models.TextField(blank=True)
    intakes = models.ManyToManyField(ScrappingIntake, related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("intake file")
        constraints = [
            models.UniqueConstraint(fields=["dismantler", "sha256"], condition=Q(status="succeeded"),
                                    name="scrapping_intake_file_once"),
        ]
        indexes = [models.Index(fields=["dismantler", "-created_at"], name="scrapping_intake_file_dism")]

    def __str__(self) -> str:
        return self.original_name


class MismatchDecision(models.Model):
    """The reviewer's decision on an intake awaiting one (a different battery present), as a filing of kind
    ``mismatch_decision`` in the shared review workflow (ADR 0016). The dismantler's explanation is the intake's;
    evidence goes in the filing's comment thread. Approval and refusal are decided by
    ``apps.scrapping.services`` (the scrapping rules stay there)."""

    filing = models.OneToOneField("filings.Filing", on_delete=models.PROTECT, primary_key=True,
                                  related_name="mismatch_decision")
    intake = models.OneToOneField(ScrappingIntake, on_delete=models.PROTECT, related_name="mismatch_filing")

    class Meta:
        verbose_name = _("scrapping mismatch decision")
