"""Reads behind the recovery report and explanation pages and API: what a filing of these kinds shows beside its
content. Each takes a Filing the caller already obtained from selectors.filing_get (tenant scoping done there)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from apps.filings import recovery_rules
from apps.filings.models import ChemistryComposition, Filing, Metal
from apps.filings.selectors import LEDGER_MONTH_EVENTS_WHERE


def recovery_assessment(filing: Filing) -> list[recovery_rules.MetalResult]:
    """Expected content, output, rate and threshold per metal, from the fractions the report was saved with."""
    from apps.filings.recovery_services import thresholds

    report = filing.recovery_report
    fractions = {chem: {metal: Decimal(share) for metal, share in shares.items()}
                 for chem, shares in (report.fractions or {}).items()}
    return recovery_rules.recovery_assessment(inputs=report.inputs(), outputs=report.outputs(), fractions=fractions,
                                              thresholds=thresholds())


def recovery_rows(filing: Filing) -> list[dict]:
    """The table of the detail and review pages: one row per metal, with its label."""
    labels = dict(Metal.choices)
    return [{"label": labels[r.metal], "result": r} for r in recovery_assessment(filing)]


def ledger_received_weight(*, enterprise_id: int, month: dt.date) -> tuple[int, Decimal | None]:
    """Packs the ledger records as received by the enterprise in the month, and their declared weight (kg; None
    if no weight is known): one aggregate over the (actor, occurred_at) index, the reviewer's cross-check."""
    where = LEDGER_MONTH_EVENTS_WHERE.format(enterprise="%s", month="%s::date")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(b.weight_kg) FROM batteries_batteryevent e"
            " JOIN batteries_battery b ON b.id = e.battery_id"
            f" WHERE {where} AND e.kind = 'received'", [enterprise_id, month, month])
        count, weight = cursor.fetchone()
    return count, weight


def compositions():
    return ChemistryComposition.objects.order_by("chemistry")


def composition(chemistry: str):
    return ChemistryComposition.objects.filter(chemistry=chemistry).first()


def composition_changes(*, chemistry: str | None = None):
    """The composition table's change history, newest first (administrators only: the views check)."""
    from apps.filings.models import ChemistryCompositionChange

    qs = ChemistryCompositionChange.objects.select_related("composition", "actor").order_by("-created_at", "-id")
    return qs.filter(composition__chemistry=chemistry) if chemistry else qs


def explanation_subject(filing: Filing):
    """The discrepancy or the scrapping intake an explanation answers (one of the two), for display."""
    explanation = filing.explanation
    return explanation.discrepancy or explanation.intake


def explanation_subject_for(*, actor, discrepancy_id=None, intake_id=None):
    """The actor's enterprise's own discrepancy or scrapping intake to explain (the form page shows it); another
    enterprise's is "not found". Whether it may still be explained is the service's decision."""
    from apps.core.errors import NotFound
    from apps.reconciliation.models import Discrepancy
    from apps.scrapping.models import ScrappingIntake

    membership = getattr(actor, "membership", None)
    if membership is None:
        raise NotFound()
    try:
        if discrepancy_id is not None:
            return Discrepancy.objects.get(pk=discrepancy_id, enterprise_id=membership.enterprise_id)
        return ScrappingIntake.objects.get(pk=intake_id, dismantler_id=membership.enterprise_id)
    except (Discrepancy.DoesNotExist, ScrappingIntake.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def explanation_filing_for(subject, *, discrepancy: bool) -> Filing | None:
    """The live (not rejected) explanation filing of a discrepancy or intake, for the subject's page."""
    lookup = {"explanation__discrepancy": subject} if discrepancy else {"explanation__intake": subject}
    return Filing.objects.filter(kind="explanation", **lookup).exclude(status="rejected").order_by("-id").first()
