"""Appending to the ledger and verifying it. The only code that writes BatteryEvent rows one at a time."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from apps.batteries.models import Battery, BatteryEvent

_APPEND_SQL = """
INSERT INTO batteries_batteryevent
    (battery_id, seq, kind, actor_id, counterparty_id, vehicle_id, occurred_at, recorded_at, recorded_by_id,
     details, prev_hash, hash)
SELECT %(battery)s, %(seq)s, %(kind)s, %(actor)s, %(counterparty)s, %(vehicle)s, %(occurred_at)s, %(recorded_at)s,
       %(user)s, %(details)s::jsonb, %(prev)s,
       bt_ledger_hash(%(prev)s, %(code)s, %(seq)s, %(kind)s, %(actor)s, %(counterparty)s, %(vehicle)s,
                      %(occurred_at)s, %(details)s::jsonb, %(user)s, %(recorded_at)s)
RETURNING id, hash
"""


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding), as PostgreSQL stores timestamps."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def ledger_hash_py(*, prev_hash: str, code: str, seq: int, kind: str, actor_id: int, counterparty_id: int | None,
                   vehicle_id: int | None, occurred_at: dt.datetime, details_text: str, recorded_by_id: int | None,
                   recorded_at: dt.datetime) -> str:
    """The Python twin of the SQL function bt_ledger_hash, for bulk loads that compute hashes while parsing.

    `details_text` must be PostgreSQL's own jsonb text form of the details (e.g. '{}' or '{"parent": "X"}');
    tests check both definitions agree, and ledger_verify recomputes every hash with the SQL one anyway."""
    text = "|".join((prev_hash, code, str(seq), kind, str(actor_id), "" if counterparty_id is None else str(counterparty_id),
                     "" if vehicle_id is None else str(vehicle_id), str(micros(occurred_at)), details_text,
                     "" if recorded_by_id is None else str(recorded_by_id), str(micros(recorded_at))))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ledger_append(*, battery: Battery, kind: str, actor_id: int, user_id: int | None = None,
                  counterparty_id: int | None = None, vehicle_id: int | None = None, occurred_at=None,
                  details: dict | None = None) -> int:
    """Append one event to a battery's chain. The caller holds the battery's row lock and saves the battery
    afterwards (this updates `ledger_seq` and `ledger_head` on the instance)."""
    seq = battery.ledger_seq + 1
    params = {
        "battery": battery.pk, "seq": seq, "kind": kind, "actor": actor_id, "counterparty": counterparty_id,
        "vehicle": vehicle_id, "occurred_at": occurred_at or timezone.now(), "user": user_id,
        "details": json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
        "prev": battery.ledger_head, "code": battery.code, "recorded_at": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, params)
        event_id, digest = cursor.fetchone()
    battery.ledger_seq = seq
    battery.ledger_head = digest
    return event_id


@dataclass(frozen=True)
class ChainBreak:
    battery_id: int
    code: str
    seq: int | None
    problem: str  # hash_mismatch | prev_hash_mismatch | seq_gap | head_mismatch | battery_missing


_VERIFY_SQL = """
WITH ordered AS (
    SELECT e.id, e.battery_id, e.seq, e.hash, e.prev_hash, b.code,
           bt_ledger_hash(e.prev_hash, b.code, e.seq, e.kind, e.actor_id, e.counterparty_id, e.vehicle_id,
                          e.occurred_at, e.details, e.recorded_by_id, e.recorded_at) AS recomputed,
           coalesce(lag(e.hash) OVER w, '') AS expected_prev,
           row_number() OVER w AS position
    FROM batteries_batteryevent e JOIN batteries_battery b ON b.id = e.battery_id
    {where}
    WINDOW w AS (PARTITION BY e.battery_id ORDER BY e.seq)
)
SELECT battery_id, code, seq,
       CASE WHEN hash <> recomputed THEN 'hash_mismatch'
            WHEN prev_hash <> expected_prev THEN 'prev_hash_mismatch'
            ELSE 'seq_gap' END
FROM ordered
WHERE hash <> recomputed OR prev_hash <> expected_prev OR seq <> position
UNION ALL
SELECT e.battery_id, '', e.seq, 'battery_missing'
FROM batteries_batteryevent e LEFT JOIN batteries_battery b ON b.id = e.battery_id
WHERE b.id IS NULL {orphan_where}
UNION ALL
SELECT b.id, b.code, NULL, 'head_mismatch'
FROM batteries_battery b
LEFT JOIN LATERAL (SELECT e.hash, e.seq FROM batteries_batteryevent e WHERE e.battery_id = b.id
                   ORDER BY e.seq DESC LIMIT 1) last ON true
{battery_where} (b.ledger_head <> coalesce(last.hash, '') OR b.ledger_seq <> coalesce(last.seq, 0))
LIMIT %(limit)s
"""


def ledger_verify(*, battery_ids: list[int] | None = None, limit: int = 10000) -> list[ChainBreak]:
    """Recompute every hash and link in set-based SQL; return the breaks found (empty list: all chains intact)."""
    params: dict = {"limit": limit}
    if battery_ids is not None:
        where, battery_where = "WHERE e.battery_id = ANY(%(ids)s)", "WHERE b.id = ANY(%(ids)s) AND"
        orphan_where = "AND e.battery_id = ANY(%(ids)s)"
        params["ids"] = list(battery_ids)
    else:
        where, battery_where, orphan_where = "", "WHERE", ""
    with connection.cursor() as cursor:
        cursor.execute(_VERIFY_SQL.format(where=where, battery_where=battery_where, orphan_where=orphan_where), params)
        return [ChainBreak(*row) for row in cursor.fetchall()]


def event_list(battery: Battery):
    return BatteryEvent.objects.filter(battery=battery).select_related("actor", "counterparty", "vehicle").order_by("seq")
