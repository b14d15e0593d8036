"""Benchmark: a national-volume registration file through the upload's own code path, against its anchors.

    scripts/bench [--rows 1000000] [--lookups 2000]

Creates a fresh database `<name>_bench` next to DATABASE_URL's (or on the embedded server), migrates it, then:
  1. generates an N-row registration CSV (GB/T 34014 codes of one maker, capacity and weight);
  2. imports it through bulk_import_create + run_import (parse, validate, stage, apply, ledger events);
  3. anchors on the same rows: plain COPY into a table with only a primary key and the unique code; plain COPY
     into batteries_battery; Django bulk_create (on a sample, extrapolated);
  4. looks batteries up by code through the API (GET /api/v1/batteries/<code>/) and reports median and p99.
Prints batteries per second, peak memory (RSS of this process) and the ratios. Nothing here runs in CI.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL")
    if not base:
        from config.embedded import embedded_database_url

        base = embedded_database_url()
    import psycopg

    head, _, tail = base.rpartition("/")
    name, _, query = tail.partition("?")
    bench = f"{name}_bench"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench}"')
    return f"{head}/{bench}" + (f"?{query}" if query else "")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--bulk-create-sample", type=int, default=100_000)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    os.environ["API_THROTTLE_USER"] = "100000000/minute"  # the lookups measure latency, not the rate limit
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection, transaction

    from apps.accounts.models import User
    from apps.batteries.codes import encode_production_date
    from apps.batteries.imports.pipeline import run_import
    from apps.batteries.models import Battery, BatteryEvent, BulkImport
    from apps.batteries.services import bulk_import_create
    from apps.enterprises.models import Enterprise, ManufacturerCode, Membership
    from apps.enterprises.rules import uscc_expected_check_character

    body = "91350900MA2YBENCH"
    maker = Enterprise.objects.create(name="基准电池", uscc=body + uscc_expected_check_character(body), province="35",
                                      address="-", contact_name="-", contact_phone="-", contact_email="b@example.cn",
                                      roles=["battery_maker"], status="active")
    ManufacturerCode.objects.create(code="0BM", enterprise=maker)
    user = User.objects.create(username="bench", kind="company")
    Membership.objects.create(user=user, enterprise=maker, role="admin")

    day = encode_production_date(dt.date(2026, 3, 15))
    rng = random.Random(42)
    path = Path(tempfile.gettempdir()) / f"bench-register-{args.rows}.csv"
    t = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("电池编码,额定容量(kWh),重量(kg)\n")
        for i in range(1, args.rows + 1):
            chem = "E" if i % 3 else "B"
            f.write(f"0BMP{chem}{rng.randint(10, 99)}ABC{i % 10000:04d}{day}{i:07d},{rng.randint(40, 110)}.5,"
                    f"{rng.randint(300, 700)}\n")
    print(f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
    codes_sample = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for i, line in enumerate(f):
            if i % max(1, args.rows // args.lookups) == 0:
                codes_sample.append(line.split(",", 1)[0])

    # 1. the real code path
    with open(path, "rb") as f:
        upload = SimpleUploadedFile("bench.csv", f.read())
    t0 = time.perf_counter()
    with transaction.atomic():
        record = bulk_import_create(actor=user, kind="register", upload=upload)
    del upload
    run_import(record.pk)
    elapsed = time.perf_counter() - t0
    record.refresh_from_db()
    assert record.status == BulkImport.Status.SUCCEEDED, (record.status, record.errors[:5], record.message)
    n = Battery.objects.count()
    assert n == args.rows and BatteryEvent.objects.count() == args.rows
    e2e_rate = n / elapsed
    print(f"end-to-end import:        {elapsed:7.1f} s  {e2e_rate:10,.0f} batteries/s  (peak RSS {peak_rss_mb():.0f} MB)")

    # 2. anchors
    def copy_rate(table_sql: str, columns: str, line_fn) -> float:
        with connection.cursor() as cursor:
            cursor.execute(table_sql)
            t = time.perf_counter()
            with transaction.atomic():
                with cursor.copy(f"COPY {columns} FROM STDIN") as copy:
                    with open(path, encoding="utf-8") as f:
                        next(f)
                        buf = []
                        for i, line in enumerate(f):
                            buf.append(line_fn(i, line))
                            if len(buf) == 10000:
                                copy.write("".join(buf))
                                buf = []
                        copy.write("".join(buf))
            return args.rows / (time.perf_counter() - t)

    limit = copy_rate("DROP TABLE IF EXISTS anchor_min; CREATE TABLE anchor_min (id bigserial PRIMARY KEY, code varchar(24) UNIQUE)",
                      "anchor_min (code)", lambda i, line: line.split(",", 1)[0] + "\n")
    print(f"anchor COPY pk+unique:    {args.rows / limit:7.1f} s  {limit:10,.0f} rows/s  (the practical limit)")

    def battery_line(i, line):
        code, cap, weight = line.rstrip("\n").split(",")
        return (f"Z{code[1:]}\t{code[:3]}\t{code[3]}\t{code[4]}\t{code[5:7]}\t{code[7:14]}\t2026-03-15\t{code[17:]}\t{cap}\t{weight}\t"
                f"{maker.pk}\t{maker.pk}\tin_stock\tf\t1\t{'0' * 64}\tnow\tnow\n")

    own = copy_rate("SELECT 1", "batteries_battery (code, manufacturer_code, product_type, chemistry, spec_code, trace_code,"
                    " production_date, serial, capacity_kwh, weight_kg, maker_id, holder_id, status, is_waste, ledger_seq,"
                    " ledger_head, registered_at, updated_at)", battery_line)
    print(f"anchor COPY battery table:{args.rows / own:7.1f} s  {own:10,.0f} rows/s")

    sample = min(args.bulk_create_sample, args.rows)
    now = dt.datetime.now(dt.timezone.utc)
    objs = [Battery(code=f"Y{c[1:]}", manufacturer_code="0BM", product_type="P", chemistry="E", spec_code="11",
                    trace_code="ABC0000", production_date=dt.date(2026, 3, 15), serial=c[17:], maker=maker, holder=maker,
                    ledger_seq=1, ledger_head="0" * 64, registered_at=now, updated_at=now)
            for c in (f"X0BMPE11ABC0000{day}{i:07d}"[1:] for i in range(1, sample + 1))]
    t = time.perf_counter()
    with transaction.atomic():
        Battery.objects.bulk_create(objs, batch_size=5000)
    bulk_rate = sample / (time.perf_counter() - t)
    print(f"anchor bulk_create:       {sample / bulk_rate:7.1f} s  {bulk_rate:10,.0f} rows/s  (sample of {sample:,})")

    # 3. lookups through the API
    from django.test import Client

    # Through the API as an integrator calls it: an enterprise system with its API key.
    from apps.accounts.services import api_key_create

    with transaction.atomic():
        _key, secret = api_key_create(actor=user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    with connection.cursor() as cursor:
        # As autovacuum would after a bulk load: hint bits and the visibility map set, statistics fresh.
        cursor.execute("VACUUM (ANALYZE) batteries_battery")
        cursor.execute("VACUUM (ANALYZE) batteries_batteryevent")
    url = "/api/v1/batteries/{}/"
    status = client.get(url.format(codes_sample[0])).status_code
    if status != 200:
        print(f"API lookup skipped: GET {url.format(codes_sample[0])} answered {status}")
        codes_sample = []
    timings = [0.0]
    for code in codes_sample[: args.lookups]:
        t = time.perf_counter()
        response = client.get(url.format(code))
        timings.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    timings = timings[1:] or [0.0]
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]

    print()
    print(f"batteries in the table:   {Battery.objects.count():,}")
    print(f"end-to-end / COPY limit:  {e2e_rate / limit:6.1%}   (target ≥ 25 %)")
    print(f"end-to-end / own COPY:    {e2e_rate / own:6.1%}")
    print(f"end-to-end / bulk_create: {e2e_rate / bulk_rate:6.2f}x")
    print(f"peak memory (RSS):        {peak_rss_mb():6.0f} MB  (target ≤ 400 MB)")
    print(f"API lookup by code:       median {p50:.2f} ms, p99 {p99:.2f} ms over {len(timings)} lookups "
          f"(targets ≤ 3 ms, ≤ 10 ms; first status {status})")


if __name__ == "__main__":
    main()
