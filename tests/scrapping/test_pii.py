"""The owner's identity number is never stored in full: after intakes through the service, the page, the API and a
bulk request (accepted and refused), no text column of any table of the database holds it — audit history,
idempotency records and task results included."""
from __future__ import annotations

import pytest
from django.db import connection

from apps.scrapping import rules
from tests.conftest import signed_in
from tests.scrapping.conftest import CONVENTIONAL_VIN, OWNER_ID, VIN, image_upload, intake_args, take_in

pytestmark = pytest.mark.django_db

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def tables_holding(needle: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("""SELECT table_schema, table_name, column_name FROM information_schema.columns
                          WHERE table_schema = current_schema() AND data_type = ANY(%s)""", [list(TEXT_TYPES)])
        columns = cursor.fetchall()
        found = []
        for schema, table, column in columns:
            cursor.execute(f'SELECT 1 FROM "{schema}"."{table}" WHERE "{column}"::text LIKE %s LIMIT 1',
                           [f"%{needle}%"])
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


def test_the_full_identity_number_is_in_no_table(dismantler, nev, api_for, settings):
    take_in(dismantler, VIN, [nev])
    page = signed_in(dismantler).post("/scrapping/intakes/new/", {
        "vin": CONVENTIONAL_VIN, "vehicle_kind": "other", "plate_number": "鄂A00001", "engine_number": "E1",
        "owner_id_kind": "resident_id", "owner_id_number": OWNER_ID, "declared_not_mortgaged": "on",
        "declared_not_stolen": "on", "photo_front": image_upload(), "photo_vin": image_upload("png")})
    assert page.status_code == 302
    client = api_for(dismantler)
    body = {k: v for k, v in intake_args(VIN, [nev]).items() if not k.startswith("photo")}
    refused = client.post("/api/v1/scrapping/intakes/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert refused.status_code == 409  # already taken in: the refusal is stored for replay
    bulk = client.post("/api/v1/scrapping/intakes/bulk/", [body, {**body, "owner_id_number": OWNER_ID[:-1] + "9"}],
                       format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert bulk.status_code == 400

    assert tables_holding(OWNER_ID) == []
    assert tables_holding(OWNER_ID[:14]) == []  # not even the date-of-birth part with the region
    # What is stored is the mask and the keyed hash, in the intake and its audit history.
    digest = rules.id_number_hash("resident_id", OWNER_ID, key=settings.PII_HASH_KEY)
    holding_digest = tables_holding(digest)
    assert "scrapping_scrappingintake.owner_id_hash" in holding_digest
    assert "scrapping_scrappingintakeevent.owner_id_hash" in holding_digest


def test_the_hash_is_keyed(settings):
    plain = rules.id_number_hash("resident_id", OWNER_ID, key="one key")
    assert plain != rules.id_number_hash("resident_id", OWNER_ID, key="another key")
    import hashlib

    assert plain != hashlib.sha256(OWNER_ID.encode()).hexdigest()
    with pytest.raises(ValueError):
        rules.id_number_hash("resident_id", OWNER_ID, key="")
