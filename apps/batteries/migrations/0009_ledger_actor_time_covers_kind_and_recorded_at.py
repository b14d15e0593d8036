"""The per-enterprise ledger index carries kind and recorded_at: reads by enterprise and time become index-only
(apps.deadlines late-reported events, the monthly-report comparison, reconciliation)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('batteries', '0008_no_per_row_reference_checks'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='batteryevent',
            name='ledger_actor_time',
        ),
        migrations.AddIndex(
            model_name='batteryevent',
            index=models.Index(fields=['actor', 'occurred_at'], include=('kind', 'recorded_at'), name='ledger_actor_time'),
        ),
    ]
