"""Benchmark: each reconciliation check's statement on a synthetic nation, for every enterprise, for one batch of a
split run and for one enterprise (what a monthly report's submission runs). A quick look at the plans before the
full issue-6 benchmark (3,000,000 batteries, planted discrepancies) is written.

    .venv/bin/python tests/bench/bench_reconciliation_checks.py [--batteries 300000] [--events 1000000]
                                                                [--enterprises 300] [--explain CHECK]

Creates a fresh database `<name>_reconbench` next to DATABASE_URL's, migrates it, loads the dashboard benchmark's
synthetic nation (tests/bench/bench_dashboard.py: batteries, events of every kind, licences, monthly reports) plus
the content of the monthly reports, waste handovers with their receipts and refusals, then times
`SELECT count(*) FROM (<check>)` per check and scope. `--explain gone_dark` prints that check's EXPLAIN ANALYZE
(full scope). Nothing here runs in CI.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _database_url() -> str:
    import psycopg

    base = os.environ["DATABASE_URL"]
    head, _, tail = base.rpartition("/")
    name, _, query = tail.partition("?")
    bench = f"{name}_reconbench"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench}"')
    return f"{head}/{bench}" + (f"?{query}" if query else "")


def load_more(n_bat: int) -> None:
    """What the dashboard nation lacks for the checks: report content, waste receipts, refusals."""
    from django.db import connection

    from tests.bench.bench_dashboard import timed

    with connection.cursor() as cursor:
        timed("monthly report content", cursor.execute, """
            INSERT INTO filings_monthlyreport (filing_id, produced, installed, swapped_in, swapped_out, replaced,
                removed, handed_over, received, recycled, remanufactured, in_stock)
            SELECT f.id, f.id % 50, f.id % 7, 0, 0, 0, 0, f.id % 11, f.id % 13, 0, 0, f.id % 97
            FROM filings_filing f WHERE f.kind = 'monthly_report'""")
        cursor.execute("SELECT min(id), max(id) FROM batteries_battery")
        first, last = cursor.fetchone()
        # every tenth battery: a waste handover (seq 1000) received (seq 1001) by the next enterprise
        timed("waste handovers and receipts (10 % of batteries)", cursor.execute, f"""
            INSERT INTO batteries_batteryevent (battery_id, seq, kind, actor_id, counterparty_id, occurred_at,
                recorded_at, details, prev_hash, hash)
            SELECT b.id, 1000 + s, (ARRAY['handed_over', 'received'])[s + 1],
                   CASE s WHEN 0 THEN b.holder_id ELSE b.holder_id + 1 END,
                   CASE s WHEN 0 THEN b.holder_id + 1 ELSE b.holder_id END,
                   now() - ((b.id % 300) || ' days')::interval + (s || ' hours')::interval, now(),
                   CASE s WHEN 0 THEN '{{"waste": true}}'::jsonb ELSE '{{}}'::jsonb END, repeat('0', 64),
                   md5(b.id::text || s::text) || md5(s::text)
            FROM batteries_battery b CROSS JOIN generate_series(0, 1) s
            WHERE b.id % 10 = 0""")
        # one battery in a thousand refused (its last event): the sender is the counterparty
        timed("refusals (0.1 % of batteries)", cursor.execute, f"""
            INSERT INTO batteries_batteryevent (battery_id, seq, kind, actor_id, counterparty_id, occurred_at,
                recorded_at, details, prev_hash, hash)
            SELECT b.id, 2000, 'refused', b.holder_id + 2, b.holder_id, now() - ((b.id % 60) || ' days')::interval,
                   now(), '{{"reason": "bench"}}', repeat('0', 64), md5(b.id::text || 'r') || md5('r')
            FROM batteries_battery b WHERE b.id % 1000 = 7""")
        cursor.execute("UPDATE batteries_battery SET ledger_seq = 2000 WHERE id % 1000 = 7")
        cursor.execute("VACUUM ANALYZE")
    print(f"  (batteries {first}..{last})")


def time_checks(explain: str | None) -> None:
    from django.db import connection

    from apps.enterprises.models import Enterprise
    from apps.reconciliation.checks import CHECKS, check_parameters, prepare_shared_tables

    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    scopes = [("all", None), (f"batch of {min(200, len(ids))}", ids[:200]), ("one enterprise", ids[len(ids) // 2:][:1])]
    print(f"{'check':<28}" + "".join(f"{label:>20}" for label, _ in scopes) + "      rows (all)")
    totals = [0.0] * len(scopes)
    with connection.cursor() as cursor:
        for check in CHECKS:
            cells, rows = [], 0
            for i, (_label, scope) in enumerate(scopes):
                params = check_parameters(enterprise_ids=scope)
                prepare_shared_tables(cursor, params)  # the waste receipts the licence checks read (per scope)
                start = time.perf_counter()
                cursor.execute(f"SELECT count(*) FROM ({check.sql}) AS found_rows", params)
                n = cursor.fetchone()[0]
                elapsed = time.perf_counter() - start
                totals[i] += elapsed
                rows = n if scope is None else rows
                cells.append(f"{elapsed * 1000:17.1f} ms")
            print(f"{check.kind:<28}" + "".join(cells) + f"      {rows}", flush=True)
            if explain == str(check.kind):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {check.sql}", check_parameters(enterprise_ids=None))
                print("\n".join(r[0] for r in cursor.fetchall()))
    print(f"{'total':<28}" + "".join(f"{t * 1000:17.1f} ms" for t in totals))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batteries", type=int, default=300_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=300)
    parser.add_argument("--explain", metavar="CHECK")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
    from django.core.management import call_command

    from tests.bench.bench_dashboard import load, timed

    print(f"reconciliation checks: {args.enterprises} enterprises, {args.batteries:,} batteries, "
          f"{args.events:,} events", flush=True)
    timed("migrate", call_command, "migrate", verbosity=0)
    load(args.enterprises, args.batteries, args.events)
    load_more(args.batteries)
    time_checks(args.explain)


if __name__ == "__main__":
    main()
