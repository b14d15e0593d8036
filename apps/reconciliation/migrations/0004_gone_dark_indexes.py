"""Two small partial indexes for the gone_dark check (ADR 0011): the batteries that are waste and not finished
(recycled, remanufactured or installed), by holder, and the ledger's `removed` events, by battery. Both are a few per
cent of their tables in steady state; the ledger's other writes never touch the second."""
from django.db import migrations

WASTE_AT_LARGE = """
CREATE INDEX IF NOT EXISTS battery_waste_at_large ON batteries_battery (holder_id)
WHERE is_waste AND status NOT IN ('recycled', 'remanufactured', 'installed')
"""
REMOVED = "CREATE INDEX IF NOT EXISTS ledger_removed ON batteries_batteryevent (battery_id) WHERE kind = 'removed'"


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0003_split_runs_and_remaining_checks'),
    ]

    operations = [
        migrations.RunSQL(WASTE_AT_LARGE, "DROP INDEX IF EXISTS battery_waste_at_large"),
        migrations.RunSQL(REMOVED, "DROP INDEX IF EXISTS ledger_removed"),
    ]
