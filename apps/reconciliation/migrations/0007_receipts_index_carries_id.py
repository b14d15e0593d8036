"""The receipts' partial index (0005) also carries the event's id: the run's waste-receipts table keeps it (the
capacity check orders simultaneous receipts by it), and with it the table is read index-only instead of from the
ledger's 10⁷ rows (≈ 1 s nationally)."""
from django.db import migrations

RECEIPTS = """
DROP INDEX IF EXISTS ledger_receipts;
CREATE INDEX ledger_receipts ON batteries_batteryevent (battery_id, seq) INCLUDE (actor_id, occurred_at, id)
WHERE kind = 'received'
"""
PREVIOUS = """
DROP INDEX IF EXISTS ledger_receipts;
CREATE INDEX ledger_receipts ON batteries_batteryevent (battery_id, seq) INCLUDE (actor_id, occurred_at)
WHERE kind = 'received'
"""


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0006_handover_index'),
    ]

    operations = [
        migrations.RunSQL(RECEIPTS, PREVIOUS),
    ]
