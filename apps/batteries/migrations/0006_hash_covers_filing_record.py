"""The event hash also covers who filed the event and when (recorded_by, recorded_at): rewriting the filing
record is then as detectable as rewriting the event itself.

Canonical text: prev | code | seq | kind | actor | counterparty | vehicle | occurred µs | details | recorded_by |
recorded µs. (No ledger rows exist before this migration in any deployment.)"""
from django.db import migrations

CREATE = r"""
DROP FUNCTION IF EXISTS bt_ledger_hash(text, text, integer, text, bigint, bigint, bigint, timestamptz, jsonb);
CREATE OR REPLACE FUNCTION bt_ledger_hash(
    prev_hash text, code text, seq integer, kind text, actor_id bigint, counterparty_id bigint,
    vehicle_id bigint, occurred_at timestamptz, details jsonb, recorded_by_id bigint, recorded_at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|',
        prev_hash, code, seq::text, kind, actor_id::text,
        coalesce(counterparty_id::text, ''), coalesce(vehicle_id::text, ''),
        floor(extract(epoch FROM occurred_at) * 1000000)::bigint::text,
        coalesce(details, '{}'::jsonb)::text,
        coalesce(recorded_by_id::text, ''),
        floor(extract(epoch FROM recorded_at) * 1000000)::bigint::text
    ), 'UTF8')), 'hex')
$$;
"""
DROP = "DROP FUNCTION IF EXISTS bt_ledger_hash(text, text, integer, text, bigint, bigint, bigint, timestamptz, jsonb, bigint, timestamptz);"


class Migration(migrations.Migration):
    dependencies = [("batteries", "0005_ledger_battery_reference")]
    operations = [migrations.RunSQL(CREATE, DROP)]
