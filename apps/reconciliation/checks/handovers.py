"""Handover against receipt: handed over and not received in time, received by someone else than the named
recipient, refused and not taken back.

How the ledger names the parties: `handed_over` has the sender as actor and the named recipient as counterparty;
`received` has the receiver as actor and the sender as counterparty, and follows the handover directly in the
battery's chain (seq − 1); `refused` has the recipient who refused as actor and the sender as counterparty, and puts
the battery back into the sender's stock at once. The ledger has no "taken back" event: the sender's next step with
the battery (handing it over again, declaring it waste, installing, recycling it) is the proof that it has it back.
"""
from __future__ import annotations

from apps.reconciliation.checks.common import CODES, in_scope, month_of

HANDOVER_NOT_RECEIVED = f"""
SELECT b.transit_to_id AS enterprise_id, NULL::date AS period, 'in_transit' AS figure, '' AS subject,
       0::bigint AS expected, count(*)::bigint AS found, 'medium' AS severity, {CODES} AS codes,
       count(*) AS code_count
FROM batteries_battery b
JOIN batteries_batteryevent e ON e.battery_id = b.id AND e.seq = b.ledger_seq
WHERE b.transit_to_id IS NOT NULL AND b.status = 'in_transit' AND e.kind = 'handed_over'
  AND e.occurred_at < %(handover_cutoff)s
  AND {in_scope("b.transit_to_id")}
GROUP BY b.transit_to_id
"""

# A receipt whose previous event is not a handover naming the receiver (through the services this cannot happen;
# it can in data loaded from elsewhere, or by a fault). Attributed to the receiver, per month of receipt: it holds
# a battery nobody handed to it. Written as an anti-join against the handovers (a receipt is fine when the event
# before it, seq − 1, is a handover to its actor), so that only the handovers are hashed, not the whole ledger;
# a receipt as a battery's first event has no previous event and is not flagged (the chain's own check, ledger_verify,
# reports a chain with a gap). The codes are read for the flagged receipts only (LIMIT 1 keeps that a probe of the
# batteries' key per receipt; the planner cannot count the flagged ones and would hash every battery). Served for
# one enterprise by the (actor, occurred_at) index.
RECEIVED_BY_OTHER = f"""
WITH flagged AS MATERIALIZED (
    SELECT e.actor_id, e.occurred_at, e.battery_id
    FROM batteries_batteryevent e
    WHERE e.kind = 'received' AND e.seq > 1 AND {in_scope("e.actor_id")}
      AND NOT EXISTS (SELECT 1 FROM batteries_batteryevent h
                      WHERE h.battery_id = e.battery_id AND h.seq = e.seq - 1 AND h.kind = 'handed_over'
                        AND h.counterparty_id = e.actor_id)
)
SELECT f.actor_id AS enterprise_id, {month_of("f.occurred_at")} AS period, 'not_addressed' AS figure,
       '' AS subject, 0::bigint AS expected, count(*)::bigint AS found, 'high' AS severity, {CODES} AS codes,
       count(*) AS code_count
FROM flagged f
CROSS JOIN LATERAL (SELECT code FROM batteries_battery WHERE id = f.battery_id LIMIT 1) AS b
GROUP BY 1, 2
"""

# A refusal still the battery's last event after the working days allowed: the sender has not taken it back (it
# has recorded nothing since). Attributed to the sender; high when one of the batteries is waste (a waste battery
# whose whereabouts nobody reports). Served by the partial index of refusals (migration 0003).
REFUSED_NOT_TAKEN_BACK = f"""
SELECT e.counterparty_id AS enterprise_id, NULL::date AS period, 'not_taken_back' AS figure, '' AS subject,
       0::bigint AS expected, count(*)::bigint AS found,
       CASE WHEN bool_or(b.is_waste) THEN 'high' ELSE 'medium' END AS severity, {CODES} AS codes,
       count(*) AS code_count
FROM batteries_batteryevent e
JOIN batteries_battery b ON b.id = e.battery_id AND b.ledger_seq = e.seq
WHERE e.kind = 'refused' AND e.counterparty_id IS NOT NULL AND e.occurred_at < %(refusal_cutoff)s
  AND {in_scope("e.counterparty_id")}
GROUP BY e.counterparty_id
"""
