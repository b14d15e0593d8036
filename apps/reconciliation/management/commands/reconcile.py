"""`manage.py reconcile [--dry-run] [--enterprise USCC]`: the nightly reconciliation run, by hand."""
from django.core.management.base import BaseCommand, CommandError

from apps.enterprises.models import Enterprise
from apps.reconciliation.checks import CHECKS
from apps.reconciliation.services import reconciliation_run


class Command(BaseCommand):
    help = "Run the reconciliation checks and print the discrepancies found per check."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compute and count; write no discrepancy.")
        parser.add_argument("--enterprise", metavar="USCC", help="Only this enterprise (unified social credit code).")

    def handle(self, *args, dry_run: bool = False, enterprise: str | None = None, **options):
        target = None
        if enterprise:
            target = Enterprise.objects.exclude(status=Enterprise.Status.REJECTED).filter(
                uscc=enterprise.strip().upper()).first()
            if target is None:
                raise CommandError(f"No enterprise with the unified social credit code {enterprise}.")
        result = reconciliation_run(enterprise=target, dry_run=dry_run)
        if result.skipped:
            self.stdout.write("Another reconciliation run is already running; nothing done.")
            return
        for check in CHECKS:
            self.stdout.write(f"{check.kind:<28} {result.counts.get(str(check.kind), 0)}")
        self.stdout.write(f"{'closed':<28} {result.closed}")
        self.stdout.write(f"run {result.run.pk}{' (dry run: nothing written)' if dry_run else ''}")
