"""Seed the reporting deadlines from settings.REPORTING_DEADLINE_DEFAULTS (DOMAIN.md rule 5). Admins edit them
afterwards on the deadlines page; a duty that already has a row keeps its value."""
from django.conf import settings
from django.db import migrations


def seed(apps, schema_editor):
    ReportingDeadline = apps.get_model("deadlines", "ReportingDeadline")
    for duty, days in settings.REPORTING_DEADLINE_DEFAULTS.items():
        ReportingDeadline.objects.get_or_create(duty=duty, defaults={"working_days": days})


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0001_reporting_deadlines")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
