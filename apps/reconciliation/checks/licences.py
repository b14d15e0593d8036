"""Licence and capacity: waste batteries received without a licence in force that day, or beyond the recycler's
licensed annual capacity (by weight). A waste receipt is a `received` event whose handover (the event before it in
the battery's chain) carried `waste: true`."""
from __future__ import annotations

from apps.reconciliation.checks.common import CODES, default_weight_kg, in_scope, month_of

# Driven from the waste handovers (a partial index, migration 0005), each joined to the receipt right after it
# (seq + 1: the ledger's (battery, seq) key, or the partial index of receipts).
_WASTE_RECEIPT = """batteries_batteryevent h
JOIN batteries_batteryevent e ON e.battery_id = h.battery_id AND e.seq = h.seq + 1 AND e.kind = 'received'
JOIN batteries_battery b ON b.id = e.battery_id"""
_IS_WASTE_HANDOVER = "h.kind = 'handed_over' AND (h.details ->> 'waste')::boolean"

# The waste receipts of the run's scope with their battery, computed once per run into a temporary table that both
# licence checks read (checks.prepare_shared_tables; dropped at commit). Finding them is most of each check's cost
# nationally (≈ 2 s: every receipt against the waste handovers, then 5·10⁵ batteries), and the table's own
# statistics (ANALYZE) let the planner size the joins that read it, which it cannot on (battery, seq + 1).
WASTE_RECEIPTS_TABLE = "reconciliation_waste_receipts"
WASTE_RECEIPTS = f"""
SELECT e.actor_id, e.occurred_at, e.id, b.code, b.weight_kg, b.chemistry, b.product_type
FROM {_WASTE_RECEIPT}
WHERE {_IS_WASTE_HANDOVER} AND {in_scope("e.actor_id")}
"""

# A licence's status at an instant: its last change (grant, suspension, reinstatement, revocation) up to then; a
# licence with changes but none yet at that instant counts as active; one with no change recorded at all (entered
# before the change log existed) has its current status. Whether a licence has any change is read once per licence
# (the `licences` CTE below), so a receipt under a licence without changes costs no lookup at all.
_LICENCE_ACTIVE_AT = """CASE WHEN l.has_changes THEN coalesce(
    (SELECT CASE WHEN c.action IN ('granted', 'reinstated') THEN 'active' ELSE c.action END
       FROM enterprises_licencechange c WHERE c.licence_id = l.id AND c.created_at <= b.occurred_at
      ORDER BY c.created_at DESC, c.id DESC LIMIT 1), 'active') = 'active'
    ELSE l.status = 'active' END"""

LICENCE_NOT_ACTIVE = f"""
WITH licences AS MATERIALIZED (
    SELECT l.id, l.enterprise_id, l.valid_from, l.valid_to, l.chemistries, l.status,
           EXISTS (SELECT 1 FROM enterprises_licencechange c WHERE c.licence_id = l.id) AS has_changes
    FROM enterprises_recyclerlicence l
    WHERE %(licence_scope)s = ANY (l.scopes) AND {in_scope("l.enterprise_id")}
)
SELECT b.actor_id AS enterprise_id, {month_of("b.occurred_at")} AS period,
       'received_waste' AS figure, '' AS subject, 0::bigint AS expected, count(*)::bigint AS found,
       'high' AS severity, {CODES} AS codes, count(*) AS code_count
FROM {WASTE_RECEIPTS_TABLE} b
JOIN enterprises_enterprise r ON r.id = b.actor_id
WHERE NOT (r.roles && %(licence_exempt_roles)s::varchar[])
  AND NOT EXISTS (
      SELECT 1 FROM licences l
      WHERE l.enterprise_id = b.actor_id
        AND (b.occurred_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN l.valid_from AND l.valid_to
        AND b.chemistry = ANY (l.chemistries)
        AND {_LICENCE_ACTIVE_AT})
GROUP BY 1, 2
"""

# Licensed capacity exceeded, per recycler and calendar year (Asia/Shanghai; period = 1 January).
#   expected = the licensed capacity of the year in kg: each licence's annual_capacity_tonnes × the share of the year
#              it is valid (rules.prorated_capacity_kg), summed over the recycler's licences whatever their status
#              (receiving while suspended is licence_not_active's business);
#   found    = kg of waste batteries received in the year: Battery.weight_kg, or for a battery without a weight the
#              default of its product type (settings.RECONCILIATION_DEFAULT_WEIGHT_KG).
# Severity high when the weighed batteries alone exceed the capacity, medium when only the assumed weights push the
# total over it. The codes are the batteries received after the running total passed the capacity.
# Only enterprises that hold a licence are checked (one without any is licence_not_active's business). The running
# total (a window over every receipt) is computed only for the recycler-years over capacity (`totals` first).
LICENCE_CAPACITY_EXCEEDED = f"""
WITH capacity AS (
    SELECT l.enterprise_id, y.year,
           sum(l.annual_capacity_tonnes * 1000
               * ((least(l.valid_to, make_date(y.year, 12, 31))
                   - greatest(l.valid_from, make_date(y.year, 1, 1)) + 1)::numeric
                  / (make_date(y.year + 1, 1, 1) - make_date(y.year, 1, 1)))) AS kg
    FROM enterprises_recyclerlicence l
    CROSS JOIN LATERAL generate_series(extract(year FROM l.valid_from)::int,
                                       extract(year FROM l.valid_to)::int) AS y(year)
    WHERE {in_scope("l.enterprise_id")}
    GROUP BY 1, 2
), received AS (
    SELECT b.actor_id AS enterprise_id,
           extract(year FROM b.occurred_at AT TIME ZONE 'Asia/Shanghai')::int AS year,
           b.occurred_at, b.id, b.code, b.weight_kg, {default_weight_kg()} AS kg
    FROM {WASTE_RECEIPTS_TABLE} b
    WHERE b.actor_id IN (SELECT enterprise_id FROM capacity)
), totals AS (
    SELECT r.enterprise_id, r.year, c.kg AS capacity_kg, sum(r.kg) AS kg,
           coalesce(sum(r.weight_kg), 0) AS weighed_kg
    FROM received r JOIN capacity c ON c.enterprise_id = r.enterprise_id AND c.year = r.year
    GROUP BY r.enterprise_id, r.year, c.kg
    HAVING sum(r.kg) > c.kg
), running AS (
    SELECT r.enterprise_id, r.year, r.code,
           sum(r.kg) OVER (PARTITION BY r.enterprise_id, r.year ORDER BY r.occurred_at, r.id) AS cumulative
    FROM received r JOIN totals t ON t.enterprise_id = r.enterprise_id AND t.year = r.year
)
SELECT t.enterprise_id, make_date(t.year, 1, 1) AS period, 'received_kg' AS figure, '' AS subject,
       round(t.capacity_kg)::bigint AS expected, ceil(t.kg)::bigint AS found,
       CASE WHEN t.weighed_kg > t.capacity_kg THEN 'high' ELSE 'medium' END AS severity,
       (array_agg(rn.code ORDER BY rn.code) FILTER (WHERE rn.cumulative > t.capacity_kg))[1:%(cap)s] AS codes,
       count(*) FILTER (WHERE rn.cumulative > t.capacity_kg) AS code_count
FROM totals t JOIN running rn ON rn.enterprise_id = t.enterprise_id AND rn.year = t.year
GROUP BY t.enterprise_id, t.year, t.capacity_kg, t.kg, t.weighed_kg
"""
