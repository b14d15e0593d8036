"""`manage.py reconcile [--dry-run] [--enterprise USCC | --split [--batch-size N]]`: the reconciliation, by hand."""
from django.core.management.base import BaseCommand, CommandError

from apps.enterprises.models import Enterprise
from apps.reconciliation.checks import CHECKS
from apps.reconciliation.models import ReconciliationRun
from apps.reconciliation.services import reconciliation_run, reconciliation_run_split


class Command(BaseCommand):
    help = "Run the reconciliation checks and print the discrepancies found per check."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compute and count; write no discrepancy.")
        parser.add_argument("--enterprise", metavar="USCC", help="Only this enterprise (unified social credit code).")
        parser.add_argument("--split", action="store_true",
                            help="Queue the run as batches of enterprises for the Celery workers, as the nightly "
                                 "run does (prints the parent run; its counts fill in as the batches finish).")
        parser.add_argument("--batch-size", type=int, metavar="N", help="Enterprises per batch with --split.")

    def handle(self, *args, dry_run: bool = False, enterprise: str | None = None, split: bool = False,
               batch_size: int | None = None, **options):
        if split:
            if enterprise:
                raise CommandError("--split runs every enterprise; it does not take --enterprise.")
            if batch_size is not None and batch_size < 1:
                raise CommandError("--batch-size must be at least 1.")
            parent = reconciliation_run_split(dry_run=dry_run, batch_size=batch_size)
            if parent.status == ReconciliationRun.Status.SKIPPED:
                self.stdout.write("Another reconciliation run is already running; nothing done.")
                return
            parent.refresh_from_db()
            self._print(parent.counts, parent.closed, dry_run)
            self.stdout.write(f"run {parent.pk}: {parent.children_total} batches, {parent.get_status_display()}")
            return
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
        self._print(result.counts, result.closed, dry_run)
        self.stdout.write(f"run {result.run.pk}{' (dry run: nothing written)' if dry_run else ''}")

    def _print(self, counts: dict, closed: int, dry_run: bool) -> None:
        for check in CHECKS:
            self.stdout.write(f"{check.kind:<28} {counts.get(str(check.kind), 0)}")
        self.stdout.write(f"{'closed':<28} {closed}{'  (dry run: nothing written)' if dry_run else ''}")
