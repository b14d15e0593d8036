import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Every domain row knows when it was created and changed, and by whom."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The stored answer to a POST sent with an `Idempotency-Key` header (apps.core.idempotency).

    A client that lost the answer to a write (timeout, dropped connection) sends the same request again with the
    same key and receives the same answer, instead of registering a battery twice. Kept 24 hours.
    """

    key = models.CharField(max_length=255)
    # The unique constraint below leads with the user, so it serves as the user's index too.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField()
    # The JSON body as sent, kept as text: jsonb would reorder its keys, and the replay must be the same bytes.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
                 model_name="WorkdayOverrideEvent")
class WorkdayOverride(BaseModel):
    """An admin's entry in the working-day calendar (apps.core.workdays): it wins over the chinesecalendar package.

    Used for the years the package does not know yet (the State Council publishes each year's holiday arrangement
    in November or December) and for corrections. Changed only through apps.core.services.
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True,
                            help_text=_("e.g. National Day holiday, or make-up working day for the Spring Festival"))

    class Meta:
        verbose_name = _("working-day override")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'workday' if self.is_workday else 'day off'}"


class OutboxMessage(models.Model):
    """A follow-up job (an e-mail, a reconciliation run, an import) written in the same transaction as the business
    write that causes it: it exists if and only if that write committed (apps.core.outbox).

    The relay publishes it to the broker — at once on commit, again from the periodic relay while the broker was
    down — and the worker runs it at most once at a time and marks it processed; a second delivery is a no-op.
    """

    task = models.CharField(max_length=200, help_text="The Celery task's name, e.g. apps.filings.tasks.notification_email_send")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker")
    processed_at = models.DateTimeField(null=True, blank=True, help_text="Run to completion by a worker")
    attempts = models.PositiveIntegerField(default=0, help_text="Publications and runs that failed")
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], condition=models.Q(processed_at__isnull=True),
                                name="core_outbox_pending_idx")]

    def __str__(self) -> str:
        return f"outbox #{self.pk} {self.task}"
