"""The battery digital identity card: Battery (a projection of its ledger), Vehicle, and the append-only ledger.

Schema kept lean for national volume: uniqueness through UniqueConstraint (no extra `_like` index that
`unique=True` would build on a CharField), partial indexes on sparse foreign keys.
"""
from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.batteries.querysets import BatteryQuerySet, VehicleQuerySet
from apps.core.choices import Chemistry


class ProductType(models.TextChoices):
    PACK = "P", _("Pack")
    MODULE = "M", _("Module")
    CELL = "C", _("Cell")


class BatteryStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    INSTALLED = "installed", _("Installed in a vehicle")
    IN_TRANSIT = "in_transit", _("In transit")
    RECYCLED = "recycled", _("Recycled (final disposal)")
    REMANUFACTURED = "remanufactured", _("Used in a remanufactured product")


class EventKind(models.TextChoices):
    PRODUCED = "produced", _("Produced")
    INSTALLED = "installed", _("Installed in a vehicle")
    SWAPPED_OUT = "swapped_out", _("Swapped out")
    SWAPPED_IN = "swapped_in", _("Swapped in")
    REPLACED_OUT = "replaced_out", _("Removed in a repair")
    REPLACED_IN = "replaced_in", _("Installed in a repair")
    REMOVED = "removed", _("Removed at dismantling")
    DECLARED_WASTE = "declared_waste", _("Declared waste")
    HANDED_OVER = "handed_over", _("Handed over")
    RECEIVED = "received", _("Received")
    REFUSED = "refused", _("Refused by the recipient")
    RECYCLED = "recycled", _("Recycled")
    REMANUFACTURED = "remanufactured", _("Used in a remanufactured product")
    REMANUFACTURE_PRODUCED = "remanufacture_produced", _("Produced by remanufacturing")


class FieldOfUse(models.TextChoices):
    ENERGY_STORAGE = "energy_storage", _("Energy storage")
    BACKUP_POWER = "backup_power", _("Backup power")
    BASE_STATION = "base_station", _("Telecom base station")
    LOW_SPEED_VEHICLE = "low_speed_vehicle", _("Low-speed and special vehicles")
    ELECTRIC_BICYCLE = "electric_bicycle", _("Electric bicycle")
    OTHER = "other", _("Other")


class Vehicle(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("In use")
        SCRAPPED = "scrapped", _("Scrapped")

    vin = models.CharField(_("VIN"), max_length=17, db_collation="C")
    maker = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", null=True,
                              blank=True)
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    is_swap_model = models.BooleanField(_("battery-swap model"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    scrapped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VehicleQuerySet.as_manager()

    class Meta:
        verbose_name = _("vehicle")
        constraints = [models.UniqueConstraint(fields=["vin"], name="vehicle_vin_unique")]
        triggers = [pgtrigger.Protect(name="vehicle_never_deleted", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return self.vin


class Battery(models.Model):
    """One pack, module or cell. Status, holder and vehicle are a projection of the ledger, kept here for reads."""

    # "C" collation: codes are ASCII; byte order makes the unique index serve prefix searches (LIKE 'ABC%')
    # without a second `_like` index, and keeps comparisons cheap at national volume.
    code = models.CharField(_("battery code"), max_length=24, db_collation="C")
    manufacturer_code = models.CharField(_("manufacturer code"), max_length=3)
    product_type = models.CharField(_("product type"), max_length=1, choices=ProductType.choices)
    chemistry = models.CharField(_("chemistry"), max_length=1, choices=Chemistry.choices)
    spec_code = models.CharField(_("specification code"), max_length=2)
    trace_code = models.CharField(_("traceability code"), max_length=7)
    production_date = models.DateField(_("production date"))
    serial = models.CharField(_("serial number"), max_length=7)
    capacity_kwh = models.DecimalField(_("capacity (kWh)"), max_digits=9, decimal_places=3, null=True, blank=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=10, decimal_places=3, null=True, blank=True)
    # References on the two national-volume tables carry no database FK constraint: PostgreSQL queues a check
    # for every inserted row, even a NULL one (seconds per million at every bulk load). Enterprises, users,
    # vehicles and batteries are never deleted — the database refuses it (triggers) — so references cannot
    # dangle, and ledger_verify reports any that do. See ADR 0006.
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               db_index=False, verbose_name=_("contained in"), db_constraint=False)
    maker = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", db_index=False,
                              db_constraint=False)
    status = models.CharField(_("status"), max_length=16, choices=BatteryStatus.choices, default=BatteryStatus.IN_STOCK)
    is_waste = models.BooleanField(_("waste"), default=False)
    holder = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("holder"), db_constraint=False)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="batteries",
                                db_index=False, db_constraint=False)
    transit_to = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("in transit to"),
                                   db_constraint=False)
    ledger_seq = models.PositiveIntegerField(default=0)
    ledger_head = models.CharField(max_length=64, default="")
    registered_at = models.DateTimeField(_("registered at"))
    updated_at = models.DateTimeField(_("updated at"))

    objects = BatteryQuerySet.as_manager()

    class Meta:
        verbose_name = _("battery")
        verbose_name_plural = _("batteries")
        constraints = [
            models.UniqueConstraint(fields=["code"], name="battery_code_unique"),
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9A-Z]{24}$"), name="battery_code_shape"),
            models.CheckConstraint(condition=~models.Q(status="installed") | models.Q(vehicle__isnull=False),
                                   name="battery_installed_has_vehicle"),
            models.CheckConstraint(condition=models.Q(status="installed") | models.Q(vehicle__isnull=True),
                                   name="battery_vehicle_only_when_installed"),
            models.CheckConstraint(condition=~models.Q(status="in_transit") | models.Q(transit_to__isnull=False),
                                   name="battery_in_transit_has_recipient"),
        ]
        indexes = [
            models.Index(fields=["holder", "status"], name="battery_holder_status"),
            models.Index(fields=["vehicle"], name="battery_vehicle", condition=models.Q(vehicle__isnull=False)),
            models.Index(fields=["transit_to"], name="battery_transit_to", condition=models.Q(transit_to__isnull=False)),
            models.Index(fields=["parent"], name="battery_parent", condition=models.Q(parent__isnull=False)),
        ]
        triggers = [pgtrigger.Protect(name="battery_never_deleted", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return self.code


class BatteryEvent(models.Model):
    """The ledger. Append-only: the database refuses UPDATE and DELETE (trigger below). Each event carries the
    hash of the previous event of the same battery, so a rewritten history is detectable (`ledger_verify`).

    The hash is computed by the SQL function `bt_ledger_hash` (migration 0002), the single definition used by
    single-event services, bulk imports and the verifier alike.
    """

    # No per-row FK check (ADR 0006): batteries are never deleted (trigger) and ledger_verify reports any event
    # whose battery is missing.
    battery = models.ForeignKey(Battery, on_delete=models.PROTECT, related_name="events", db_index=False,
                                db_constraint=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(_("event"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", db_index=False,
                              verbose_name=_("by"), db_constraint=False)
    counterparty = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", null=True,
                                     blank=True, db_index=False, verbose_name=_("counterparty"), db_constraint=False)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                db_index=False, db_constraint=False)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", db_index=False, db_constraint=False)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("ledger event")
        constraints = [models.UniqueConstraint(fields=["battery", "seq"], name="ledger_battery_seq_unique")]
        # Covering: the per-enterprise reads by time (monthly-report comparison, reconciliation, late-reported
        # events in apps.deadlines) need only kind and recorded_at besides the key, so they scan the index alone
        # (tests/bench/bench_deadlines.py, 3 million events: 4–11 times faster than with heap fetches).
        indexes = [models.Index(fields=["actor", "occurred_at"], name="ledger_actor_time",
                                include=["kind", "recorded_at"])]
        triggers = [
            pgtrigger.Protect(name="ledger_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.battery_id}#{self.seq} {self.kind}"


class Remanufacture(models.Model):
    """A product made from waste batteries: its own new code, its sources, its field of use and standard."""

    product = models.OneToOneField(Battery, on_delete=models.PROTECT, related_name="remanufacture")
    field_of_use = models.CharField(_("field of use"), max_length=32, choices=FieldOfUse.choices)
    standard_number = models.CharField(_("quality standard met"), max_length=64)
    actor = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class RemanufactureSource(models.Model):
    remanufacture = models.ForeignKey(Remanufacture, on_delete=models.PROTECT, related_name="sources")
    source = models.OneToOneField(Battery, on_delete=models.PROTECT, related_name="used_in")


def import_upload_path(instance, filename: str) -> str:
    import uuid

    return f"imports/{instance.enterprise_id}/{uuid.uuid4().hex}.upload"


class BulkImport(models.Model):
    """An uploaded file of lifecycle rows (registration, installation or handover), applied all-or-nothing by a
    Celery job. The same file (by SHA-256) for the same enterprise and kind is recognised and not applied twice."""

    class Kind(models.TextChoices):
        REGISTER = "register", _("Registration (produced)")
        INSTALL = "install", _("Installation in vehicles")
        HAND_OVER = "hand_over", _("Handover")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        VALIDATING = "validating", _("Checking rows")
        APPLYING = "applying", _("Applying")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed — nothing was changed")

    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to=import_upload_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    bytes_read = models.BigIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    applied_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first 1,000 errors: {row, column, code, message}")
    errors_file = models.FileField(upload_to="imports/errors/", blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("bulk import")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "sha256"], condition=~models.Q(status="failed"),
                                    name="bulk_import_same_file_once"),
        ]
        indexes = [models.Index(fields=["enterprise", "-created_at"], name="bulk_import_enterprise")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if self.status in (self.Status.APPLYING,):
            return 95
        return int(90 * self.bytes_read / self.size) if self.size else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
