from __future__ import annotations

import pghistory
import pgtrigger
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Province


class Persona(models.TextChoices):
    """What a signed-in person is, for navigation and landing pages."""

    ENTERPRISE_ADMIN = "enterprise_admin", _("Enterprise administrator")
    FILER = "filer", _("Filer")
    REVIEWER = "reviewer", _("Ministry reviewer")
    ADMIN = "admin", _("Administrator")


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["password", "last_login"], model_name="UserEvent"
)
class User(AbstractUser):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company staff")
        REVIEWER = "reviewer", _("Ministry reviewer")
        ADMIN = "admin", _("Administrator")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Reviewers may be limited to some provinces; an empty list means national scope.
    reviewer_provinces = ArrayField(
        models.CharField(max_length=2, choices=Province.choices), default=list, blank=True,
        verbose_name=_("provinces reviewed"),
    )

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(kind="reviewer") | models.Q(reviewer_provinces=[]),
                name="user_provinces_only_for_reviewers",
            ),
        ]
        # Accounts are deactivated, never deleted: the ledger and the audit trail name them (ADR 0006).
        triggers = [pgtrigger.Protect(name="user_never_deleted", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def membership(self):
        return getattr(self, "_membership_cache", None) or self._load_membership()

    def _load_membership(self):
        from apps.enterprises.models import Membership

        try:
            self._membership_cache = Membership.objects.select_related("enterprise").get(user=self)
        except Membership.DoesNotExist:
            self._membership_cache = None
        return self._membership_cache

    @property
    def enterprise(self):
        membership = self.membership
        return membership.enterprise if membership else None

    @property
    def persona(self) -> str | None:
        if self.kind == self.Kind.ADMIN:
            return Persona.ADMIN
        if self.kind == self.Kind.REVIEWER:
            return Persona.REVIEWER
        membership = self.membership
        if membership is None:
            return None
        return Persona.ENTERPRISE_ADMIN if membership.role == membership.Role.ADMIN else Persona.FILER

    @property
    def is_regulator(self) -> bool:
        return self.kind in (self.Kind.REVIEWER, self.Kind.ADMIN)

    @property
    def requires_two_factor(self) -> bool:
        return self.is_regulator


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["digest"], model_name="APIKeyEvent")
class APIKey(models.Model):
    """A key an enterprise's own system uses to call the API.

    Only a SHA-256 digest of the secret is stored: keys are 256-bit random strings, so a slow hash adds
    nothing, and a fast one keeps every API call cheap. The prefix identifies the key in lists and logs.
    """

    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["enterprise", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
