"""Recompute the battery ledger's hash chains from the command line (cron, incident response, audits).

    manage.py ledger_verify                   every chain
    manage.py ledger_verify --code CODE …     only these batteries

Prints "ledger intact: N events in M chains", or one line per break and exits with status 1.
The same check runs nightly as the Celery task apps.batteries.tasks.ledger_verify_all.
"""
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from apps.batteries.ledger import ledger_verify
from apps.batteries.models import Battery, BatteryEvent


class Command(BaseCommand):
    help = "Verify the battery ledger's hash chains; exit with status 1 if any chain is broken."

    def add_arguments(self, parser):
        parser.add_argument("--code", action="append", dest="codes", default=[], metavar="CODE",
                            help="verify only this battery (repeatable)")
        parser.add_argument("--limit", type=int, default=10000, help="stop after this many breaks (default 10000)")

    def handle(self, *args, codes, limit, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1.")
        battery_ids = None
        if codes:
            wanted = list(dict.fromkeys(c.strip().upper() for c in codes))
            found = dict(Battery.objects.filter(code__in=wanted).values_list("code", "id"))
            missing = [c for c in wanted if c not in found]
            if missing:
                raise CommandError(f"unknown battery code(s): {', '.join(missing)}")
            battery_ids = list(found.values())
        breaks = ledger_verify(battery_ids=battery_ids, limit=limit)
        if breaks:
            for b in breaks:
                where = f"#{b.seq}" if b.seq is not None else "head"
                self.stdout.write(f"chain break: {b.code} {where} {b.problem}")
            more = " (limit reached; there may be more)" if len(breaks) >= limit else ""
            raise CommandError(f"ledger broken: {len(breaks)} break(s){more}", returncode=1)
        events = BatteryEvent.objects.all()
        if battery_ids is not None:
            events = events.filter(battery_id__in=battery_ids)
        totals = events.aggregate(events=Count("id"), chains=Count("battery_id", distinct=True))
        self.stdout.write(self.style.SUCCESS(f"ledger intact: {totals['events']} events in {totals['chains']} chains"))
