"""Publish pending outbox rows (apps.core.outbox) — once, or in a loop that needs no worker and no beat."""
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Publish outbox rows the broker did not take when they were committed (--loop: keep doing it)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Run until interrupted.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between rounds with --loop.")

    def handle(self, *args, loop=False, interval=5.0, **options):
        from django.db import close_old_connections

        from apps.core.outbox import relay

        while True:
            count = relay()
            if count or not loop:
                self.stdout.write(f"published {count}")
            if not loop:
                return
            close_old_connections()
            time.sleep(interval)
