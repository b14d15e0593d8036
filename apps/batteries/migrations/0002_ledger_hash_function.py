"""The one definition of a ledger event's hash, used by services, bulk imports and the chain verifier.

hash = sha256(prev_hash | code | seq | kind | actor | counterparty | vehicle | occurred_at µs since epoch | details)
All inputs are rendered deterministically (jsonb's text form is canonical; the timestamp as an integer).
"""
from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION bt_ledger_hash(
    prev_hash text, code text, seq integer, kind text, actor_id bigint, counterparty_id bigint,
    vehicle_id bigint, occurred_at timestamptz, details jsonb
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|',
        prev_hash, code, seq::text, kind, actor_id::text,
        coalesce(counterparty_id::text, ''), coalesce(vehicle_id::text, ''),
        floor(extract(epoch FROM occurred_at) * 1000000)::bigint::text,
        coalesce(details, '{}'::jsonb)::text
    ), 'UTF8')), 'hex')
$$;
"""
DROP = "DROP FUNCTION IF EXISTS bt_ledger_hash(text, text, integer, text, bigint, bigint, bigint, timestamptz, jsonb);"


class Migration(migrations.Migration):
    dependencies = [("batteries", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
