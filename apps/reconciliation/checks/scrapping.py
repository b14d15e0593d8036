"""Vehicle and battery: batteries removed at dismantling and not handed to a recycler by the certificate's
deadline."""
from __future__ import annotations

from apps.reconciliation.checks.common import in_scope

SCRAPPED_NOT_HANDED_OVER = f"""
SELECT c.dismantler_id AS enterprise_id, NULL::date AS period, 'removed_still_held' AS figure, '' AS subject,
       0::bigint AS expected, count(DISTINCT b.id)::bigint AS found, 'high' AS severity,
       (array_agg(DISTINCT b.code ORDER BY b.code))[1:%(cap)s] AS codes, count(DISTINCT b.id) AS code_count
FROM scrapping_scrappingcertificate c
JOIN scrapping_intakebattery ib ON ib.intake_id = c.intake_id AND ib.removed
JOIN batteries_battery b ON b.id = ib.battery_id
WHERE c.status = 'valid' AND c.handover_deadline < %(today)s
  AND b.holder_id = c.dismantler_id AND b.status <> 'in_transit'
  AND {in_scope("c.dismantler_id")}
GROUP BY c.dismantler_id
"""

# A scrapping intake blocked because a battery is missing (a missing battery counts as a missing vehicle, DOMAIN.md
# rule 1), recorded more than settings.RECONCILIATION_BLOCKED_INTAKE_WORKING_DAYS working days ago, with no
# explanation filed for it: no apps.filings Explanation of the intake whose filing has been submitted and not
# rejected (a draft is not filed yet; one returned for correction still counts — the enterprise is correcting it).
# One discrepancy per intake (subject = VIN/intake id: a dismantler may hold two blocked intakes of one VIN):
# expected = batteries the ledger has in the vehicle, found = those found in it, codes = the missing ones. Blocked
# intakes are few; the partial index scrapping_intake_leads (status, dismantler) serves the statement.
BLOCKED_INTAKE_UNEXPLAINED = f"""
SELECT i.dismantler_id AS enterprise_id, NULL::date AS period, 'blocked_intake' AS figure,
       i.vin || '/' || i.id AS subject,
       count(ib.id) FILTER (WHERE ib.expected)::bigint AS expected,
       count(ib.id) FILTER (WHERE ib.expected AND ib.found)::bigint AS found, 'high' AS severity,
       coalesce((array_agg(ib.code ORDER BY ib.code) FILTER (WHERE ib.expected AND NOT ib.found))[1:%(cap)s],
                ARRAY[]::varchar[]) AS codes,
       count(ib.id) FILTER (WHERE ib.expected AND NOT ib.found) AS code_count
FROM scrapping_scrappingintake i
LEFT JOIN scrapping_intakebattery ib ON ib.intake_id = i.id
WHERE i.status = 'blocked' AND i.created_at < %(blocked_cutoff)s
  AND {in_scope("i.dismantler_id")}
  AND NOT EXISTS (
      SELECT 1 FROM filings_explanation x JOIN filings_filing f ON f.id = x.filing_id
      WHERE x.intake_id = i.id AND f.status <> 'rejected' AND f.first_submitted_at IS NOT NULL)
GROUP BY i.id
"""
