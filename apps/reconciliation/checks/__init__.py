"""The reconciliation checks: each is ONE set-based SQL statement (never a Python loop over batteries).

Every statement yields rows of the same shape, one per discrepancy:
    enterprise_id, period, figure, subject, expected, found, severity, codes, code_count
and takes the same named parameters: %(enterprise)s (null: every enterprise) and %(cap)s (how many codes to keep),
plus its own (the cut-off instants, today). The run (apps.reconciliation.services) wraps a statement in an
INSERT … ON CONFLICT for a real run, or in a count for a dry run.

Battery-level checks are aggregated per enterprise (figure = what is wrong, found = how many batteries, codes = the
first `cap` of them, sorted), so that the number of discrepancies grows with enterprises, not with batteries.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from apps.batteries.rules import HANDOVER_SCOPE, WASTE_RECIPIENT_ROLES_WITHOUT_LICENCE
from apps.filings import rules as filing_rules
from apps.filings.models import MONTHLY_COUNT_FIELDS
from apps.filings.selectors import LEDGER_MONTH_EVENTS_WHERE
from apps.reconciliation.models import Check

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A monthly report counts once it is filed: awaiting review, in review, resubmitted or approved.
FILED_STATUSES = (*filing_rules.OPEN_STATUSES, filing_rules.APPROVED)

_CODES = "(array_agg(b.code ORDER BY b.code))[1:%(cap)s]"


def _declared_values() -> str:
    # Field names come from MONTHLY_COUNT_FIELDS (code, not input): safe to place in the statement.
    return ", ".join(f"('{name}', '{kind}', r.{name})" for name, kind in MONTHLY_COUNT_FIELDS if kind)


def _statuses(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


REPORTED_VS_LEDGER = f"""
WITH reports AS MATERIALIZED (
    SELECT f.id, f.enterprise_id, f.period FROM filings_filing f
    WHERE f.kind = 'monthly_report' AND f.status IN ({_statuses(FILED_STATUSES)})
      AND (%(enterprise)s::bigint IS NULL OR f.enterprise_id = %(enterprise)s)
), ledger AS (
    SELECT rp.id AS filing_id, e.kind, count(*) AS n
    FROM reports rp JOIN batteries_batteryevent e
      ON {LEDGER_MONTH_EVENTS_WHERE.format(enterprise="rp.enterprise_id", month="rp.period")}
    GROUP BY rp.id, e.kind
)
SELECT rp.enterprise_id, rp.period, v.figure, '' AS subject, v.declared::bigint AS expected,
       coalesce(l.n, 0)::bigint AS found,
       CASE WHEN abs(coalesce(l.n, 0) - v.declared) * 10 >= greatest(coalesce(l.n, 0), v.declared)
            THEN 'high' ELSE 'medium' END AS severity,
       ARRAY[]::varchar[] AS codes, 0 AS code_count
FROM reports rp
JOIN filings_monthlyreport r ON r.filing_id = rp.id
CROSS JOIN LATERAL (VALUES {_declared_values()}) AS v(figure, event_kind, declared)
LEFT JOIN ledger l ON l.filing_id = rp.id AND l.kind = v.event_kind
WHERE v.declared <> coalesce(l.n, 0)
"""

HANDOVER_NOT_RECEIVED = f"""
SELECT b.transit_to_id AS enterprise_id, NULL::date AS period, 'in_transit' AS figure, '' AS subject,
       0::bigint AS expected, count(*)::bigint AS found, 'medium' AS severity, {_CODES} AS codes,
       count(*) AS code_count
FROM batteries_battery b
JOIN batteries_batteryevent e ON e.battery_id = b.id AND e.seq = b.ledger_seq
WHERE b.transit_to_id IS NOT NULL AND b.status = 'in_transit' AND e.kind = 'handed_over'
  AND e.occurred_at < %(handover_cutoff)s
  AND (%(enterprise)s::bigint IS NULL OR b.transit_to_id = %(enterprise)s)
GROUP BY b.transit_to_id
"""

SCRAPPED_NOT_HANDED_OVER = """
SELECT c.dismantler_id AS enterprise_id, NULL::date AS period, 'removed_still_held' AS figure, '' AS subject,
       0::bigint AS expected, count(DISTINCT b.id)::bigint AS found, 'high' AS severity,
       (array_agg(DISTINCT b.code ORDER BY b.code))[1:%(cap)s] AS codes, count(DISTINCT b.id) AS code_count
FROM scrapping_scrappingcertificate c
JOIN scrapping_intakebattery ib ON ib.intake_id = c.intake_id AND ib.removed
JOIN batteries_battery b ON b.id = ib.battery_id
WHERE c.status = 'valid' AND c.handover_deadline < %(today)s
  AND b.holder_id = c.dismantler_id AND b.status <> 'in_transit'
  AND (%(enterprise)s::bigint IS NULL OR c.dismantler_id = %(enterprise)s)
GROUP BY c.dismantler_id
"""

# A licence's status at an instant: its last change (grant, suspension, reinstatement, revocation) up to then; a
# licence with no change recorded at all (entered before the change log existed) has its current status.
_LICENCE_ACTIVE_AT = """coalesce(
    (SELECT CASE WHEN c.action IN ('granted', 'reinstated') THEN 'active' ELSE c.action END
       FROM enterprises_licencechange c WHERE c.licence_id = l.id AND c.created_at <= e.occurred_at
      ORDER BY c.created_at DESC, c.id DESC LIMIT 1),
    CASE WHEN EXISTS (SELECT 1 FROM enterprises_licencechange c2 WHERE c2.licence_id = l.id)
         THEN 'active' ELSE l.status END) = 'active'"""

LICENCE_NOT_ACTIVE = f"""
SELECT e.actor_id AS enterprise_id,
       date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS period,
       'received_waste' AS figure, '' AS subject, 0::bigint AS expected, count(*)::bigint AS found,
       'high' AS severity, {_CODES} AS codes, count(*) AS code_count
FROM batteries_batteryevent e
JOIN batteries_batteryevent h ON h.battery_id = e.battery_id AND h.seq = e.seq - 1 AND h.kind = 'handed_over'
JOIN batteries_battery b ON b.id = e.battery_id
JOIN enterprises_enterprise r ON r.id = e.actor_id
WHERE e.kind = 'received' AND (h.details ->> 'waste')::boolean
  AND NOT (r.roles && %(licence_exempt_roles)s::varchar[])
  AND (%(enterprise)s::bigint IS NULL OR e.actor_id = %(enterprise)s)
  AND NOT EXISTS (
      SELECT 1 FROM enterprises_recyclerlicence l
      WHERE l.enterprise_id = e.actor_id
        AND (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN l.valid_from AND l.valid_to
        AND b.chemistry = ANY (l.chemistries) AND %(licence_scope)s = ANY (l.scopes)
        AND {_LICENCE_ACTIVE_AT})
GROUP BY 1, 2
"""

GONE_DARK = f"""
SELECT b.holder_id AS enterprise_id, NULL::date AS period, 'no_event' AS figure, '' AS subject,
       0::bigint AS expected, count(*)::bigint AS found, 'medium' AS severity, {_CODES} AS codes,
       count(*) AS code_count
FROM batteries_battery b
JOIN batteries_batteryevent e ON e.battery_id = b.id AND e.seq = b.ledger_seq
WHERE b.status NOT IN ('recycled', 'remanufactured', 'installed') AND e.occurred_at < %(dark_cutoff)s
  AND (b.is_waste OR EXISTS (SELECT 1 FROM batteries_batteryevent rm
                             WHERE rm.battery_id = b.id AND rm.kind = 'removed'))
  AND (%(enterprise)s::bigint IS NULL OR b.holder_id = %(enterprise)s)
GROUP BY b.holder_id
"""


@dataclass(frozen=True)
class CheckSQL:
    kind: str
    sql: str


# The checks a run performs, in this order. Not yet implemented (issue 6): stock_balance, received_by_other,
# refused_not_taken_back, licence_capacity_exceeded, mass balance.
CHECKS: tuple[CheckSQL, ...] = (
    CheckSQL(Check.REPORTED_VS_LEDGER, REPORTED_VS_LEDGER),
    CheckSQL(Check.HANDOVER_NOT_RECEIVED, HANDOVER_NOT_RECEIVED),
    CheckSQL(Check.SCRAPPED_NOT_HANDED_OVER, SCRAPPED_NOT_HANDED_OVER),
    CheckSQL(Check.LICENCE_NOT_ACTIVE, LICENCE_NOT_ACTIVE),
    CheckSQL(Check.GONE_DARK, GONE_DARK),
)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


def check_parameters(*, enterprise_id: int | None, now: dt.datetime | None = None, calendar=None) -> dict:
    """The parameters every statement takes, computed once per run (the working-day walk is the only Python)."""
    from apps.core.workdays import WorkdayCalendar
    from apps.reconciliation.rules import handover_overdue_through

    now = now or timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    overdue_through = handover_overdue_through(today, settings.RECONCILIATION_HANDOVER_WORKING_DAYS,
                                               (calendar or WorkdayCalendar()).verdict)
    return {
        "enterprise": enterprise_id,
        "cap": settings.RECONCILIATION_CODES_CAP,
        "today": today,
        "handover_cutoff": _start_of(overdue_through + dt.timedelta(days=1)),
        "dark_cutoff": now - dt.timedelta(days=settings.RECONCILIATION_GONE_DARK_DAYS),
        "licence_scope": HANDOVER_SCOPE,
        "licence_exempt_roles": sorted(WASTE_RECIPIENT_ROLES_WITHOUT_LICENCE),
    }
