"""The handovers with their named recipient, for received_by_other (ADR 0011): the check's anti-join reads every
handover's (battery, seq, counterparty) — from this partial index, index-only, instead of the ledger's rows."""
from django.db import migrations

HANDOVERS = """
CREATE INDEX IF NOT EXISTS ledger_handovers ON batteries_batteryevent (battery_id, seq) INCLUDE (counterparty_id)
WHERE kind = 'handed_over'
"""


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0005_waste_receipt_indexes'),
    ]

    operations = [
        migrations.RunSQL(HANDOVERS, "DROP INDEX IF EXISTS ledger_handovers"),
    ]
