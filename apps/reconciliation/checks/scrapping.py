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
