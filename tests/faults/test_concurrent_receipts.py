"""50 receipts of one battery at the same instant, as 50 HTTP requests with an API key against a live server on
PostgreSQL: exactly one succeeds, the 49 others get a clear conflict error, and the ledger has one receipt."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection, transaction

from apps.batteries import services
from apps.batteries.ledger import ledger_verify
from apps.batteries.models import Battery, BatteryEvent
from tests.api_helpers import make_key
from tests.batteries.conftest import make_code
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REQUESTS = 50


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("""SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                          AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()""")
        return cursor.fetchone()[0]


def test_fifty_simultaneous_receipts_exactly_one_wins(live_server, maker, carmaker):
    started = time.monotonic()
    code = make_code()
    services.battery_register(actor=maker, code=code)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    _, secret = make_key(carmaker)
    url = f"{live_server.url}/api/v1/batteries/{code}/receive/"
    outcomes: list = [None] * REQUESTS

    def receive(i: int) -> None:
        request = urllib.request.Request(url, data=b"{}", method="POST", headers={
            "Authorization": f"Api-Key {secret}", "Content-Type": "application/json", "Accept-Language": "en"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                outcomes[i] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            outcomes[i] = (exc.code, json.loads(exc.read() or b"{}"))
        except Exception as exc:  # noqa: BLE001 — reported below
            outcomes[i] = (None, repr(exc))

    threads = [threading.Thread(target=receive, args=(i,), daemon=True) for i in range(REQUESTS)]
    # Hold the battery's row lock (the "gate") until every request waits on it, then let them all go at once.
    # (as tests/batteries/test_concurrency.py does with threads calling the service)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM batteries_battery WHERE code = %s FOR UPDATE", [code])
        for thread in threads:  # connections trickle in (the test server's listen backlog is small); the gate
            thread.start()      # makes them contend at the same instant anyway
            time.sleep(0.02)
        wait_for(lambda: waiting_on_locks() >= REQUESTS, 90, f"{REQUESTS} requests blocked on the battery's lock")
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a request hangs"

    statuses = [status for status, _ in outcomes]
    assert statuses.count(200) == 1, outcomes
    losers = [(status, body) for status, body in outcomes if status != 200]
    assert len(losers) == REQUESTS - 1
    for status, body in losers:
        assert status == 409, (status, body)
        assert body["code"] == "not_the_recipient" and body["message"], body
        assert "not in transit to your enterprise" in body["message"], body
    battery = Battery.objects.get(code=code)
    assert (battery.status, battery.holder_id, battery.transit_to_id) == ("in_stock", carmaker.enterprise.pk, None)
    assert BatteryEvent.objects.filter(battery=battery, kind="received").count() == 1
    assert ledger_verify(battery_ids=[battery.pk]) == []
    print(f"\nconcurrent receipts: {REQUESTS} requests, 1 winner, {len(losers)} × 409; "
          f"test {time.monotonic() - started:.1f} s")
