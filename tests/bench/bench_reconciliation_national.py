"""Benchmark (issue 6, "Performance"): the full reconciliation over a synthetic national month, with planted
discrepancies of every kind, against the bare SQL aggregates it needs; then the oversight dashboards on that data.

    scripts/bench reconciliation [--batteries 3000000] [--events 10000000] [--enterprises 1000] [--reload]
                                 [--explain] [--requests 20]
    (= .venv/bin/python tests/bench/bench_reconciliation_national.py …)

A small run (a minute or two): `scripts/bench reconciliation --batteries 100000 --events 340000 --enterprises 200`.

Database: `<name>_national` next to DATABASE_URL's (`<name>_national_<batteries>` at another scale), created and
migrated when missing. The load is cached: when the
database already holds the dataset of the same scale, version and day (Asia/Shanghai: the planted discrepancies
are placed relative to today, and "last month" is the reconciled month), it is reused; `--reload` drops and rebuilds it. The data is deterministic (no random numbers: each
battery's template, enterprises and dates are arithmetic on its number), so the same scale and day give the same
data.

The data (set-based: INSERT … SELECT generate_series, with the events table's secondary indexes and foreign keys
dropped during the load and re-created exactly as the migrations defined them):
  - enterprises in five roles (battery maker, vehicle maker, dismantler, recycler, collection point); every recycler
    holds a licence; a monthly report for last month from every enterprise and a recovery report from every recycler;
  - batteries whose ledger chains are physically consistent (every battery moves only from its holder, handovers are
    received by their named recipient, refusals are followed by a new handover, waste ends recycled or
    remanufactured, in-transit handovers are an hour old), so that a clean run finds nothing; the monthly reports
    are the ledger's own counts and stock, the recovery reports declare nothing above content;
  - scrapping intakes with certificates whose batteries were handed over, and a recent blocked intake;
  - then, for each of the eleven checks, PLANT enterprises with one discrepancy each (a wrong count, a wrong stock,
    an old handover, a receipt by someone else, a refusal left standing, a removed battery kept past the deadline,
    an old blocked intake, waste received under a suspended or non-covering licence, a capacity exceeded, waste
    gone dark, a recovery above content). Their keys (enterprise, period, kind, figure, subject) are the expected
    result: the run must find exactly these.
The ledger hashes are placeholders (the checks never read them; ledger_verify is not part of this benchmark).

Then, in one process: the bare aggregates (each run twice, the second timed), a dry run to warm the same caches,
the real `reconciliation_run` (every statement timed through a query wrapper; run twice: first run inserting, second
one updating), the comparison with
the planted set, `--explain` EXPLAIN ANALYZE of each check, and the dashboards (aggregate refresh and page timings).
Nothing here runs in CI.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DATASET_VERSION = 1
PLANT = 5  # discrepancies planted per check
RESERVED_RECYCLERS = 10  # recycler indexes 0..9 get no clean waste (licence_not_active, licence_capacity_exceeded)
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLES = ["battery_maker", "vehicle_maker", "dismantler", "recycler", "collection_point"]
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
             "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"]

# Clean templates: (id, share of the clean batteries). Events per battery in brackets.
#  1 produced, kept by the maker [1]          2 produced, traded k times (handed over + received) [1 + 2k]
#  4 dismantled: maker → vehicle maker, installed, removed by a dismantler, waste to a recycler, recycled [8]
#  5 swap: maker → swap operator, swapped in and out, waste to a recycler, remanufactured [8]
#  6 repair: maker → repairer, replaced in and out (same day), declared waste, to a recycler, recycled [9]
#  7 replaced in a vehicle then removed by a dismantler, waste to a recycler, recycled [8]
#  8 refused by the first recipient, handed over again, received [5]
#  9 in transit since an hour ago [2]        10 produced by remanufacturing (a recycler) [1]
TEMPLATES = [(1, 0.35), (2, 0.38), (4, 0.08), (5, 0.04), (6, 0.04), (7, 0.03), (8, 0.03), (9, 0.03), (10, 0.02)]
BASE_EVENTS = {1: 1, 2: 3, 4: 8, 5: 8, 6: 9, 7: 8, 8: 5, 9: 2, 10: 1}


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"  {label:<62} {time.perf_counter() - start:8.2f} s", flush=True)
    return result


def loadavg() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- database ---------------------------------------------------------------------------------------------------


def _database_url(wanted: dict, reload: bool) -> tuple[str, dict | None]:
    """The benchmark database's URL, and the cached dataset's description (None: load it). A cached dataset of
    another scale, version or day, or --reload, means a fresh database."""
    import psycopg

    base = os.environ["DATABASE_URL"]
    head, _, tail = base.rpartition("/")
    name, _, query = tail.partition("?")
    default = (wanted["batteries"], wanted["events"], wanted["enterprises"]) == (3_000_000, 10_000_000, 1000)
    bench = f"{name}_national" if default else f"{name}_national_{wanted['batteries']}"
    url = f"{head}/{bench}" + (f"?{query}" if query else "")
    meta = None
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench]).fetchone()
    if exists and not reload:
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('bench_national_meta')").fetchone()[0]:
                row = conn.execute("SELECT value FROM bench_national_meta WHERE key = 'dataset'").fetchone()
                meta = row[0] if row else None
    if meta and all(meta.get(k) == v for k, v in wanted.items()):
        return url, meta
    with psycopg.connect(base, autocommit=True) as conn:
        if exists:
            conn.execute(f'DROP DATABASE "{bench}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench}"')
    return url, None


class constraints_dropped:
    """Drop a table's secondary indexes, unique and foreign-key constraints for a bulk load; re-create them from
    their own definitions (pg_get_indexdef / pg_get_constraintdef) afterwards, so the result is what the migrations
    built."""

    def __init__(self, cursor, table: str):
        self.cursor, self.table = cursor, table

    def __enter__(self):
        c = self.cursor
        c.execute("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                     WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC""", [self.table])
        self.constraints = c.fetchall()
        c.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                     WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)""",
                  [self.table])
        self.indexes = c.fetchall()
        for name, _definition in self.constraints:
            c.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{name}"')
        for name, _definition in self.indexes:
            c.execute(f'DROP INDEX "{name}"')
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        c = self.cursor
        c.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in self.indexes:
            timed(f"  index {name}", c.execute, definition)
        for name, definition in self.constraints:
            timed(f"  constraint {name}", c.execute, f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
        return False


# --- the synthetic nation ---------------------------------------------------------------------------------------


def _month_bounds(today: dt.date) -> tuple[dt.date, dt.datetime, dt.datetime]:
    first_this = today.replace(day=1)
    month = (first_this - dt.timedelta(days=1)).replace(day=1)
    start = dt.datetime.combine(month, dt.time(), SHANGHAI)
    end = dt.datetime.combine(first_this, dt.time(), SHANGHAI)
    return month, start, end


def load(n_ent: int, n_bat: int, n_ev: int) -> list[list]:
    """Load everything; return the planted keys [enterprise_id, period iso or None, kind, figure, subject]."""
    from django.db import connection
    from django.utils import timezone

    from apps.core.choices import Chemistry

    n5 = n_ent // 5
    if n5 < 40:
        raise SystemExit("--enterprises must be at least 200 (the planted discrepancies use 40 of each role)")
    now = timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    month, m_start, m_end = _month_bounds(today)

    def ent(role: int, index: int) -> int:  # enterprise ids are 1..n: role = (id - 1) % 5
        return (index % n5) * 5 + role + 1

    planted: list[list] = []
    specs = _planted_batteries(ent, now, month, m_start)
    n_clean = n_bat - len(specs)

    with connection.cursor() as c:
        c.execute("SET synchronous_commit = off")
        timed(f"{n_ent} enterprises, licences", _enterprises, c, n_ent, n5, ent, now, list(Chemistry.values))
        # the plan: one row per clean battery with its template and the enterprises of its chain
        bounds, acc = [], 0.0
        for template, share in TEMPLATES:
            acc += share
            bounds.append((template, round(acc * n_clean)))
        bounds[-1] = (bounds[-1][0], n_clean)
        prev = 0
        ranges = {}
        for template, upper in bounds:
            ranges[template] = (prev + 1, upper)
            prev = upper
        start2, end2 = ranges[2]
        n2 = max(1, end2 - start2 + 1)
        base = sum(BASE_EVENTS[t] * (hi - lo + 1) for t, (lo, hi) in ranges.items())
        base += sum(len(s["events"]) for s in specs)
        extra_pairs = max(0, (n_ev - base) // 2)
        if n_ev < base:
            print(f"  (note: the templates need {base:,} events; --events {n_ev:,} is below that)")
        case = " ".join(f"WHEN g <= {hi} THEN {t}" for t, (lo, hi) in ranges.items())
        rec = f"(({RESERVED_RECYCLERS} + (g * 11) % {n5 - RESERVED_RECYCLERS}) * 5 + 4)"
        timed(f"plan of {n_clean:,} clean batteries", c.execute, f"""
            CREATE UNLOGGED TABLE bench_plan AS
            SELECT g, t AS template,
                   CASE WHEN t = 2 THEN 1 + ((g - {start2} + 1) * {extra_pairs}) / {n2}
                                          - ((g - {start2}) * {extra_pairs}) / {n2} ELSE 0 END AS pairs,
                   (g % {n5}) * 5 + 1 AS m, ((g * 3) % {n5}) * 5 + 2 AS v, ((g * 7 + 1) % {n5}) * 5 + 2 AS s,
                   ((g * 13 + 2) % {n5}) * 5 + 2 AS p, ((g * 5) % {n5}) * 5 + 3 AS d, {rec} AS r,
                   ((g * 31 + 17) % {n_ent}) + 1 AS x, ((g * 37 + 3) % {n_ent}) + 1 AS y,
                   ((date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai')
                     - make_interval(days => (30 + (g * 7919) % 330)::int) + interval '10 hours')
                    AT TIME ZONE 'Asia/Shanghai') AS t0
            FROM (SELECT g::bigint AS g, CASE {case} END AS t FROM generate_series(1, {n_clean}) g) plan""")
        with constraints_dropped(c, "batteries_battery"), constraints_dropped(c, "batteries_batteryevent"):
            _batteries(c, n_clean, n_ent)
            _events(c, n_ent)
            _planted_rows(c, specs, n_clean)
        c.execute(f"SELECT setval(pg_get_serial_sequence('batteries_battery', 'id'), {n_bat})")
        c.execute("DROP TABLE bench_plan")
        # one key per planted discrepancy (the five batteries over one licence's capacity share theirs)
        planted += [list(k) for k in {tuple(s["key"]) for s in specs}]
        planted += _scrapping(c, specs, ent, now, n_clean)
        planted += timed("monthly and recovery reports (from the ledger), planted report errors", _reports,
                         c, n_ent, n5, ent, now, month, m_start, m_end)
        timed("VACUUM ANALYZE", c.execute, "VACUUM ANALYZE")
    return sorted(planted, key=lambda k: (k[2], k[0], k[1] or "", k[3], k[4]))


def _enterprises(c, n_ent, n5, ent, now, chemistries):
    c.execute(f"""
        INSERT INTO enterprises_enterprise (id, created_at, updated_at, name, uscc, province, address, contact_name,
            contact_phone, contact_email, roles, status, status_reason, business_licence, approved_at)
        SELECT i + 1, %(past)s, %(past)s, 'Bench enterprise ' || (i + 1), lpad((i + 1)::text, 18, '0'),
               (%(provinces)s::varchar[])[1 + mod(i, {len(PROVINCES)})], 'Bench road ' || i, 'Bench', '13800000000',
               'bench' || i || '@example.cn', ARRAY[(%(roles)s::varchar[])[1 + mod(i, 5)]]::varchar[], 'active', '',
               'BL' || i, %(past)s
        FROM generate_series(0, {n_ent} - 1) i""",
              {"past": now - dt.timedelta(days=800), "provinces": PROVINCES, "roles": ROLES})
    c.execute(f"SELECT setval(pg_get_serial_sequence('enterprises_enterprise', 'id'), {n_ent})")
    # One licence per recycler: every chemistry, the dismantling scope, 5,000 t a year, 2020–2030. Planted:
    # indexes 0..4 (licence_not_active): even ones suspended, odd ones licensed for LFP only (the planted waste is
    # ternary); 5..9 (licence_capacity_exceeded): 1 t a year.
    c.execute(f"""
        INSERT INTO enterprises_recyclerlicence (created_at, updated_at, number, scopes, chemistries,
            annual_capacity_tonnes, valid_from, valid_to, status, status_reason, enterprise_id)
        SELECT %(past)s, %(past)s, 'BENCH-L-' || k, ARRAY['dismantling']::varchar[],
               CASE WHEN k < 5 AND mod(k, 2) = 1 THEN ARRAY['B']::varchar[] ELSE %(chem)s::varchar[] END,
               CASE WHEN k BETWEEN 5 AND 9 THEN 1 ELSE 5000 END, DATE '2020-01-01', DATE '2030-12-31',
               CASE WHEN k < 5 AND mod(k, 2) = 0 THEN 'suspended' ELSE 'active' END, '', k * 5 + 4
        FROM generate_series(0, {n5} - 1) k""", {"past": now - dt.timedelta(days=800), "chem": chemistries})


def _batteries(c, n_clean, n_ent):
    # final state by template (see TEMPLATES): holder, status, waste, in transit to, ledger_seq
    timed(f"{n_clean:,} batteries (INSERT … SELECT)", c.execute, f"""
        INSERT INTO batteries_battery (id, code, manufacturer_code, product_type, chemistry, spec_code, trace_code,
            production_date, serial, capacity_kwh, weight_kg, is_waste, maker_id, status, holder_id, transit_to_id,
            ledger_seq, ledger_head, registered_at, updated_at)
        SELECT g, '0PAPE01ABCDEFG6AF' || lpad(g::text, 7, '0'), '0PA', 'P', CASE WHEN g % 3 = 0 THEN 'B' ELSE 'E' END,
               '01', 'ABCDEFG', DATE '2025-03-15', lpad(g::text, 7, '0'), 60,
               CASE WHEN g % 97 = 0 THEN NULL ELSE 300 + g % 200 END,
               template IN (4, 5, 6, 7),
               CASE WHEN template = 10 THEN r ELSE m END,
               CASE template WHEN 5 THEN 'remanufactured' WHEN 9 THEN 'in_transit'
                             WHEN 4 THEN 'recycled' WHEN 6 THEN 'recycled' WHEN 7 THEN 'recycled' ELSE 'in_stock' END,
               CASE template WHEN 1 THEN m WHEN 9 THEN m WHEN 8 THEN y WHEN 10 THEN r
                             WHEN 2 THEN ((g * 31 + pairs * 17) % {n_ent}) + 1 ELSE r END,
               CASE WHEN template = 9 THEN x END,
               CASE template WHEN 2 THEN 1 + 2 * pairs ELSE {_case_events()} END,
               '', t0, t0
        FROM bench_plan""")


def _case_events() -> str:
    return "CASE template " + " ".join(f"WHEN {t} THEN {n}" for t, n in BASE_EVENTS.items()) + " END"


# (kind, actor, counterparty, waste handover, hours after t0) per step of the fixed templates
_STEPS = {
    1: [("produced", "m", None, False, 0)],
    4: [("produced", "m", None, False, 0), ("handed_over", "m", "v", False, 24), ("received", "v", "m", False, 48),
        ("installed", "v", None, False, 72), ("removed", "d", None, False, 96), ("handed_over", "d", "r", True, 120),
        ("received", "r", "d", False, 144), ("recycled", "r", None, False, 168)],
    5: [("produced", "m", None, False, 0), ("handed_over", "m", "s", False, 24), ("received", "s", "m", False, 48),
        ("swapped_in", "s", None, False, 72), ("swapped_out", "s", None, False, 96),
        ("handed_over", "s", "r", True, 120), ("received", "r", "s", False, 144),
        ("remanufactured", "r", None, False, 168)],
    6: [("produced", "m", None, False, 0), ("handed_over", "m", "p", False, 24), ("received", "p", "m", False, 48),
        ("replaced_in", "p", None, False, 72), ("replaced_out", "p", None, False, 73),
        ("declared_waste", "p", None, False, 96), ("handed_over", "p", "r", True, 120),
        ("received", "r", "p", False, 144), ("recycled", "r", None, False, 168)],
    7: [("produced", "m", None, False, 0), ("handed_over", "m", "p", False, 24), ("received", "p", "m", False, 48),
        ("replaced_in", "p", None, False, 72), ("removed", "d", None, False, 96), ("handed_over", "d", "r", True, 120),
        ("received", "r", "d", False, 144), ("recycled", "r", None, False, 168)],
    8: [("produced", "m", None, False, 0), ("handed_over", "m", "x", False, 24), ("refused", "x", "m", False, 48),
        ("handed_over", "m", "y", False, 72), ("received", "y", "m", False, 96)],
    10: [("remanufacture_produced", "r", None, False, 0)],
}
_EVENT_COLUMNS = """INSERT INTO batteries_batteryevent (battery_id, seq, kind, actor_id, counterparty_id, vehicle_id,
    occurred_at, recorded_at, recorded_by_id, details, prev_hash, hash)"""


def _events(c, n_ent):
    for template, steps in _STEPS.items():
        values = ", ".join(
            f"({i + 1}, '{kind}', b.{actor}, {'b.' + cp if cp else 'NULL::bigint'}, {str(waste).lower()}, {hours})"
            for i, (kind, actor, cp, waste, hours) in enumerate(steps))
        timed(f"events of template {template}", c.execute, f"""
            {_EVENT_COLUMNS}
            SELECT b.g, s.seq, s.kind, s.actor, s.cp, NULL, b.t0 + make_interval(hours => s.hours),
                   b.t0 + make_interval(hours => s.hours, mins => 1), NULL,
                   CASE WHEN s.waste THEN '{{"waste": true}}'::jsonb ELSE '{{}}'::jsonb END,
                   repeat('0', 64), md5(b.g::text || '/' || s.seq) || md5(s.seq::text)
            FROM bench_plan b
            CROSS JOIN LATERAL (VALUES {values}) AS s(seq, kind, actor, cp, waste, hours)
            WHERE b.template = {template}""")
    # template 2: produced, then `pairs` handovers, each received by its named recipient. Holder j: the maker
    # (j = 0), else enterprise (g·31 + j·17) mod n.
    holder = f"CASE WHEN {{j}} = 0 THEN b.m ELSE ((b.g * 31 + ({{j}}) * 17) % {n_ent}) + 1 END"
    timed("events of template 2 (traded)", c.execute, f"""
        {_EVENT_COLUMNS}
        SELECT b.g, q, CASE WHEN q = 1 THEN 'produced' WHEN q % 2 = 0 THEN 'handed_over' ELSE 'received' END,
               CASE WHEN q = 1 THEN b.m WHEN q % 2 = 0 THEN {holder.format(j="(q - 2) / 2")}
                    ELSE {holder.format(j="(q - 1) / 2")} END,
               CASE WHEN q = 1 THEN NULL WHEN q % 2 = 0 THEN {holder.format(j="q / 2")}
                    ELSE {holder.format(j="(q - 3) / 2")} END,
               NULL, b.t0 + make_interval(hours => ((q - 1) * 24)::int), b.t0 + make_interval(hours => ((q - 1) * 24)::int, mins => 1),
               NULL, '{{}}'::jsonb, repeat('0', 64), md5(b.g::text || '/' || q) || md5(q::text)
        FROM bench_plan b CROSS JOIN LATERAL generate_series(1, 1 + 2 * b.pairs) AS st(q)
        WHERE b.template = 2""")
    # template 9: in transit, handed over an hour ago (after a production a day before)
    timed("events of template 9 (in transit)", c.execute, f"""
        {_EVENT_COLUMNS}
        SELECT b.g, s.seq, s.kind, b.m, s.cp, NULL, s.at, s.at + interval '1 minute', NULL, '{{}}'::jsonb,
               repeat('0', 64), md5(b.g::text || '/' || s.seq) || md5(s.seq::text)
        FROM bench_plan b
        CROSS JOIN LATERAL (VALUES (1, 'produced', NULL::bigint, now() - interval '25 hours'),
                                   (2, 'handed_over', b.x, now() - interval '1 hour')) AS s(seq, kind, cp, at)
        WHERE b.template = 9""")


def _planted_batteries(ent, now, month: dt.date, m_start: dt.datetime) -> list[dict]:
    """The planted batteries: their final state, their events and the discrepancy key each group must produce."""
    day = dt.timedelta(days=1)
    specs: list[dict] = []

    def battery(events, *, holder, status="in_stock", waste=False, transit_to=None, key=None, tag=""):
        specs.append({"events": events, "holder": holder, "status": status, "waste": waste,
                      "transit_to": transit_to, "key": key, "tag": tag})

    for k in range(PLANT):
        # handover_not_received: handed over 40 days ago, still in transit (to a collection point)
        sender, to = ent(0, 20 + k), ent(4, 1 + k)
        battery([("produced", sender, None, False, now - 41 * day), ("handed_over", sender, to, False, now - 40 * day)],
                holder=sender, status="in_transit", transit_to=to,
                key=[to, None, "handover_not_received", "in_transit", ""])
        # received_by_other: handed over to one enterprise, received in last month by another (a dismantler)
        sender, named, other = ent(0, 25 + k), ent(1, 30 + k), ent(2, 1 + k)
        battery([("produced", sender, None, False, m_start + 5 * day),
                 ("handed_over", sender, named, False, m_start + 6 * day),
                 ("received", other, sender, False, m_start + 7 * day)],
                holder=other, key=[other, month.isoformat(), "received_by_other", "not_addressed", ""])
        # refused_not_taken_back: a refusal 30 days ago is still the last event; the sender is a battery maker
        sender, refuser = ent(0, 10 + k), ent(1, 10 + k)
        battery([("produced", sender, None, False, now - 32 * day),
                 ("handed_over", sender, refuser, False, now - 31 * day),
                 ("refused", refuser, sender, False, now - 30 * day)],
                holder=sender, key=[sender, None, "refused_not_taken_back", "not_taken_back", ""])
        # scrapped_not_handed_over: removed 20 days ago by a dismantler, still held; its certificate's deadline
        # passed 5 days ago (the intake and certificate are added by _scrapping)
        maker, vm, dis = ent(0, 30 + k), ent(1, 20 + k), ent(2, 10 + k)
        battery([("produced", maker, None, False, now - 63 * day), ("handed_over", maker, vm, False, now - 62 * day),
                 ("received", vm, maker, False, now - 61 * day), ("installed", vm, None, False, now - 60 * day),
                 ("removed", dis, None, False, now - 20 * day)],
                holder=dis, waste=True, key=[dis, None, "scrapped_not_handed_over", "removed_still_held", ""],
                tag="scrapped")
        # licence_not_active: waste received last month by a recycler whose licence is suspended / not for ternary
        maker, rec = ent(0, 35 + k), ent(3, k)
        battery([("produced", maker, None, False, m_start + 3 * day),
                 ("handed_over", maker, rec, True, m_start + 4 * day),
                 ("received", rec, maker, False, m_start + 5 * day), ("recycled", rec, None, False, m_start + 6 * day)],
                holder=rec, status="recycled", waste=True,
                key=[rec, month.isoformat(), "licence_not_active", "received_waste", ""])
        # licence_capacity_exceeded: 5 × 400 kg of waste received last month against a licence of 1 t a year
        rec = ent(3, 5 + k)
        for j in range(5):
            battery([("produced", maker, None, False, m_start + (3 + j) * day),
                     ("handed_over", maker, rec, True, m_start + (4 + j) * day),
                     ("received", rec, maker, False, m_start + (5 + j) * day)],
                    holder=rec, waste=True,
                    key=[rec, dt.date(month.year, 1, 1).isoformat(), "licence_capacity_exceeded", "received_kg", ""],
                    tag="weighed")
        # gone_dark: waste handed to a collection point 150 days ago, nothing since
        maker, point = ent(0, 15 + k), ent(4, 10 + k)
        battery([("produced", maker, None, False, now - 200 * day),
                 ("handed_over", maker, point, True, now - 150 * day),
                 ("received", point, maker, False, now - 149 * day)],
                holder=point, waste=True, key=[point, None, "gone_dark", "no_event", ""])
    return specs


def _planted_rows(c, specs, n_clean):
    rows, events = [], []
    for i, s in enumerate(specs):
        g = n_clean + 1 + i
        s["id"] = g
        rows.append((g, f"0PAPE01ABCDEFG6AF{g:07d}", 400, s["waste"], s["events"][0][1], s["status"], s["holder"],
                     s["transit_to"], len(s["events"]), s["events"][0][4]))
        for seq, (kind, actor, cp, waste, at) in enumerate(s["events"], start=1):
            events.append((g, seq, kind, actor, cp, at, at + dt.timedelta(minutes=1),
                           '{"waste": true}' if waste else "{}", "0" * 64, f"{g:032d}{seq:032d}"))
    c.executemany("""
        INSERT INTO batteries_battery (id, code, manufacturer_code, product_type, chemistry, spec_code, trace_code,
            production_date, serial, capacity_kwh, weight_kg, is_waste, maker_id, status, holder_id, transit_to_id,
            ledger_seq, ledger_head, registered_at, updated_at)
        VALUES (%s, %s, '0PA', 'P', 'E', '01', 'ABCDEFG', DATE '2025-03-15', '0000000', 60, %s, %s, %s, %s, %s, %s,
                %s, '', %s, now())""", rows)
    c.executemany("""
        INSERT INTO batteries_batteryevent (battery_id, seq, kind, actor_id, counterparty_id, occurred_at,
            recorded_at, details, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)""", events)


def _scrapping(c, specs, ent, now, n_clean) -> list[list]:
    """Intakes and certificates: a clean one for every 500th dismantled battery (handed over to a recycler since),
    the planted kept batteries (deadline passed), blocked intakes (a recent one per planted one, and the old planted
    ones, each with one battery found and one missing)."""
    planted = []
    common = """created_at, updated_at, vin, is_nev, is_swap_model, model_name, plate_number, engine_number,
        owner_id_kind, owner_id_masked, owner_id_hash, declared_not_mortgaged, declared_not_stolen, photo_front,
        photo_vin, received_on, outcome, status, explanation, decision, decision_reason, dismantler_id"""
    values = """%(at)s, %(at)s, %(vin)s, true, false, 'Bench EV', '', '', 'id_card', '1101****1234', '', true, true,
        '', '', %(day)s, 'complete', %(status)s, '', '', '', %(dismantler)s"""

    def intake(vin, dismantler, status, at):
        c.execute(f"INSERT INTO scrapping_scrappingintake ({common}) VALUES ({values}) RETURNING id",
                  {"at": at, "vin": vin, "day": at.date(), "status": status, "dismantler": dismantler})
        return c.fetchone()[0]

    def intake_battery(intake_id, battery_id, holder, *, found=True, removed=True):
        c.execute("""INSERT INTO scrapping_intakebattery (code, expected, found, status_at_intake, vin_at_intake,
                         removed, battery_id, holder_at_intake_id, intake_id)
                     SELECT code, true, %s, 'installed', '', %s, id, %s, %s FROM batteries_battery WHERE id = %s""",
                  [found, removed, holder, intake_id, battery_id])

    def certificate(intake_id, vin, dismantler, deadline):
        c.execute("""INSERT INTO scrapping_scrappingcertificate (created_at, updated_at, number, vin, issued_on,
                         status, swap_exemption, handover_deadline, deadline_provisional, pdf, void_reason,
                         dismantler_id, intake_id)
                     VALUES (now(), now(), 'BENCH-C-' || %s, %s, %s, 'valid', false, %s, false, '', '', %s, %s)""",
                  [intake_id, vin, deadline - dt.timedelta(days=30), deadline, dismantler, intake_id])

    today = now.date()
    n = 0
    # clean: dismantled batteries (template 4) now recycled by a recycler
    c.execute("SELECT b.id, e.actor_id FROM batteries_battery b JOIN batteries_batteryevent e "
              "ON e.battery_id = b.id AND e.seq = 5 AND e.kind = 'removed' WHERE b.id %% 500 = 0 AND b.id <= %s",
              [n_clean])
    for battery_id, dismantler in c.fetchall():
        n += 1
        vin = f"LBENCH{n:011d}"
        i = intake(vin, dismantler, "issued", now - dt.timedelta(days=60))
        intake_battery(i, battery_id, dismantler)
        certificate(i, vin, dismantler, today - dt.timedelta(days=10))
    for s in specs:
        if s["tag"] == "scrapped":
            n += 1
            vin = f"LBENCH{n:011d}"
            i = intake(vin, s["holder"], "issued", now - dt.timedelta(days=21))
            intake_battery(i, s["id"], s["holder"])
            certificate(i, vin, s["holder"], today - dt.timedelta(days=5))
    for k in range(PLANT):
        for old in (False, True):
            n += 1
            vin = f"LBENCH{n:011d}"
            dismantler = ent(2, (20 if old else 30) + k)
            i = intake(vin, dismantler, "blocked", now - dt.timedelta(days=30 if old else 0, hours=1))
            intake_battery(i, 1 + n * 7, dismantler, removed=False)
            intake_battery(i, 2 + n * 7, dismantler, found=False, removed=False)
            if old:
                planted.append([dismantler, None, "blocked_intake_unexplained", "blocked_intake", f"{vin}/{i}"])
    return planted


def _reports(c, n_ent, n5, ent, now, month, m_start, m_end) -> list[list]:
    """Every enterprise files last month's report, its counts taken from the ledger and its closing stock from the
    same arithmetic the check uses (ledger opening + declared in − out + refusals returned + remanufactured
    products); every recycler a recovery report declaring no output. Then the planted report errors."""
    from apps.filings.models import MONTHLY_COUNT_FIELDS
    from apps.reconciliation import rules

    deltas = ", ".join(f"('{kind}', {delta})" for kind, delta in rules.STOCK_DELTA_BY_EVENT.items())
    fields = [name for name, _kind in MONTHLY_COUNT_FIELDS if name != "in_stock"]
    counts = ", ".join(f"count(*) FILTER (WHERE e.kind = '{kind}') AS {name}"
                       for name, kind in MONTHLY_COUNT_FIELDS if kind)
    net = (" + ".join(f"coalesce(mc.{f}, 0)" for f in rules.STOCK_IN_FIGURES) + " - ("
           + " + ".join(f"coalesce(mc.{f}, 0)" for f in rules.STOCK_OUT_FIGURES) + ")")
    params = {"m_start": m_start, "m_end": m_end, "month": month, "now": now}
    c.execute("""
        INSERT INTO filings_filing (created_at, updated_at, kind, enterprise_id, province, status, period, due_date,
            first_submitted_at, submitted_at, flags)
        SELECT %(now)s, %(now)s, k.kind, e.id, e.province, 'approved', %(month)s, %(m_end)s::date + 9,
               %(m_end)s, %(m_end)s, '{}'
        FROM enterprises_enterprise e
        CROSS JOIN (VALUES ('monthly_report'), ('recovery_report')) AS k(kind)
        WHERE k.kind = 'monthly_report' OR 'recycler' = ANY (e.roles)""", params)
    c.execute(f"""
        WITH month_counts AS (
            SELECT e.actor_id, {counts},
                   count(*) FILTER (WHERE e.kind = 'remanufacture_produced') AS remanufacture_produced
            FROM batteries_batteryevent e WHERE e.occurred_at >= %(m_start)s AND e.occurred_at < %(m_end)s
            GROUP BY e.actor_id
        ), refused_in AS (
            SELECT counterparty_id AS enterprise_id,
                   count(*) FILTER (WHERE occurred_at < %(m_start)s) AS before,
                   count(*) FILTER (WHERE occurred_at >= %(m_start)s AND occurred_at < %(m_end)s) AS during
            FROM batteries_batteryevent WHERE kind = 'refused' GROUP BY 1
        ), opening AS (
            SELECT e.actor_id, sum(d.delta) AS delta
            FROM batteries_batteryevent e JOIN (VALUES {deltas}) AS d(kind, delta) ON d.kind = e.kind
            WHERE e.occurred_at < %(m_start)s GROUP BY 1
        )
        INSERT INTO filings_monthlyreport (filing_id, {", ".join(fields)}, in_stock)
        SELECT f.id, {", ".join(f"coalesce(mc.{f}, 0)" for f in fields)},
               coalesce(o.delta, 0) + coalesce(ri.before, 0) + {net}
               + coalesce(mc.remanufacture_produced, 0) + coalesce(ri.during, 0)
        FROM filings_filing f
        LEFT JOIN month_counts mc ON mc.actor_id = f.enterprise_id
        LEFT JOIN refused_in ri ON ri.enterprise_id = f.enterprise_id
        LEFT JOIN opening o ON o.actor_id = f.enterprise_id
        WHERE f.kind = 'monthly_report'""", params)
    c.execute("""
        INSERT INTO filings_recoveryreport (filing_id, output_nickel, output_cobalt, output_manganese, output_lithium,
            output_copper, output_aluminium, fractions)
        SELECT id, 0, 0, 0, 0, 0, 0, '{}' FROM filings_filing WHERE kind = 'recovery_report'""")
    planted = []
    period = month.isoformat()
    for k in range(PLANT):
        maker = ent(0, 1 + k)  # reported_vs_ledger: produced overstated (the closing stock follows: it balances)
        c.execute("""UPDATE filings_monthlyreport r SET produced = produced + %s, in_stock = in_stock + %s
                     FROM filings_filing f WHERE f.id = r.filing_id AND f.kind = 'monthly_report'
                       AND f.enterprise_id = %s""", [3 + k, 3 + k, maker])
        planted.append([maker, period, "reported_vs_ledger", "produced", ""])
        vm = ent(1, 1 + k)  # stock_balance: closing stock 7 too high
        c.execute("""UPDATE filings_monthlyreport r SET in_stock = in_stock + 7
                     FROM filings_filing f WHERE f.id = r.filing_id AND f.kind = 'monthly_report'
                       AND f.enterprise_id = %s""", [vm])
        planted.append([vm, period, "stock_balance", "closing_stock", ""])
        rec = ent(3, RESERVED_RECYCLERS + k)  # mass_balance: 100,000 t of nickel recovered
        c.execute("""UPDATE filings_recoveryreport r SET output_nickel = 100000000
                     FROM filings_filing f WHERE f.id = r.filing_id AND f.enterprise_id = %s""", [rec])
        planted.append([rec, period, "mass_balance", "ni", ""])
    return planted


# --- measurements -----------------------------------------------------------------------------------------------


def bare_aggregates(m_start, m_end) -> dict[str, float]:
    """The heaviest set-based aggregates the reconciliation needs, bare (no join to reports, no upsert)."""
    from django.db import connection

    from apps.reconciliation import rules

    deltas = ", ".join(f"('{kind}', {delta})" for kind, delta in rules.STOCK_DELTA_BY_EVENT.items())
    statements = {
        "events per enterprise × kind, last month": """
            SELECT count(*) FROM (SELECT actor_id, kind, count(*) FROM batteries_batteryevent
                                  WHERE occurred_at >= %(s)s AND occurred_at < %(e)s GROUP BY 1, 2) a""",
        "last event per battery": """
            SELECT count(*) FROM (SELECT b.holder_id, e.kind, e.occurred_at FROM batteries_battery b
                                  JOIN batteries_batteryevent e ON e.battery_id = b.id AND e.seq = b.ledger_seq) a""",
        "receipts with the event before them (handover pairs)": """
            SELECT count(*) FROM (SELECT e.actor_id, h.kind, h.counterparty_id FROM batteries_batteryevent e
                                  JOIN batteries_batteryevent h ON h.battery_id = e.battery_id AND h.seq = e.seq - 1
                                  WHERE e.kind = 'received') a""",
        "stock movements per enterprise before last month": f"""
            SELECT count(*) FROM (SELECT e.actor_id, sum(d.delta) FROM batteries_batteryevent e
                                  JOIN (VALUES {deltas}) AS d(kind, delta) ON d.kind = e.kind
                                  WHERE e.occurred_at < %(s)s GROUP BY 1) a""",
    }
    out = {}
    with connection.cursor() as c:
        for label, sql in statements.items():
            c.execute(sql, {"s": m_start, "e": m_end})  # warm the cache as the run will find it
            start = time.perf_counter()
            c.execute(sql, {"s": m_start, "e": m_end})
            c.fetchall()
            out[label] = time.perf_counter() - start
            print(f"  bare: {label:<56} {out[label]:8.2f} s", flush=True)
    return out


def run_reconciliation(label: str) -> tuple[dict[str, float], float]:
    """The real service, every statement timed through a query wrapper."""
    from django.db import connection

    from apps.reconciliation.services import reconciliation_run

    per: dict[str, float] = {}

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = (params or {}).get("kind") if isinstance(params, dict) else None
            head = sql.lstrip()
            key = str(key) if key else ("close" if head.startswith("UPDATE reconciliation_discrepancy")
                                        else "shared tables" if head.startswith(("CREATE TEMPORARY", "ANALYZE"))
                                        else "other")
            per[key] = per.get(key, 0.0) + time.perf_counter() - start

    start = time.perf_counter()
    with connection.execute_wrapper(wrapper):
        result = reconciliation_run(actor=None)
    total = time.perf_counter() - start
    print(f"{label}: {total:.2f} s ({loadavg()}); found {sum(result.counts.values())}, closed {result.closed}")
    return per, total


def compare(planted: list[list]) -> bool:
    from apps.reconciliation.models import Discrepancy

    found = {(d["enterprise_id"], d["period"].isoformat() if d["period"] else None, d["kind"], d["figure"],
              d["subject"])
             for d in Discrepancy.objects.filter(status="open").values("enterprise_id", "period", "kind", "figure",
                                                                        "subject")}
    expected = {tuple(k) for k in planted}
    missing, unexpected = sorted(expected - found, key=str), sorted(found - expected, key=str)
    kinds = sorted({k[2] for k in expected})
    print(f"planted: {len(expected)} discrepancies over {len(kinds)} checks; found {len(found)}; "
          f"missing {len(missing)}; unexpected {len(unexpected)}")
    for k in missing[:20]:
        print("  MISSING   ", k)
    for k in unexpected[:20]:
        print("  UNEXPECTED", k)
    return not missing and not unexpected


def explain_checks() -> None:
    from django.db import connection, transaction

    from apps.reconciliation.checks import CHECKS, check_parameters, prepare_shared_tables
    from apps.reconciliation.services import RUN_SETTINGS

    with transaction.atomic(), connection.cursor() as c:
        c.execute(RUN_SETTINGS)
        prepare_shared_tables(c, check_parameters(enterprise_ids=None))
        for check in CHECKS:
            c.execute(f"EXPLAIN (ANALYZE, BUFFERS) {check.sql}", check_parameters(enterprise_ids=None))
            print(f"--- {check.kind}")
            print("\n".join(r[0] for r in c.fetchall()))


def dashboards(requests: int) -> None:
    from apps.accounts.models import User
    from apps.enterprises.models import Membership
    from apps.reconciliation.services import dashboard_aggregates_refresh
    from tests.bench.bench_dashboard import measure
    from tests.conftest import signed_in
    from tests.factories import MembershipFactory, UserFactory

    timed("refresh aggregates (plain REFRESH)", dashboard_aggregates_refresh, concurrently=False)
    timed("refresh aggregates (CONCURRENTLY, as the hourly job)", dashboard_aggregates_refresh)

    def user(username, **kwargs):
        return User.objects.filter(username=username).first() or UserFactory(username=username, **kwargs)

    national = user("bench_national", kind=User.Kind.REVIEWER)
    provincial = user("bench_gd", kind=User.Kind.REVIEWER, reviewer_provinces=["44"])
    company = (User.objects.filter(username="bench_co").first()
               or MembershipFactory(enterprise_id=1, role=Membership.Role.ADMIN, user__username="bench_co").user)
    national, provincial, company = signed_in(national), signed_in(provincial), signed_in(company)
    print(f"dashboards, over {requests} requests each (Django test client, DEBUG off):")
    measure("reviewer, national: /review/oversight/", national, "/review/oversight/", requests)
    measure("reviewer, national: data.json", national, "/review/oversight/data.json", requests)
    measure("reviewer, Guangdong: /review/oversight/", provincial, "/review/oversight/", requests)
    measure("enterprise: /oversight/", company, "/oversight/", requests)
    measure("enterprise: data.json", company, "/oversight/data.json", requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batteries", type=int, default=3_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--reload", action="store_true", help="rebuild the dataset even if it is cached")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each check")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--no-dashboards", action="store_true")
    args = parser.parse_args()

    today = dt.datetime.now(SHANGHAI).date()
    month, m_start, m_end = _month_bounds(today)
    wanted = {"version": DATASET_VERSION, "batteries": args.batteries, "events": args.events,
              "enterprises": args.enterprises, "day": today.isoformat()}
    os.environ["DATABASE_URL"], meta = _database_url(wanted, args.reload)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django

    django.setup()
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    print(f"national reconciliation benchmark: {args.enterprises} enterprises, {args.batteries:,} batteries, "
          f"{args.events:,} events requested; month {month:%Y-%m}; {os.cpu_count()} CPUs, {loadavg()}", flush=True)
    timed("migrate", call_command, "migrate", verbosity=0)  # on a cached dataset: builds any new index on it
    if meta:
        print(f"dataset cached (loaded {meta['loaded_at']} in {meta['load_seconds']:.0f} s); --reload to rebuild")
        planted = meta["planted"]
    else:
        start = time.perf_counter()
        planted = load(args.enterprises, args.batteries, args.events)
        seconds = time.perf_counter() - start
        print(f"  load: {seconds:.0f} s ({loadavg()})")
        with connection.cursor() as c:
            c.execute("CREATE TABLE IF NOT EXISTS bench_national_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
            c.execute("INSERT INTO bench_national_meta VALUES ('dataset', %s) ON CONFLICT (key) DO UPDATE "
                      "SET value = EXCLUDED.value",
                      [json.dumps({**wanted, "planted": planted, "load_seconds": seconds,
                                   "loaded_at": timezone.now().isoformat()})])
    with connection.cursor() as c:
        c.execute("SELECT (SELECT count(*) FROM batteries_battery), (SELECT count(*) FROM batteries_batteryevent),"
                  " (SELECT count(*) FROM batteries_batteryevent WHERE occurred_at >= %s AND occurred_at < %s)",
                  [m_start, m_end])
        n_bat, n_ev, n_month = c.fetchone()
        c.execute("DELETE FROM reconciliation_discrepancy")
    print(f"data: {n_bat:,} batteries, {n_ev:,} events ({n_month:,} in {month:%Y-%m}), {len(planted)} planted "
          f"discrepancies")

    bare = bare_aggregates(m_start, m_end)
    from apps.reconciliation.services import reconciliation_run

    timed("warm-up: a dry run (counts only, writes nothing)", reconciliation_run, actor=None, dry_run=True)
    per, total = run_reconciliation("full reconciliation, first run (inserts)")
    per2, total2 = run_reconciliation("full reconciliation, second run (updates)")
    from apps.reconciliation.checks import CHECKS

    print(f"{'check':<30}{'first run':>12}{'second run':>12}")
    for key in ["shared tables"] + [str(ch.kind) for ch in CHECKS] + ["close", "other"]:
        print(f"{key:<30}{per.get(key, 0) * 1000:9.0f} ms{per2.get(key, 0) * 1000:9.0f} ms")
    print(f"{'total':<30}{total * 1000:9.0f} ms{total2 * 1000:9.0f} ms")
    two, every = sum(sorted(bare.values())[-2:]), sum(bare.values())
    print(f"bare aggregates: two heaviest {two:.2f} s, all {every:.2f} s; full run / two heaviest = "
          f"{total / two:.2f} (second run {total2 / two:.2f}); full run / all = {total / every:.2f} "
          f"(second run {total2 / every:.2f}); target ≤ 2")
    one = timed("one enterprise's run (what a report's submission runs; a recycler)", reconciliation_run,
                actor=None, enterprise=5 * 12 + 4)
    print(f"    found {sum(one.counts.values())}")
    ok = compare(planted)
    print("planted discrepancies: " + ("every one found, nothing else" if ok else "MISMATCH"))
    if args.explain:
        explain_checks()
    if not args.no_dashboards:
        dashboards(args.requests)
    print(loadavg())


if __name__ == "__main__":
    main()
