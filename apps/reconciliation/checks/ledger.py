"""Gone dark: waste or removed batteries with no event for a configurable time."""
from __future__ import annotations

from apps.reconciliation.checks.common import CODES, in_scope

# The candidates first (waste, or removed at dismantling at some point, and not finished: recycled, remanufactured
# or back in a vehicle), from two small partial indexes (migration 0004: batteries that are waste and not finished;
# the ledger's `removed` events), and only then each one's last event, by the ledger's (battery, seq) key (LIMIT 1
# keeps the lookup a per-candidate index probe: the planner cannot count a materialized CTE, and would hash the
# whole ledger for it). Driving from the ledger instead (every old event, then its battery) read 10⁷ rows for a few
# hundred results; an OR of the two conditions hid both indexes from the planner. A full run probes the battery of
# each removed event in the index's battery order (nearly sequential reads: 0.4 s nationally, against 1.1–1.4 s for
# hashing every unfinished battery); a scoped run starts from its enterprises' batteries. The planner keeps only the
# branch for the run's scope (the parameter is a constant).
_NOT_FINISHED = "b.status NOT IN ('recycled', 'remanufactured', 'installed')"

GONE_DARK = f"""
WITH candidates AS MATERIALIZED (
    SELECT b.id, b.holder_id, b.code, b.ledger_seq FROM batteries_battery b
    WHERE b.is_waste AND {_NOT_FINISHED} AND {in_scope("b.holder_id")}
    UNION
    SELECT b.id, b.holder_id, b.code, b.ledger_seq
    FROM batteries_batteryevent rm
    CROSS JOIN LATERAL (SELECT b.id, b.holder_id, b.code, b.ledger_seq FROM batteries_battery b
                        WHERE b.id = rm.battery_id AND {_NOT_FINISHED} LIMIT 1) AS b
    WHERE rm.kind = 'removed' AND %(enterprises)s::bigint[] IS NULL
    UNION
    SELECT b.id, b.holder_id, b.code, b.ledger_seq
    FROM batteries_batteryevent rm JOIN batteries_battery b ON b.id = rm.battery_id
    WHERE rm.kind = 'removed' AND {_NOT_FINISHED} AND b.holder_id = ANY (%(enterprises)s::bigint[])
)
SELECT b.holder_id AS enterprise_id, NULL::date AS period, 'no_event' AS figure, '' AS subject,
       0::bigint AS expected, count(*)::bigint AS found, 'medium' AS severity, {CODES} AS codes,
       count(*) AS code_count
FROM candidates b
CROSS JOIN LATERAL (SELECT e.occurred_at FROM batteries_batteryevent e
                    WHERE e.battery_id = b.id AND e.seq = b.ledger_seq LIMIT 1) AS last
WHERE last.occurred_at < %(dark_cutoff)s
GROUP BY b.holder_id
"""
