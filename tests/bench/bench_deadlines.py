"""Benchmark: late-reported events and overdue reports at national volume, with EXPLAIN.

    .venv/bin/python tests/bench/bench_deadlines.py [--events 3000000] [--enterprises 400]

`--plain-index` compares with the ledger index without its INCLUDE columns. Creates a fresh database `<name>_bench` next to DATABASE_URL's, migrates it, then writes synthetic ledger rows
straight into batteries_batteryevent (one event per synthetic battery, fake hashes: the queries read neither):
12 months of installations, receipts, handovers, removals and recyclings by `--enterprises` enterprises over all
provinces, one of them ten times busier than the rest, about 3 % recorded after their deadline. Then times (median
of 5) and EXPLAINs the apps.deadlines selectors as the pages call them:
  1. an enterprise's page: its late events over 12 months (the busiest enterprise);
  2. a province reviewer's overdue list of late events, one month; an admin's, one month, all provinces;
  3. the drill-down to codes, first page;
  4. overdue monthly reports across every enterprise (12 months).
Nothing here runs in CI.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_import import _bench_database_url  # noqa: E402

PROVINCES = ["11", "31", "32", "33", "35", "37", "42", "43", "44", "51"]
ROLE_KINDS = [("vehicle_maker", "installed"), ("recycler", "received"), ("collection_point", "handed_over"),
              ("dismantler", "removed"), ("recycler", "recycled"), ("repairer", "replaced_out")]


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--enterprises", type=int, default=400)
    parser.add_argument("--explain", action="store_true", help="print the plans")
    parser.add_argument("--plain-index", action="store_true",
                        help="replace ledger_actor_time by (actor, occurred_at) without INCLUDE, to compare")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from apps.accounts.models import User
    from apps.deadlines import selectors
    from apps.enterprises.models import Enterprise
    from apps.enterprises.rules import uscc_expected_check_character

    t = time.perf_counter()
    enterprises = []
    for i in range(args.enterprises):
        role, _kind = ROLE_KINDS[i % len(ROLE_KINDS)]
        body = f"91{i % 90 + 10:02d}0000MA{i:07d}"[:17].replace("I", "1").replace("O", "0")
        enterprises.append(Enterprise(
            name=f"基准企业{i}", uscc=body + uscc_expected_check_character(body), province=PROVINCES[i % 10],
            address="-", contact_name="-", contact_phone="-", contact_email=f"b{i}@example.cn", roles=[role],
            status="active", approved_at=timezone.now() - dt.timedelta(days=400)))
    Enterprise.objects.bulk_create(enterprises)
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    busiest = ids[0]
    today = timezone.localdate()
    start = dt.datetime.combine(selectors.months_back(today.replace(day=1), 12), dt.time(),
                                selectors.SHANGHAI)
    span = (timezone.now() - start).total_seconds()
    kinds = [k for _r, k in ROLE_KINDS]
    with connection.cursor() as cursor:
        # A tenth of the events belong to the busiest enterprise, the rest spread evenly; recorded mostly within two
        # days, 3 % 20–60 days later (late for every deadline).
        cursor.execute("""
            INSERT INTO batteries_batteryevent (battery_id, seq, kind, actor_id, occurred_at, recorded_at, details,
                                                prev_hash, hash)
            SELECT o.g, 1, (%(kinds)s::text[])[1 + (o.idx %% %(nk)s)], (%(ids)s::bigint[])[1 + o.idx], o.t,
                   o.t + CASE WHEN random() < 0.03 THEN (20 + random() * 40) * interval '1 day'
                              ELSE random() * interval '2 days' END,
                   '{}'::jsonb, '', ''
              FROM (SELECT g, CASE WHEN g %% 10 = 0 THEN 0 ELSE 1 + (g %% (%(ne)s - 1)) END AS idx,
                           %(start)s::timestamptz + (random() * %(span)s) * interval '1 second' AS t
                      FROM generate_series(1, %(n)s) g) o
        """, {"kinds": kinds, "nk": len(kinds), "start": start, "span": span, "n": args.events, "ne": len(ids),
              "ids": ids})
    with connection.cursor() as cursor:
        if args.plain_index:
            cursor.execute("DROP INDEX ledger_actor_time")
            cursor.execute("CREATE INDEX ledger_actor_time ON batteries_batteryevent (actor_id, occurred_at)")
        cursor.execute("VACUUM ANALYZE batteries_batteryevent")
    print(f"generated {args.events:,} events for {len(ids)} enterprises in {time.perf_counter() - t:.0f} s")
    admin = User.objects.create(username="bench-admin", kind="admin")
    reviewer = User.objects.create(username="bench-rev", kind="reviewer", reviewer_provinces=["35"])
    company = User.objects.create(username="bench-co", kind="company")
    from apps.enterprises.models import Membership

    Membership.objects.create(user=company, enterprise_id=busiest, role="admin")
    company = User.objects.get(pk=company.pk)
    first12, end = selectors.months_back(today.replace(day=1), 12), selectors.next_month(today.replace(day=1))
    last = selectors.previous_month(today)
    cases = [
        ("enterprise page, 12 months (busiest)", lambda: selectors.late_event_summary(
            actor=company, first_month=first12, end_month=end, enterprise=busiest)),
        ("reviewer (one province), one month", lambda: selectors.late_event_summary(
            actor=reviewer, first_month=last, end_month=selectors.next_month(last))),
        ("admin (all provinces), one month", lambda: selectors.late_event_summary(
            actor=admin, first_month=last, end_month=selectors.next_month(last))),
        ("drill-down, first page", lambda: selectors.late_event_list(
            actor=company, enterprise=busiest, kind="installed", month=last)),
        ("overdue monthly reports, admin", lambda: selectors.overdue_reports(actor=admin)),
    ]
    print(f"busiest enterprise: ~{args.events // 10:,} events; others ~{args.events * 9 // 10 // (len(ids) - 1):,}")
    for label, make in cases:
        rows = make()

        def run(make=make):
            rows = make()
            return rows.count(), rows[0:25]

        ms, (count, _page) = timed(run)
        print(f"{label:40s} {ms:8.1f} ms  ({count:,} rows; count and first page of 25)")
        if args.explain:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM (" + rows.sql + ") q ORDER BY "
                               + rows.order_by + " LIMIT 25", rows.params)
                print("\n".join(r[0] for r in cursor.fetchall()))


if __name__ == "__main__":
    main()
