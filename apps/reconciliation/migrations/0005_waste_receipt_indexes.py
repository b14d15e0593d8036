"""Two partial indexes for the checks that read waste receipts (licence_not_active, licence_capacity_exceeded) and
every receipt (received_by_other), ADR 0011: the waste handovers, and the receipts with their actor and instant.
The checks then read these (a few per cent, and a quarter, of the ledger's rows, index-only) instead of scanning
the whole ledger twice per check. Kept with the checks that need them, like the refusals' index (0003)."""
from django.db import migrations

WASTE_HANDOVERS = """
CREATE INDEX IF NOT EXISTS ledger_waste_handovers ON batteries_batteryevent (battery_id, seq)
WHERE kind = 'handed_over' AND (details ->> 'waste')::boolean
"""
RECEIPTS = """
CREATE INDEX IF NOT EXISTS ledger_receipts ON batteries_batteryevent (battery_id, seq) INCLUDE (actor_id, occurred_at)
WHERE kind = 'received'
"""


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0004_gone_dark_indexes'),
    ]

    operations = [
        migrations.RunSQL(WASTE_HANDOVERS, "DROP INDEX IF EXISTS ledger_waste_handovers"),
        migrations.RunSQL(RECEIPTS, "DROP INDEX IF EXISTS ledger_receipts"),
    ]
