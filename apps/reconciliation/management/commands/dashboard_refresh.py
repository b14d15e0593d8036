"""`manage.py dashboard_refresh [--blocking]`: recompute the dashboards' aggregates now (ADR 0013)."""
from django.core.management.base import BaseCommand

from apps.reconciliation.services import dashboard_aggregates_refresh


class Command(BaseCommand):
    help = "Refresh the oversight dashboards' materialized views."

    def add_arguments(self, parser):
        parser.add_argument("--blocking", action="store_true",
                            help="Plain REFRESH (faster, but readers wait): for a first load or a maintenance window.")

    def handle(self, *args, blocking: bool = False, **options):
        result = dashboard_aggregates_refresh(concurrently=not blocking)
        if result is None:
            self.stdout.write("Another refresh is already running; nothing done.")
        else:
            seconds = (result.finished_at - result.started_at).total_seconds()
            self.stdout.write(f"dashboard aggregates refreshed in {seconds:.1f} s")
