"""The reconciliation checks: each is ONE set-based SQL statement (never a Python loop over batteries).

Every statement yields rows of the same shape, one per discrepancy:
    enterprise_id, period, figure, subject, expected, found, severity, codes, code_count
and takes the same named parameters: %(enterprises)s (null: every enterprise; else the ids in the run's scope) and
%(cap)s (how many codes to keep), plus its own (cut-off instants, today, default weights), all computed once per run
by `check_parameters`. The run (apps.reconciliation.services) wraps a statement in an INSERT … ON CONFLICT for a
real run, or in a count for a dry run.

Battery-level checks are aggregated per enterprise (figure = what is wrong, found = how many batteries, codes = the
first `cap` of them, sorted), so that the number of discrepancies grows with enterprises, not with batteries.

The statements live by subject: reports (reported_vs_ledger, stock_balance, mass_balance), handovers
(handover_not_received, received_by_other, refused_not_taken_back), scrapping (scrapped_not_handed_over,
blocked_intake_unexplained), licences (licence_not_active, licence_capacity_exceeded), ledger (gone_dark).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from apps.batteries.rules import HANDOVER_SCOPE, WASTE_RECIPIENT_ROLES_WITHOUT_LICENCE
from apps.reconciliation.checks.handovers import HANDOVER_NOT_RECEIVED, RECEIVED_BY_OTHER, REFUSED_NOT_TAKEN_BACK
from apps.reconciliation.checks.ledger import GONE_DARK
from apps.reconciliation.checks.licences import (
    LICENCE_CAPACITY_EXCEEDED,
    LICENCE_NOT_ACTIVE,
    WASTE_RECEIPTS,
    WASTE_RECEIPTS_TABLE,
)
from apps.reconciliation.checks.reports import MASS_BALANCE, REPORTED_VS_LEDGER, STOCK_BALANCE
from apps.reconciliation.checks.scrapping import BLOCKED_INTAKE_UNEXPLAINED, SCRAPPED_NOT_HANDED_OVER
from apps.reconciliation.models import Check

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class CheckSQL:
    kind: str
    sql: str


# The checks a run performs, in this order.
CHECKS: tuple[CheckSQL, ...] = (
    CheckSQL(Check.REPORTED_VS_LEDGER, REPORTED_VS_LEDGER),
    CheckSQL(Check.STOCK_BALANCE, STOCK_BALANCE),
    CheckSQL(Check.HANDOVER_NOT_RECEIVED, HANDOVER_NOT_RECEIVED),
    CheckSQL(Check.RECEIVED_BY_OTHER, RECEIVED_BY_OTHER),
    CheckSQL(Check.REFUSED_NOT_TAKEN_BACK, REFUSED_NOT_TAKEN_BACK),
    CheckSQL(Check.SCRAPPED_NOT_HANDED_OVER, SCRAPPED_NOT_HANDED_OVER),
    CheckSQL(Check.BLOCKED_INTAKE_UNEXPLAINED, BLOCKED_INTAKE_UNEXPLAINED),
    CheckSQL(Check.LICENCE_NOT_ACTIVE, LICENCE_NOT_ACTIVE),
    CheckSQL(Check.LICENCE_CAPACITY_EXCEEDED, LICENCE_CAPACITY_EXCEEDED),
    CheckSQL(Check.GONE_DARK, GONE_DARK),
    CheckSQL(Check.MASS_BALANCE, MASS_BALANCE),
)

# What several checks read, computed once per run before them into temporary tables (name, statement taking the
# same parameters as the checks). The licence checks read the waste receipts.
SHARED_TABLES: tuple[tuple[str, str], ...] = (
    (WASTE_RECEIPTS_TABLE, WASTE_RECEIPTS),
)


def prepare_shared_tables(cursor, params: dict) -> None:
    """Compute the shared tables for a run's scope, in the run's transaction: temporary and dropped at its commit
    (and dropped first, should a caller run twice in one transaction, as the tests do). ANALYZE gives the planner
    their real size. Whoever executes CHECKS calls this first, with the same parameters; outside a transaction
    (autocommit, as the benchmarks' cursors) the tables live until the next call or the end of the session."""
    from django.db import connection

    on_commit = " ON COMMIT DROP" if connection.in_atomic_block else ""
    for name, sql in SHARED_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name}{on_commit} AS {sql}", params)
        cursor.execute(f"ANALYZE {name}")


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


def check_parameters(*, enterprise_ids: list[int] | None, now: dt.datetime | None = None, calendar=None) -> dict:
    """The parameters every statement takes, computed once per run (the working-day walks are the only Python)."""
    from apps.core.workdays import WorkdayCalendar
    from apps.reconciliation.rules import handover_overdue_through

    now = now or timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    verdict = (calendar or WorkdayCalendar()).verdict

    def cutoff(working_days: int) -> dt.datetime:
        # events before this instant are more than `working_days` working days old today
        return _start_of(handover_overdue_through(today, working_days, verdict) + dt.timedelta(days=1))

    weights = settings.RECONCILIATION_DEFAULT_WEIGHT_KG
    return {
        "enterprises": sorted(enterprise_ids) if enterprise_ids is not None else None,
        "cap": settings.RECONCILIATION_CODES_CAP,
        "today": today,
        "handover_cutoff": cutoff(settings.RECONCILIATION_HANDOVER_WORKING_DAYS),
        "refusal_cutoff": cutoff(settings.RECONCILIATION_REFUSAL_WORKING_DAYS),
        "blocked_cutoff": cutoff(settings.RECONCILIATION_BLOCKED_INTAKE_WORKING_DAYS),
        "dark_cutoff": now - dt.timedelta(days=settings.RECONCILIATION_GONE_DARK_DAYS),
        "licence_scope": HANDOVER_SCOPE,
        "licence_exempt_roles": sorted(WASTE_RECIPIENT_ROLES_WITHOUT_LICENCE),
        "default_pack_kg": weights["P"], "default_module_kg": weights["M"], "default_cell_kg": weights["C"],
    }
