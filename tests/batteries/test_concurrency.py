"""Concurrent attempts on one battery serialise on its row lock and exactly one wins (issue "battery digital
identity card"). Real threads, each with its own database connection, against real PostgreSQL.

To make the race certain rather than likely, the test itself first holds the contested row lock (the "gate"),
starts the threads together on a barrier, waits until every one of them is blocked on a lock in PostgreSQL, then
opens the gate: they all contend for the same row at the same instant.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from apps.batteries import services
from apps.batteries.ledger import ledger_verify
from apps.batteries.models import Battery, BatteryEvent
from apps.core.errors import DomainError
from tests.batteries.conftest import VIN, VIN2, make_code
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 10
TIMEOUT = 60  # seconds; far above PostgreSQL's deadlock_timeout, so a deadlock would surface as an error


def waiting_on_locks() -> int:
    """Backends of this database currently blocked on a lock (other than the caller)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("""SELECT count(*) FROM pg_stat_activity
                          WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()""")
        return cursor.fetchone()[0]


@contextmanager
def gate(lock_sql: str, params, *, waiters: int, rows: bool = True):
    """Hold a lock; the body starts the contenders; on leaving, wait until `waiters` of them are blocked, then
    release the lock so they all go at once."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(lock_sql, params)
            if rows:
                assert cursor.fetchall(), "the gate locked nothing"
        yield
        deadline = time.monotonic() + TIMEOUT
        while waiting_on_locks() < waiters:
            assert time.monotonic() < deadline, f"only {waiting_on_locks()} of {waiters} threads reached the lock"
            time.sleep(0.02)


def lock_batteries_sql(*codes):
    return "SELECT id FROM batteries_battery WHERE code = ANY(%s) ORDER BY id FOR UPDATE", [list(codes)]


class Race:
    """Run callables in threads that start together; collect ("ok", value) or ("error", exception)."""

    def __init__(self, calls):
        self.calls = list(calls)
        self.outcomes: list = [None] * len(self.calls)
        self.barrier = threading.Barrier(len(self.calls))
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(len(self.calls))]

    def _run(self, index):
        try:
            self.barrier.wait(timeout=TIMEOUT)
            self.outcomes[index] = ("ok", self.calls[index]())
        except BaseException as exc:  # noqa: BLE001 — reported by the test
            self.outcomes[index] = ("error", exc)
        finally:
            connection.close()

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def finish(self):
        for thread in self.threads:
            thread.join(timeout=TIMEOUT)
        assert not any(t.is_alive() for t in self.threads), "a thread is still running: deadlock or hang"
        return self.outcomes

    def winners(self):
        return [value for kind, value in self.outcomes if kind == "ok"]

    def errors(self):
        return [value for kind, value in self.outcomes if kind == "error"]


def error_codes(errors):
    """Every loser must have been refused by a rule, not by the database."""
    for exc in errors:
        assert isinstance(exc, DomainError), repr(exc)
    return {exc.code for exc in errors}


def event_count(code):
    return BatteryEvent.objects.filter(battery__code=code).count()


def warm(*users):
    """Load each user's membership in this thread, so threads share the cached rows read-only."""
    for user in users:
        assert user.enterprise is not None


def test_ten_simultaneous_receipts_exactly_one_wins(maker, carmaker):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
    warm(maker, carmaker)
    race = Race([lambda: services.battery_receive(actor=carmaker, code=code)] * THREADS)
    with gate(*lock_batteries_sql(code), waiters=THREADS):
        race.start()
    race.finish()
    assert len(race.winners()) == 1
    assert error_codes(race.errors()) == {"not_the_recipient"}
    assert len(race.errors()) == THREADS - 1
    battery = Battery.objects.get(code=code)
    assert (battery.status, battery.holder_id, battery.transit_to_id) == ("in_stock", carmaker.enterprise.pk, None)
    assert event_count(code) == 3
    assert list(BatteryEvent.objects.filter(battery=battery, kind="received").values_list("seq", flat=True)) == [3]
    assert ledger_verify() == []


def test_ten_simultaneous_handovers_to_different_recipients_exactly_one_wins(maker):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    recipients = [EnterpriseFactory(roles=["vehicle_maker"]) for _ in range(THREADS)]
    warm(maker)
    race = Race([lambda r=r: services.battery_hand_over(actor=maker, code=code, recipient=r) for r in recipients])
    with gate(*lock_batteries_sql(code), waiters=THREADS):
        race.start()
    race.finish()
    winners = race.winners()
    assert len(winners) == 1
    assert error_codes(race.errors()) == {"not_holder"}
    battery = Battery.objects.get(code=code)
    assert (battery.status, battery.transit_to_id) == ("in_transit", winners[0].transit_to_id)
    handed = BatteryEvent.objects.get(battery=battery, kind="handed_over")
    assert (handed.seq, handed.counterparty_id) == (2, battery.transit_to_id)
    assert event_count(code) == 2
    assert ledger_verify() == []


@pytest.fixture
def swap_scene(maker, carmaker, swapper):
    """`old` installed in VIN (a swap model); `new` in the swap operator's stock."""
    old, new = make_code(), make_code()
    for code in (old, new):
        services.battery_register(actor=maker, code=code)
    services.battery_hand_over(actor=maker, code=old, recipient=carmaker.enterprise)
    services.battery_receive(actor=carmaker, code=old)
    services.battery_install(actor=carmaker, code=old, vin=VIN, is_swap_model=True)
    services.battery_hand_over(actor=maker, code=new, recipient=swapper.enterprise)
    services.battery_receive(actor=swapper, code=new)
    warm(swapper)
    return old, new


def test_two_simultaneous_swaps_of_the_same_pair_one_wins_without_deadlock(swap_scene, swapper):
    old, new = swap_scene
    race = Race([lambda: services.battery_swap(actor=swapper, vin=VIN, out_code=old, in_code=new)] * 2)
    with gate(*lock_batteries_sql(old, new), waiters=2):
        race.start()
    race.finish()
    assert len(race.winners()) == 1
    assert error_codes(race.errors()) == {"not_in_this_vehicle"}
    assert Battery.objects.get(code=new).vehicle.vin == VIN
    assert Battery.objects.get(code=old).status == "in_stock"
    assert (event_count(old), event_count(new)) == (5, 4)
    assert ledger_verify() == []


def test_opposite_swaps_in_two_vehicles_lock_in_the_same_order(swap_scene, swapper, carmaker):
    """Thread 1 names (old, new), thread 2 names (new, old) at another vehicle: without a fixed lock order this
    is the textbook deadlock. The vehicles differ, so only the battery row locks order them."""
    old, new = swap_scene
    from apps.batteries.models import Vehicle

    Vehicle.objects.create(vin=VIN2, maker=carmaker.enterprise, is_swap_model=True)
    race = Race([
        lambda: services.battery_swap(actor=swapper, vin=VIN, out_code=old, in_code=new),
        lambda: services.battery_swap(actor=swapper, vin=VIN2, out_code=new, in_code=old),
    ])
    with gate(*lock_batteries_sql(old, new), waiters=2):
        race.start()
    outcomes = race.finish()
    assert outcomes[0][0] == "ok", outcomes
    assert outcomes[1][0] == "error" and error_codes([outcomes[1][1]]) == {"not_in_this_vehicle"}
    assert (event_count(old), event_count(new)) == (5, 4)
    assert ledger_verify() == []


def test_operations_on_different_batteries_do_not_block_each_other(maker):
    codes = [make_code() for _ in range(THREADS)]
    recipients = [EnterpriseFactory(roles=["collection_point"]) for _ in range(THREADS)]
    warm(maker)
    race = Race([lambda c=c, r=r: (services.battery_register(actor=maker, code=c),
                                   services.battery_declare_waste(actor=maker, code=c),
                                   services.battery_hand_over(actor=maker, code=c, recipient=r))
                 for c, r in zip(codes, recipients)]).start()
    race.finish()
    assert race.errors() == []
    assert sorted(Battery.objects.values_list("transit_to_id", flat=True)) == sorted(r.pk for r in recipients)
    assert BatteryEvent.objects.count() == 3 * THREADS
    assert ledger_verify() == []


def test_simultaneous_registrations_under_a_parent_serialise(maker):
    pack = make_code()
    services.battery_register(actor=maker, code=pack)
    module = make_code(product="M")
    warm(maker)
    race = Race([lambda: services.battery_register(actor=maker, code=module, parent_code=pack)] * THREADS)
    with gate(*lock_batteries_sql(pack), waiters=THREADS):
        race.start()
    race.finish()
    assert len(race.winners()) == 1
    assert error_codes(race.errors()) == {"battery_already_registered"}
    assert event_count(module) == 1
    assert ledger_verify() == []


def test_simultaneous_registrations_of_one_code_exactly_one_wins(maker):
    code = make_code()
    warm(maker)
    race = Race([lambda: services.battery_register(actor=maker, code=code)] * 2)
    # The gate locks the ledger table: the first thread inserts its Battery row and then waits to append the
    # event, while the second passes the exists() check (the first row is not committed) and waits on the unique
    # index. Both are past the duplicate check when the gate opens.
    with gate("LOCK TABLE batteries_batteryevent IN ACCESS EXCLUSIVE MODE", [], waiters=2, rows=False):
        race.start()
    race.finish()
    assert len(race.winners()) == 1
    assert error_codes(race.errors()) == {"battery_already_registered"}
    assert Battery.objects.filter(code=code).count() == 1
    assert ledger_verify() == []


def test_no_thread_left_a_connection_open(maker):
    """Each thread closes its own connection: after a race only this test's connection remains."""
    code = make_code()
    services.battery_register(actor=maker, code=code)
    warm(maker)
    race = Race([lambda: services.battery_declare_waste(actor=maker, code=code)] * THREADS).start()
    race.finish()
    assert len(race.winners()) == 1
    deadline = time.monotonic() + 10
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
            others = cursor.fetchone()[0]
        if others == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert others == 0
