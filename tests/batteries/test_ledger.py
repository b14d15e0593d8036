"""The ledger as a hash chain: every event links to the previous one of its battery, the Battery row's head
matches the last event, the verifier finds every kind of tampering, and the database itself refuses to change
or remove a ledger row. Also the `ledger_verify` management command and the nightly Celery task."""
from __future__ import annotations

import io
import logging
import re
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.db.utils import DatabaseError

from apps.batteries import services
from apps.batteries.ledger import ChainBreak, ledger_verify
from apps.batteries.models import Battery, BatteryEvent
from apps.batteries.tasks import ledger_verify_all
from tests.batteries.conftest import VIN, make_code

pytestmark = pytest.mark.django_db


@contextmanager
def tampering():
    """What an attacker with table-owner privileges can do: switch the append-only trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE batteries_batteryevent DISABLE TRIGGER USER")
        yield cursor
        cursor.execute("ALTER TABLE batteries_batteryevent ENABLE TRIGGER USER")


def give(sender, recipient, code):
    services.battery_hand_over(actor=sender, code=code, recipient=recipient.enterprise)
    services.battery_receive(actor=recipient, code=code)


@pytest.fixture
def history(maker, carmaker, swapper, dismantler, recycler):
    """A realistic history over four batteries: production, sale, installation, swap, dismantling, waste,
    handover to the recycler, recycling and remanufacturing. Returns the codes."""
    first, spare, loose = make_code(), make_code(), make_code(chem="B")
    for code in (first, spare, loose):
        services.battery_register(actor=maker, code=code)
    give(maker, carmaker, first)
    services.battery_install(actor=carmaker, code=first, vin=VIN, is_swap_model=True)
    give(maker, swapper, spare)
    services.battery_swap(actor=swapper, vin=VIN, out_code=first, in_code=spare)
    services.battery_remove(actor=dismantler, code=spare, vin=VIN)
    services.battery_declare_waste(actor=dismantler, code=spare)
    give(dismantler, recycler, spare)
    services.battery_recycle(actor=recycler, code=spare, input_weight_kg="400")
    services.battery_declare_waste(actor=swapper, code=first)
    give(swapper, recycler, first)
    product = services.battery_remanufacture(actor=recycler, source_codes=[first], new_code=make_code("9RX"),
                                             field_of_use="energy_storage", standard_number="GB/T 36276-2018")
    return {"first": first, "spare": spare, "loose": loose, "product": product.code}


def chain(code):
    return list(BatteryEvent.objects.filter(battery__code=code).order_by("seq"))


def breaks():
    return sorted((b.code, b.seq or 0, b.problem) for b in ledger_verify())


# --- the chain ------------------------------------------------------------------------------------------------


def test_after_a_realistic_history_the_ledger_is_intact(history):
    assert ledger_verify() == []
    assert [e.kind for e in chain(history["spare"])] == [
        "produced", "handed_over", "received", "swapped_in", "removed", "declared_waste", "handed_over", "received",
        "recycled"]
    assert [e.kind for e in chain(history["first"])] == [
        "produced", "handed_over", "received", "installed", "swapped_out", "declared_waste", "handed_over", "received",
        "remanufactured"]


def test_each_event_links_to_the_previous_one_and_the_battery_row_to_the_last(history):
    all_hashes = []
    for battery in Battery.objects.all():
        events = chain(battery.code)
        assert events, battery.code
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].prev_hash == ""
        for previous, event in zip(events, events[1:]):
            assert event.prev_hash == previous.hash
        for event in events:
            assert re.fullmatch(r"[0-9a-f]{64}", event.hash)
        assert (battery.ledger_seq, battery.ledger_head) == (events[-1].seq, events[-1].hash)
        all_hashes += [e.hash for e in events]
    assert len(all_hashes) == len(set(all_hashes)) == BatteryEvent.objects.count()


def test_the_stored_hash_is_the_sql_functions(history):
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM batteries_batteryevent e JOIN batteries_battery b ON b.id = e.battery_id
            WHERE e.hash = bt_ledger_hash(e.prev_hash, b.code, e.seq, e.kind, e.actor_id, e.counterparty_id,
                                          e.vehicle_id, e.occurred_at, e.details, e.recorded_by_id, e.recorded_at)""")
        assert cursor.fetchone()[0] == BatteryEvent.objects.count()


def test_identical_events_of_two_batteries_hash_differently(maker):
    a = services.battery_register(actor=maker, code=make_code())
    b = services.battery_register(actor=maker, code=make_code())
    assert a.ledger_head != b.ledger_head  # the code is part of the hash


def test_the_instance_returned_by_a_service_carries_the_new_head(maker, carmaker):
    battery = services.battery_hand_over(actor=maker, code=services.battery_register(actor=maker, code=make_code()).code,
                                         recipient=carmaker.enterprise)
    fresh = Battery.objects.get(pk=battery.pk)
    assert (battery.ledger_seq, battery.ledger_head) == (fresh.ledger_seq, fresh.ledger_head) == (
        2, chain(battery.code)[-1].hash)


# --- the verifier ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column, value", [
    ("details", "'{\"reason\": \"forged\"}'::jsonb"),
    ("kind", "'recycled'"),
    ("occurred_at", "occurred_at - interval '1 day'"),
    ("occurred_at", "occurred_at + interval '1 microsecond'"),
    ("counterparty_id", "actor_id"),
    ("vehicle_id", "NULL"),
    ("actor_id", "counterparty_id"),
])
def test_the_verifier_finds_a_rewritten_field(history, column, value):
    target = chain(history["first"])[3]  # installed: has an actor, a counterparty-less row, a vehicle
    if column == "counterparty_id":
        target = chain(history["first"])[1]  # handed over: has a counterparty
    if column == "actor_id":
        target = chain(history["first"])[2]  # received: counterparty is the sender
    with tampering() as cursor:
        cursor.execute(f"UPDATE batteries_batteryevent SET {column} = {value} WHERE id = %s", [target.pk])
    assert breaks() == [(history["first"], target.seq, "hash_mismatch")]


def test_a_rewritten_event_with_a_recomputed_hash_breaks_the_next_link(history):
    events = chain(history["first"])
    target = events[4]
    with tampering() as cursor:
        cursor.execute("""
            UPDATE batteries_batteryevent e SET details = '{"forged": true}',
                hash = bt_ledger_hash(e.prev_hash, b.code, e.seq, e.kind, e.actor_id, e.counterparty_id,
                                      e.vehicle_id, e.occurred_at, '{"forged": true}'::jsonb, e.recorded_by_id, e.recorded_at)
            FROM batteries_battery b WHERE b.id = e.battery_id AND e.id = %s""", [target.pk])
    assert breaks() == [(history["first"], target.seq + 1, "prev_hash_mismatch")]


def test_a_rewritten_last_event_with_a_recomputed_hash_breaks_the_head(history):
    last = chain(history["spare"])[-1]
    with tampering() as cursor:
        cursor.execute("""
            UPDATE batteries_batteryevent e SET details = '{"input_weight_kg": "1"}',
                hash = bt_ledger_hash(e.prev_hash, b.code, e.seq, e.kind, e.actor_id, e.counterparty_id,
                                      e.vehicle_id, e.occurred_at, '{"input_weight_kg": "1"}'::jsonb, e.recorded_by_id,
                                      e.recorded_at)
            FROM batteries_battery b WHERE b.id = e.battery_id AND e.id = %s""", [last.pk])
    assert breaks() == [(history["spare"], 0, "head_mismatch")]


def test_the_verifier_finds_a_deleted_event(history):
    victim = chain(history["spare"])[5]  # declared_waste
    with tampering() as cursor:
        cursor.execute("DELETE FROM batteries_batteryevent WHERE id = %s", [victim.pk])
    found = ledger_verify()
    assert {(b.code, b.seq) for b in found} >= {(history["spare"], victim.seq + 1)}
    assert {b.problem for b in found} <= {"prev_hash_mismatch", "seq_gap"}


def test_the_verifier_finds_a_deleted_last_event(history):
    victim = chain(history["spare"])[-1]
    with tampering() as cursor:
        cursor.execute("DELETE FROM batteries_batteryevent WHERE id = %s", [victim.pk])
    assert breaks() == [(history["spare"], 0, "head_mismatch")]


def test_a_deletion_with_relinked_hashes_still_shows_as_a_seq_gap(history):
    """The attacker deletes an event and re-links the rest of the chain and the head: only the gap remains."""
    events = chain(history["spare"])
    victim, tail = events[5], events[6:]
    with tampering() as cursor:
        cursor.execute("DELETE FROM batteries_batteryevent WHERE id = %s", [victim.pk])
        prev = events[4].hash
        for event in tail:
            cursor.execute("""
                UPDATE batteries_batteryevent e SET prev_hash = %(prev)s,
                    hash = bt_ledger_hash(%(prev)s, b.code, e.seq, e.kind, e.actor_id, e.counterparty_id,
                                          e.vehicle_id, e.occurred_at, e.details, e.recorded_by_id, e.recorded_at)
                FROM batteries_battery b WHERE b.id = e.battery_id AND e.id = %(id)s RETURNING e.hash""",
                           {"prev": prev, "id": event.pk})
            prev = cursor.fetchone()[0]
        cursor.execute("UPDATE batteries_battery SET ledger_head = %s WHERE code = %s", [prev, history["spare"]])
    assert breaks() == [(history["spare"], seq, "seq_gap") for seq in range(victim.seq + 1, events[-1].seq + 1)]


def test_the_verifier_finds_a_battery_head_that_does_not_match(history):
    with connection.cursor() as cursor:  # the Battery row is a projection: not protected, but checked
        cursor.execute("UPDATE batteries_battery SET ledger_head = repeat('0', 64) WHERE code = %s", [history["loose"]])
        cursor.execute("UPDATE batteries_battery SET ledger_seq = ledger_seq + 1 WHERE code = %s", [history["first"]])
    assert breaks() == sorted([(history["loose"], 0, "head_mismatch"), (history["first"], 0, "head_mismatch")])


def test_the_verifier_can_be_limited_to_some_batteries_and_a_number_of_breaks(history):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE batteries_battery SET ledger_head = 'x' WHERE code IN (%s, %s)",
                       [history["loose"], history["first"]])
    ids = dict(Battery.objects.values_list("code", "id"))
    assert ledger_verify(battery_ids=[ids[history["spare"]], ids[history["product"]]]) == []
    assert ledger_verify(battery_ids=[ids[history["loose"]]]) == [
        ChainBreak(ids[history["loose"]], history["loose"], None, "head_mismatch")]
    assert len(ledger_verify()) == 2
    assert len(ledger_verify(limit=1)) == 1


@pytest.mark.parametrize("column, value", [("recorded_by_id", "NULL"), ("recorded_at", "recorded_at - interval '30 days'")])
def test_the_verifier_finds_a_rewritten_filing_record(history, column, value):
    target = chain(history["first"])[1]
    with tampering() as cursor:
        cursor.execute(f"UPDATE batteries_batteryevent SET {column} = {value} WHERE id = %s", [target.pk])
    assert breaks() == [(history["first"], target.seq, "hash_mismatch")]


def test_a_truncated_ledger_is_refused_or_detected(history):
    """The append-only trigger covers UPDATE and DELETE, not TRUNCATE: if the database lets a table owner empty
    the ledger, every battery's head must then fail to match."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE batteries_batteryevent")
            truncated = True
            assert breaks() == sorted((code, 0, "head_mismatch") for code in history.values())
            raise _Undo()
    except _Undo:
        pass
    except DatabaseError:
        truncated = False
    assert truncated or BatteryEvent.objects.count() == 20


class _Undo(Exception):
    pass


# --- the database refuses changes -----------------------------------------------------------------------------


@pytest.mark.parametrize("sql", [
    "UPDATE batteries_batteryevent SET details = '{}' WHERE seq = 1",
    "UPDATE batteries_batteryevent SET hash = hash",
    "DELETE FROM batteries_batteryevent WHERE seq > 1",
    "DELETE FROM batteries_batteryevent",
])
def test_raw_sql_cannot_change_the_ledger(history, sql):
    before = list(BatteryEvent.objects.order_by("pk").values())
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert list(BatteryEvent.objects.order_by("pk").values()) == before


def test_the_orm_cannot_change_the_ledger(history):
    before = list(BatteryEvent.objects.order_by("pk").values())
    event = chain(history["first"])[0]
    attempts = [
        lambda: BatteryEvent.objects.filter(pk=event.pk).update(kind="recycled"),
        lambda: BatteryEvent.objects.all().update(details={}),
        lambda: BatteryEvent.objects.filter(battery__code=history["first"]).delete(),
        lambda: BatteryEvent.objects.all().delete(),
        lambda: event.delete(),
        lambda: BatteryEvent.objects.bulk_update([event], ["details"]),
    ]

    def save_changed():
        event.details = {"forged": True}
        event.save()

    for attempt in [*attempts, save_changed]:
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert list(BatteryEvent.objects.order_by("pk").values()) == before
    assert ledger_verify() == []


def test_a_battery_with_a_ledger_cannot_be_deleted(history):
    with pytest.raises((ProtectedError, DatabaseError)), transaction.atomic():
        Battery.objects.get(code=history["loose"]).delete()
    assert Battery.objects.filter(code=history["loose"]).exists()


def test_the_trigger_is_back_after_tampering(history):
    with tampering():
        pass
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        BatteryEvent.objects.all().update(details={})


# --- the management command -----------------------------------------------------------------------------------


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger_verify", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_the_command_reports_an_intact_ledger(history):
    output = run_command()
    events, chains = BatteryEvent.objects.count(), Battery.objects.count()
    assert (events, chains) == (9 + 9 + 1 + 1, 4)
    assert f"ledger intact: {events} events in {chains} chains" in output


def test_the_command_on_an_empty_ledger(db):
    assert "ledger intact: 0 events in 0 chains" in run_command()


def test_the_command_can_check_single_batteries(history):
    output = run_command("--code", history["loose"], "--code", history["product"].lower())
    assert "ledger intact: 2 events in 2 chains" in output
    with pytest.raises(CommandError, match="unknown battery code"):
        run_command("--code", make_code())


def test_the_command_lists_each_break_and_exits_with_status_1(history):
    first = chain(history["first"])
    with tampering() as cursor:
        cursor.execute("UPDATE batteries_batteryevent SET details = '{\"forged\": 1}' WHERE id = %s", [first[2].pk])
        cursor.execute("UPDATE batteries_battery SET ledger_head = 'x' WHERE code = %s", [history["loose"]])
    out = io.StringIO()
    with pytest.raises(CommandError) as err:
        call_command("ledger_verify", stdout=out, stderr=io.StringIO())
    assert err.value.returncode == 1
    assert "2 break" in str(err.value)
    lines = out.getvalue().splitlines()
    assert f"chain break: {history['first']} #3 hash_mismatch" in lines
    assert f"chain break: {history['loose']} head head_mismatch" in lines
    assert not any("ledger intact" in line for line in lines)
    # a single intact battery still passes
    assert "ledger intact: 9 events in 1 chains" in run_command("--code", history["spare"])


def test_the_command_exits_with_status_1_from_the_shell(history, monkeypatch):
    from django.core.management import ManagementUtility
    from django.core.management import base

    # run_from_argv closes every connection when it ends; keep the test's transaction open.
    monkeypatch.setattr(base.connections, "close_all", lambda: None)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE batteries_battery SET ledger_head = 'x' WHERE code = %s", [history["loose"]])
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "ledger_verify"]).execute()
    assert exit_info.value.code == 1


# --- the nightly task -----------------------------------------------------------------------------------------


def test_the_task_returns_zero_on_an_intact_ledger(history):
    assert ledger_verify_all.delay().get(timeout=10) == 0


def test_the_task_counts_and_logs_breaks(history, caplog):
    with tampering() as cursor:
        cursor.execute("UPDATE batteries_batteryevent SET kind = 'produced' WHERE id = %s", [chain(history["spare"])[3].pk])
        cursor.execute("UPDATE batteries_battery SET ledger_seq = 99 WHERE code = %s", [history["loose"]])
    with caplog.at_level(logging.ERROR, logger="batterytrace.ledger"):
        assert ledger_verify_all.delay().get(timeout=10) == 2
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "batterytrace.ledger")
    assert f"{history['spare']} #4 hash_mismatch" in logged and history["loose"] in logged
