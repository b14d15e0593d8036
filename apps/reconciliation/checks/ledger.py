"""Gone dark: waste or removed batteries with no event for a configurable time."""
from __future__ import annotations

from apps.reconciliation.checks.common import CODES, in_scope

GONE_DARK = f"""
SELECT b.holder_id AS enterprise_id, NULL::date AS period, 'no_event' AS figure, '' AS subject,
       0::bigint AS expected, count(*)::bigint AS found, 'medium' AS severity, {CODES} AS codes,
       count(*) AS code_count
FROM batteries_battery b
JOIN batteries_batteryevent e ON e.battery_id = b.id AND e.seq = b.ledger_seq
WHERE b.status NOT IN ('recycled', 'remanufactured', 'installed') AND e.occurred_at < %(dark_cutoff)s
  AND (b.is_waste OR EXISTS (SELECT 1 FROM batteries_batteryevent rm
                             WHERE rm.battery_id = b.id AND rm.kind = 'removed'))
  AND {in_scope("b.holder_id")}
GROUP BY b.holder_id
"""
