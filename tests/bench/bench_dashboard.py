"""Benchmark: the oversight dashboards at national scale (issue 6: under 500 ms on 3,000,000 batteries and
10,000,000 ledger events, pre-aggregated where needed; ADR 0013).

    .venv/bin/python tests/bench/bench_dashboard.py [--batteries 3000000] [--events 10000000] [--enterprises 1000]
                                                    [--requests 30] [--reuse]

Creates a fresh database `<name>_dashbench` next to DATABASE_URL's (or on the embedded server), migrates it, then:
  1. loads a synthetic nation set-based (INSERT … SELECT generate_series): enterprises in every province, batteries
     held across them in every status but 'installed', ledger events of every kind spread over the last 12 months,
     recycler licences, open discrepancies and monthly reports;
  2. times the bare aggregates the dashboards would need without pre-aggregation (for comparison), then the
     refresh of the materialized views (plain, then CONCURRENTLY as the hourly job does);
  3. requests the reviewers' page (a national reviewer and a provincial one), the enterprise's page and the JSON
     endpoint through Django's test client, and prints median and p95 response times and the queries per page.
Nothing here runs in CI.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
             "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"]


def _bench_database_url(*, reuse: bool = False) -> str:
    base = os.environ.get("DATABASE_URL")
    if not base:
        from config.embedded import embedded_database_url

        base = embedded_database_url()
    import psycopg

    head, _, tail = base.rpartition("/")
    name, _, query = tail.partition("?")
    bench = f"{name}_dashbench"
    if reuse:
        return f"{head}/{bench}" + (f"?{query}" if query else "")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench}"')
    return f"{head}/{bench}" + (f"?{query}" if query else "")


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"  {label:<58} {time.perf_counter() - start:8.2f} s", flush=True)
    return result


def load(n_ent: int, n_bat: int, n_ev: int) -> dict:
    """The synthetic nation. Enterprises and users through the ORM (a thousand rows); batteries, events,
    discrepancies and reports set-based."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.enterprises.models import Enterprise, Membership
    from tests.factories import EnterpriseFactory, LicenceFactory, MembershipFactory, UserFactory

    def enterprises():
        roles = ["battery_maker", "vehicle_maker", "dismantler", "recycler", "collection_point"]
        ents = [EnterpriseFactory.build(province=PROVINCES[i % len(PROVINCES)], roles=[roles[i % len(roles)]],
                                        created_at=timezone.now() - dt.timedelta(days=400))
                for i in range(n_ent)]
        Enterprise.objects.bulk_create(ents, batch_size=1000)
        return list(Enterprise.objects.order_by("id").values_list("id", flat=True))

    ids = timed(f"{n_ent} enterprises", enterprises)
    first_ent = ids[0]
    today = timezone.localdate()

    def licences():
        for ent_id in ids[3::5]:  # the recyclers
            LicenceFactory(enterprise_id=ent_id, annual_capacity_tonnes=5000, valid_from=dt.date(2020, 1, 1),
                           valid_to=dt.date(2030, 12, 31))

    timed("recycler licences", licences)
    with connection.cursor() as cursor:
        # Batteries: 24-character codes, held round-robin; status by i % 10 (no 'installed': it needs vehicles).
        timed(f"{n_bat:,} batteries (INSERT … SELECT)", cursor.execute, f"""
            INSERT INTO batteries_battery (code, manufacturer_code, product_type, chemistry, spec_code, trace_code,
                production_date, serial, capacity_kwh, weight_kg, is_waste, maker_id, status, holder_id, transit_to_id,
                ledger_seq, ledger_head, registered_at, updated_at)
            SELECT '0PAPE01ABCDEFG6AF' || lpad(g::text, 7, '0'), '0PA', 'P', 'E', '01', 'ABCDEFG', DATE '2026-03-15',
                   lpad(g::text, 7, '0'), 60, 300 + g % 200, g % 10 >= 6, {first_ent} + g % {n_ent},
                   (ARRAY['in_stock','in_stock','in_stock','in_stock','in_stock','in_stock','recycled',
                          'remanufactured','in_transit','in_stock'])[g % 10 + 1],
                   {first_ent} + g % {n_ent},
                   CASE WHEN g % 10 = 8 THEN {first_ent} + (g + 3) % {n_ent} END,
                   0, '', now(), now()
            FROM generate_series(1, {n_bat}) g""")
        cursor.execute("SELECT min(id) FROM batteries_battery")
        first_bat = cursor.fetchone()[0]
        # kind, actor and day from different divisors of g, so that every enterprise has every kind on many days
        # (the views then hold their realistic size: enterprises × months × kinds).
        kinds = ["produced", "produced", "installed", "swapped_out", "swapped_in", "replaced_out", "replaced_in",
                 "removed", "declared_waste", "handed_over", "received", "received", "recycled", "remanufactured"]
        kind_array = "ARRAY[" + ",".join(f"'{k}'" for k in kinds) + "]"
        timed(f"{n_ev:,} ledger events (INSERT … SELECT)", cursor.execute, f"""
            INSERT INTO batteries_batteryevent (battery_id, seq, kind, actor_id, counterparty_id, vehicle_id,
                occurred_at, recorded_at, recorded_by_id, details, prev_hash, hash)
            SELECT {first_bat} + g % {n_bat}, g / {n_bat} + 1, ({kind_array})[(g / 3) % {len(kinds)} + 1],
                   {first_ent} + (g * 13) % {n_ent}, NULL, NULL,
                   now() - (((g / 11) % 360) || ' days')::interval - ((g % 86400) || ' seconds')::interval, now(),
                   NULL,
                   '{{}}', repeat('0', 64), md5(g::text) || md5(g::text)
            FROM generate_series(0, {n_ev} - 1) g""")
        timed("open discrepancies (≈3 per enterprise)", cursor.execute, """
            INSERT INTO reconciliation_discrepancy (enterprise_id, period, kind, figure, subject, expected, found,
                severity, codes, code_count, status, first_seen, last_seen, closed_at)
            SELECT e.id, NULL, k.kind, 'bench', '', 0, 1 + e.id % 50,
                   (ARRAY['low','medium','high'])[1 + (e.id + k.n) % 3], ARRAY['0PAPE01ABCDEFG6AF0000001'], 1,
                   'open', now(), now(), NULL
            FROM enterprises_enterprise e
            CROSS JOIN (VALUES (1, 'gone_dark'), (2, 'reported_vs_ledger'), (3, 'handover_not_received'))
                 AS k(n, kind)
            WHERE (e.id + k.n) % 4 <> 0""")
        # Monthly reports: every enterprise filed 9 of the last 12 months (the others are missing or late).
        timed("monthly reports (9 of 12 months per enterprise)", cursor.execute, """
            INSERT INTO filings_filing (created_at, updated_at, kind, enterprise_id, province, status, period,
                due_date, first_submitted_at, submitted_at, flags)
            SELECT now(), now(), 'monthly_report', e.id, e.province, 'approved', m::date,
                   (m + interval '1 month' + interval '9 days')::date,
                   m + interval '1 month' + interval '5 days', m + interval '1 month' + interval '5 days', '{}'
            FROM enterprises_enterprise e
            CROSS JOIN generate_series(date_trunc('month', now()) - interval '12 months',
                                       date_trunc('month', now()) - interval '1 month', interval '1 month') m
            WHERE (e.id + extract(month FROM m)::int) % 4 <> 0""")
    timed("VACUUM ANALYZE", _vacuum)
    national = UserFactory(username="bench_national", kind=User.Kind.REVIEWER)
    provincial = UserFactory(username="bench_gd", kind=User.Kind.REVIEWER, reviewer_provinces=["44"])
    company = MembershipFactory(enterprise_id=ids[0], role=Membership.Role.ADMIN, user__username="bench_co").user
    return {"national": national, "provincial": provincial, "company": company, "today": today}


def _vacuum():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def bare_aggregates():
    """What each page view would cost without the materialized views (the same GROUP BYs over the base tables)."""
    from django.db import connection

    with connection.cursor() as cursor:
        timed("bare: events per enterprise × month × kind (12 months)", cursor.execute, """
            SELECT actor_id, date_trunc('month', occurred_at AT TIME ZONE 'Asia/Shanghai'), kind, count(*)
            FROM batteries_batteryevent WHERE occurred_at >= now() - interval '12 months' GROUP BY 1, 2, 3""")
        timed("bare: batteries per holder × status", cursor.execute,
              "SELECT holder_id, status, count(*) FROM batteries_battery GROUP BY 1, 2")


def measure(label: str, client, url: str, n: int) -> None:
    from django.db import connection

    queries = []  # counted by a wrapper: Django clears connection.queries at each request's start
    with connection.execute_wrapper(lambda execute, sql, params, many, context: (queries.append(sql),
                                                                                 execute(sql, params, many, context))[1]):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _i in range(n):
        start = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"  {label:<44} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
          f"{len(queries)} queries", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batteries", type=int, default=3_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reuse", action="store_true",
                        help="Measure the pages again on the database the last run loaded (no load, no refresh).")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _bench_database_url(reuse=args.reuse)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django

    django.setup()
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    if args.reuse:
        from apps.accounts.models import User

        people = {"national": User.objects.get(username="bench_national"),
                  "provincial": User.objects.get(username="bench_gd"),
                  "company": User.objects.get(username="bench_co")}
        from apps.batteries.models import Battery, BatteryEvent

        print(f"dashboard benchmark (reusing the loaded database): {Battery.objects.count():,} batteries, "
              f"{BatteryEvent.objects.count():,} events", flush=True)
    else:
        print(f"dashboard benchmark: {args.enterprises} enterprises, {args.batteries:,} batteries, "
              f"{args.events:,} events", flush=True)
        timed("migrate", call_command, "migrate", verbosity=0)
        people = load(args.enterprises, args.batteries, args.events)
        bare_aggregates()

        from apps.reconciliation.services import dashboard_aggregates_refresh

        timed("refresh aggregates (plain REFRESH, first load)", dashboard_aggregates_refresh, concurrently=False)
        timed("refresh aggregates (CONCURRENTLY, as the hourly job)", dashboard_aggregates_refresh)

    from tests.conftest import signed_in

    national, provincial, company = (signed_in(people["national"]), signed_in(people["provincial"]),
                                     signed_in(people["company"]))
    print(f"response times over {args.requests} requests each (Django test client, DEBUG off):")
    measure("reviewer, national: /review/oversight/", national, "/review/oversight/", args.requests)
    measure("reviewer, national: data.json", national, "/review/oversight/data.json", args.requests)
    measure("reviewer, national: one chart as CSV", national, "/review/oversight/flows.csv", args.requests)
    measure("reviewer, Guangdong: /review/oversight/", provincial, "/review/oversight/", args.requests)
    measure("enterprise: /oversight/", company, "/oversight/", args.requests)
    measure("enterprise: data.json", company, "/oversight/data.json", args.requests)


if __name__ == "__main__":
    main()
