"""Checks of what an enterprise declares: each figure of its monthly pack-count report against the ledger
(reported_vs_ledger), the report against itself and the month before (stock_balance), and a recycler's recovery
report against the metal content of what it received (mass_balance)."""
from __future__ import annotations

from apps.filings.models import METAL_FIELDS, MONTHLY_COUNT_FIELDS
from apps.filings.selectors import LEDGER_MONTH_EVENTS_WHERE
from apps.reconciliation import rules
from apps.reconciliation.checks.common import CODES, FILED_STATUSES, default_weight_kg, in_scope, month_of, sql_list


def _declared_values() -> str:
    # Field names come from MONTHLY_COUNT_FIELDS (code, not input): safe to place in the statement.
    return ", ".join(f"('{name}', '{kind}', r.{name})" for name, kind in MONTHLY_COUNT_FIELDS if kind)


_SEVERITY = ("CASE WHEN abs({found} - {expected}) * 10 >= greatest(abs({found}), abs({expected})) "
             "THEN 'high' ELSE 'medium' END")

REPORTED_VS_LEDGER = f"""
WITH reports AS MATERIALIZED (
    SELECT f.id, f.enterprise_id, f.period FROM filings_filing f
    WHERE f.kind = 'monthly_report' AND f.status IN ({sql_list(FILED_STATUSES)})
      AND {in_scope("f.enterprise_id")}
), ledger AS (
    SELECT rp.id AS filing_id, e.kind, count(*) AS n
    FROM reports rp JOIN batteries_batteryevent e
      ON {LEDGER_MONTH_EVENTS_WHERE.format(enterprise="rp.enterprise_id", month="rp.period")}
    GROUP BY rp.id, e.kind
)
SELECT rp.enterprise_id, rp.period, v.figure, '' AS subject, v.declared::bigint AS expected,
       coalesce(l.n, 0)::bigint AS found,
       {_SEVERITY.format(found="coalesce(l.n, 0)", expected="v.declared")} AS severity,
       ARRAY[]::varchar[] AS codes, 0 AS code_count
FROM reports rp
JOIN filings_monthlyreport r ON r.filing_id = rp.id
CROSS JOIN LATERAL (VALUES {_declared_values()}) AS v(figure, event_kind, declared)
LEFT JOIN ledger l ON l.filing_id = rp.id AND l.kind = v.event_kind
WHERE v.declared <> coalesce(l.n, 0)
"""


def _sum(alias: str, fields) -> str:
    return " + ".join(f"{alias}.{f}" for f in fields)


_DELTA_CASE = ("CASE e.kind " + " ".join(f"WHEN '{kind}' THEN {delta}" for kind, delta in rules.STOCK_DELTA_BY_EVENT.items())
               + " END")
_MONTH_START = "(rp.period::timestamp AT TIME ZONE 'Asia/Shanghai')"

# Stock balance (rules.expected_closing_stock): per filed monthly report,
#   expected = opening + declared in − declared out + undeclared in (ledger), found = declared closing (in_stock).
# Opening = the in_stock of the enterprise's filed report for the month before; without one, the ledger's stock at
# the start of the month: the sum of the stock movements of every earlier event of the enterprise
# (rules.STOCK_DELTA_BY_EVENT as actor, +1 per refusal as counterparty). Those sums are read per report without a
# previous one (in steady state: the newcomers), each one range of the (actor, occurred_at) index — it carries the
# kind, so the scan never visits the ledger's rows — and of the partial index of refusals. (Grouping the history by
# enterprise and month instead spent most of its time computing a month for each of 10⁷ events.) The movements of
# the month the report does not declare are read per report over the same indexes. `balanced` is
# MATERIALIZED so that each per-report subquery runs once, not once per use of its column.
STOCK_BALANCE = f"""
WITH reports AS MATERIALIZED (
    SELECT f.id, f.enterprise_id, f.period, r.in_stock,
           ({_sum("r", rules.STOCK_IN_FIGURES)}) - ({_sum("r", rules.STOCK_OUT_FIGURES)}) AS declared_net,
           pr.in_stock AS previous_closing
    FROM filings_filing f JOIN filings_monthlyreport r ON r.filing_id = f.id
    LEFT JOIN filings_filing pf
      ON pf.enterprise_id = f.enterprise_id AND pf.kind = 'monthly_report'
     AND pf.period = (f.period - interval '1 month')::date AND pf.status IN ({sql_list(FILED_STATUSES)})
    LEFT JOIN filings_monthlyreport pr ON pr.filing_id = pf.id
    WHERE f.kind = 'monthly_report' AND f.status IN ({sql_list(FILED_STATUSES)})
      AND {in_scope("f.enterprise_id")}
), without_previous AS MATERIALIZED (
    SELECT id, enterprise_id, period FROM reports WHERE previous_closing IS NULL
), ledger_openings AS (
    SELECT w.id,
           coalesce((SELECT sum({_DELTA_CASE}) FROM batteries_batteryevent e
                     WHERE e.actor_id = w.enterprise_id AND e.kind IN ({sql_list(rules.STOCK_DELTA_BY_EVENT)})
                       AND e.occurred_at < {_MONTH_START.replace("rp.", "w.")}), 0)
           + (SELECT count(*) FROM batteries_batteryevent e
               WHERE e.kind = 'refused' AND e.counterparty_id = w.enterprise_id
                 AND e.occurred_at < {_MONTH_START.replace("rp.", "w.")}) AS opening
    FROM without_previous w
), balanced AS MATERIALIZED (
    SELECT rp.enterprise_id, rp.period, rp.in_stock, coalesce(rp.previous_closing, lo.opening) AS opening,
           rp.declared_net,
           (SELECT count(*) FROM batteries_batteryevent e
             WHERE {LEDGER_MONTH_EVENTS_WHERE.format(enterprise="rp.enterprise_id", month="rp.period")}
               AND e.kind IN ({sql_list(rules.STOCK_IN_UNDECLARED_EVENTS)}))
           + (SELECT count(*) FROM batteries_batteryevent e
               WHERE e.kind = 'refused' AND e.counterparty_id = rp.enterprise_id
                 AND e.occurred_at >= {_MONTH_START}
                 AND e.occurred_at < ((rp.period + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai'))
           AS undeclared_in
    FROM reports rp
    LEFT JOIN ledger_openings lo ON lo.id = rp.id
)
SELECT enterprise_id, period, 'closing_stock' AS figure, '' AS subject,
       (opening + declared_net + undeclared_in)::bigint AS expected, in_stock::bigint AS found,
       {_SEVERITY.format(found="in_stock", expected="(opening + declared_net + undeclared_in)")} AS severity,
       ARRAY[]::varchar[] AS codes, 0 AS code_count
FROM balanced
WHERE opening + declared_net + undeclared_in <> in_stock
"""


_METALS = list(METAL_FIELDS.items())  # (code, field name), e.g. ('ni', 'nickel')
_PICK_FRACTION = "CASE m.metal " + " ".join(f"WHEN '{c}' THEN cc.{f}" for c, f in _METALS) + " END"
_PICK_OUTPUT = "CASE m.metal " + " ".join(f"WHEN '{c}' THEN rp.output_{f}" for c, f in _METALS) + " END"
_METAL_VALUES = ", ".join(f"('{c}')" for c, _f in _METALS)

# Mass balance, per filed recovery report and metal: the metal the recycler declares it recovered in the month
# (found) against the metal contained in the batteries it received in that month (expected): for each battery its
# weight (or the default of its product type, settings.RECONCILIATION_DEFAULT_WEIGHT_KG) × its chemistry's mass
# fraction of the metal — the fractions the report was saved with (RecoveryReport.fractions), else today's
# ChemistryComposition row. "Received in the month" is the ledger's month definition (LEDGER_MONTH_EVENTS_WHERE).
# Recovering more than was received cannot be: flagged high when the output exceeds the content by a whole kg
# (both shown rounded to the kg). The codes are the batteries received in the month. The month's receipts are read
# once (`receipts`) for both the content and the codes.
MASS_BALANCE = f"""
WITH reports AS MATERIALIZED (
    SELECT f.id, f.enterprise_id, f.period, rr.*
    FROM filings_filing f JOIN filings_recoveryreport rr ON rr.filing_id = f.id
    WHERE f.kind = 'recovery_report' AND f.status IN ({sql_list(FILED_STATUSES)})
      AND {in_scope("f.enterprise_id")}
), receipts AS MATERIALIZED (
    SELECT rp.id AS filing_id, b.chemistry, b.code, {default_weight_kg()} AS kg
    FROM reports rp
    JOIN batteries_batteryevent e
      ON {LEDGER_MONTH_EVENTS_WHERE.format(enterprise="rp.enterprise_id", month="rp.period")}
    JOIN batteries_battery b ON b.id = e.battery_id
    WHERE e.kind = 'received'
), received AS (
    SELECT filing_id, chemistry, sum(kg) AS kg FROM receipts GROUP BY filing_id, chemistry
), received_codes AS (
    SELECT b.filing_id, {CODES} AS codes, count(*) AS code_count FROM receipts b GROUP BY b.filing_id
), content AS (
    SELECT r.filing_id, m.metal,
           sum(r.kg * coalesce((rp.fractions -> r.chemistry ->> m.metal)::numeric, {_PICK_FRACTION}, 0)) AS kg
    FROM received r
    JOIN reports rp ON rp.id = r.filing_id
    CROSS JOIN (VALUES {_METAL_VALUES}) AS m(metal)
    LEFT JOIN filings_chemistrycomposition cc ON cc.chemistry = r.chemistry
    GROUP BY r.filing_id, m.metal
), balance AS (
    SELECT rp.id, rp.enterprise_id, rp.period, m.metal, round(coalesce(c.kg, 0))::bigint AS content,
           round({_PICK_OUTPUT})::bigint AS output
    FROM reports rp
    CROSS JOIN (VALUES {_METAL_VALUES}) AS m(metal)
    LEFT JOIN content c ON c.filing_id = rp.id AND c.metal = m.metal
)
SELECT bl.enterprise_id, bl.period, bl.metal AS figure, '' AS subject, bl.content AS expected, bl.output AS found,
       'high' AS severity, coalesce(rc.codes, ARRAY[]::varchar[]) AS codes, coalesce(rc.code_count, 0) AS code_count
FROM balance bl
LEFT JOIN received_codes rc ON rc.filing_id = bl.id
WHERE bl.output > bl.content
"""
