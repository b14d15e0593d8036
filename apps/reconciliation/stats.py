"""Pre-aggregated figures the oversight dashboards read (ADR 0013).

Counting 10,000,000 ledger events and 3,000,000 batteries on every page view is too slow, so the dashboards read
three materialized views, refreshed set-based (`REFRESH MATERIALIZED VIEW CONCURRENTLY`) by
`apps.reconciliation.services.dashboard_aggregates_refresh` after each full reconciliation run and on demand:

- `reconciliation_flow_month`: ledger events per acting enterprise, month (Asia/Shanghai) and event kind;
- `reconciliation_received_weight_month`: batteries received and their weight per receiving enterprise and month;
- `reconciliation_status_count`: batteries per holding enterprise and status (today's projection).

The models below are read-only (managed = False): the views are created by migration 0002.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FlowMonth(models.Model):
    pk = models.CompositePrimaryKey("enterprise_id", "month", "kind")
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.DO_NOTHING, related_name="+",
                                   db_constraint=False)
    month = models.DateField()
    kind = models.CharField(max_length=24)
    events = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "reconciliation_flow_month"


class ReceivedWeightMonth(models.Model):
    pk = models.CompositePrimaryKey("enterprise_id", "month")
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.DO_NOTHING, related_name="+",
                                   db_constraint=False)
    month = models.DateField()
    batteries = models.BigIntegerField()
    weight_kg = models.DecimalField(max_digits=18, decimal_places=3)

    class Meta:
        managed = False
        db_table = "reconciliation_received_weight_month"


class StatusCount(models.Model):
    pk = models.CompositePrimaryKey("enterprise_id", "status")
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.DO_NOTHING, related_name="+",
                                   db_constraint=False)
    status = models.CharField(max_length=16)
    batteries = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "reconciliation_status_count"


class AggregateRefresh(models.Model):
    """One refresh of the dashboard aggregates: the pages say how fresh their figures are."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))

    class Meta:
        verbose_name = _("dashboard aggregates refresh")
        ordering = ["-finished_at", "-id"]
