from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Chemistry, Province
from apps.core.models import BaseModel
from apps.enterprises.querysets import EnterpriseQuerySet, MembershipQuerySet, RecyclerLicenceQuerySet


class EnterpriseRole(models.TextChoices):
    BATTERY_MAKER = "battery_maker", _("Battery maker")
    VEHICLE_MAKER = "vehicle_maker", _("Vehicle maker / importer")
    SWAP_OPERATOR = "swap_operator", _("Battery-swap operator")
    REPAIRER = "repairer", _("Repairer")
    COLLECTION_POINT = "collection_point", _("Collection point")
    DISMANTLER = "dismantler", _("Dismantler (scrapped vehicles)")
    RECYCLER = "recycler", _("Recycler (comprehensive utilization)")


def business_licence_path(instance, filename: str) -> str:
    # the name a company gave its file is never used on disk
    import uuid

    return f"business-licences/{uuid.uuid4().hex}.pdf"


@pghistory.track(model_name="EnterpriseEvent")
class Enterprise(BaseModel):
    """The tenant. Everything a company files belongs to exactly one enterprise."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        RETURNED = "returned", _("Returned for correction")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REJECTED = "rejected", _("Rejected")

    name = models.CharField(_("company name"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    province = models.CharField(_("province"), max_length=2, choices=Province.choices)
    address = models.CharField(_("address"), max_length=300)
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    contact_email = models.EmailField(_("contact e-mail"))
    roles = ArrayField(models.CharField(max_length=32, choices=EnterpriseRole.choices), verbose_name=_("roles"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(_("reason for the current status"), blank=True)
    business_licence = models.FileField(_("business licence (PDF)"), upload_to=business_licence_path, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        constraints = [
            # A rejected application does not block the company from applying again.
            models.UniqueConstraint(
                fields=["uscc"], condition=~models.Q(status="rejected"), name="enterprise_uscc_unique_live"
            ),
            models.CheckConstraint(condition=~models.Q(roles=[]), name="enterprise_has_a_role"),
            models.CheckConstraint(condition=models.Q(uscc__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"), name="enterprise_uscc_shape"),
        ]
        # Never deleted (the ledger refers to enterprises without per-row FK checks; ADR 0006).
        triggers = [pgtrigger.Protect(name="enterprise_never_deleted", operation=pgtrigger.Delete)]
        indexes = [models.Index(fields=["status", "province"])]

    def __str__(self) -> str:
        return self.name

    def roles_display(self) -> list[str]:
        return [str(EnterpriseRole(r).label) for r in self.roles or []]

    def has_role(self, role: str) -> bool:
        return role in (self.roles or [])

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class EnterpriseStatusChange(models.Model):
    """The registration and supervision history of an enterprise: who decided what, when and why."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RESUBMITTED = "resubmitted", _("Resubmitted after correction")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RETURNED = "returned", _("Returned for correction")
        SUSPENDED = "suspended", _("Suspended")
        REINSTATED = "reinstated", _("Reinstated")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="status_changes")
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=16, choices=Enterprise.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Enterprise.Status.choices)
    comment = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


@pghistory.track(model_name="MembershipEvent")
class Membership(BaseModel):
    """A company user belongs to exactly one enterprise, as its administrator or as a filer."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Enterprise administrator")
        FILER = "filer", _("Filer")

    # Reverse name used only by select_related (the API-key lookup loads the membership in the same query);
    # code reads User.membership, which caches it.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership_record")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.FILER)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        indexes = [models.Index(fields=["enterprise", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise}"


@pghistory.track(model_name="ManufacturerCodeEvent")
class ManufacturerCode(BaseModel):
    """GB/T 34014 positions 1–3, assigned by an admin to one battery maker; unique across the country."""

    code = models.CharField(_("manufacturer code"), max_length=3, unique=True)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="manufacturer_codes")

    class Meta:
        verbose_name = _("manufacturer code")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9A-Z]{3}$"), name="mfr_code_shape")]

    def __str__(self) -> str:
        return self.code


class LicenceScope(models.TextChoices):
    DISMANTLING = "dismantling", _("Dismantling and disassembly")
    HYDROMETALLURGY = "hydrometallurgy", _("Material recovery: hydrometallurgy")
    PYROMETALLURGY = "pyrometallurgy", _("Material recovery: pyrometallurgy")
    REPURPOSING = "repurposing", _("Repurposing")


@pghistory.track(model_name="RecyclerLicenceEvent")
class RecyclerLicence(BaseModel):
    """An entry of the list of licensed recyclers (the whitelist). Only these may receive waste batteries."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="licences")
    number = models.CharField(_("licence number"), max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=32, choices=LicenceScope.choices), verbose_name=_("scope"))
    chemistries = ArrayField(models.CharField(max_length=1, choices=Chemistry.choices), verbose_name=_("chemistries"))
    annual_capacity_tonnes = models.DecimalField(_("annual capacity (tonnes)"), max_digits=12, decimal_places=3)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(_("reason"), blank=True)

    objects = RecyclerLicenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("recycler licence")
        verbose_name_plural = _("recycler licences")
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(annual_capacity_tonnes__gt=0), name="licence_capacity_positive"),
            models.CheckConstraint(condition=models.Q(valid_to__gte=models.F("valid_from")), name="licence_dates_ordered"),
            models.CheckConstraint(condition=~models.Q(scopes=[]), name="licence_has_scope"),
            models.CheckConstraint(condition=~models.Q(chemistries=[]), name="licence_has_chemistry"),
        ]
        indexes = [models.Index(fields=["enterprise", "status", "valid_from", "valid_to"])]

    def __str__(self) -> str:
        return self.number

    def scopes_display(self) -> list[str]:
        return [str(LicenceScope(s).label) for s in self.scopes or []]

    def chemistries_display(self) -> list[str]:
        return [str(Chemistry(c).label) for c in self.chemistries or []]


class LicenceChange(models.Model):
    """Grant, suspension, reinstatement and revocation of a licence, with the reason. Never edited."""

    class Action(models.TextChoices):
        GRANTED = "granted", _("Granted")
        SUSPENDED = "suspended", _("Suspended")
        REINSTATED = "reinstated", _("Reinstated")
        REVOKED = "revoked", _("Revoked")

    licence = models.ForeignKey(RecyclerLicence, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class EnterpriseRegistration(models.Model):
    """The review of an enterprise's application, as a filing of kind ``enterprise_registration`` (ADR 0016): it
    goes through the shared review workflow, queue, thread and notifications. The application's content is the
    Enterprise row itself (ADR 0002); this row ties the one to the other, one registration per enterprise."""

    filing = models.OneToOneField("filings.Filing", on_delete=models.PROTECT, primary_key=True,
                                  related_name="registration")
    enterprise = models.OneToOneField(Enterprise, on_delete=models.PROTECT, related_name="registration")

    class Meta:
        verbose_name = _("enterprise registration")


def licence_document_path(instance, filename: str) -> str:
    # the name a company gave its file is never used on disk
    import uuid

    return f"licence-applications/{uuid.uuid4().hex}.pdf"


class LicenceApplication(models.Model):
    """A recycler asks to be listed as a licensed recycler (filing kind ``licence_application``). Reviewers
    review it; only an admin's approval grants the licence, through ``recycler_licence_grant`` (ADR 0003, 0016)."""

    filing = models.OneToOneField("filings.Filing", on_delete=models.PROTECT, primary_key=True,
                                  related_name="licence_application")
    number = models.CharField(_("licence number"), max_length=64,
                              help_text=_("As printed on the licence document issued by the provincial authority."))
    scopes = ArrayField(models.CharField(max_length=32, choices=LicenceScope.choices), verbose_name=_("scope"))
    chemistries = ArrayField(models.CharField(max_length=1, choices=Chemistry.choices), verbose_name=_("chemistries"))
    annual_capacity_tonnes = models.DecimalField(_("annual capacity (tonnes)"), max_digits=12, decimal_places=3)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    address = models.CharField(_("plant address"), max_length=300)
    document = models.FileField(_("licence document (PDF)"), upload_to=licence_document_path)
    document_name = models.CharField(max_length=200, blank=True)
    # The licence the approval granted.
    licence = models.OneToOneField(RecyclerLicence, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="application", verbose_name=_("licence granted"))

    # The terms a recycler asks for: what the form, the API and the edit page pass to the services.
    TERMS = ("number", "scopes", "chemistries", "annual_capacity_tonnes", "valid_from", "valid_to", "address")

    class Meta:
        verbose_name = _("recycler licence application")
        constraints = [
            models.CheckConstraint(condition=models.Q(annual_capacity_tonnes__gt=0),
                                   name="licence_application_capacity_positive"),
            models.CheckConstraint(condition=models.Q(valid_to__gte=models.F("valid_from")),
                                   name="licence_application_dates_ordered"),
        ]

    def scopes_display(self) -> list[str]:
        return [str(LicenceScope(s).label) for s in self.scopes or []]

    def chemistries_display(self) -> list[str]:
        return [str(Chemistry(c).label) for c in self.chemistries or []]
