"""Exports of the scrapping lists and the battery search: same scope and filters as the pages, no owner's
identity number, cells neutralised (apps.core.exports)."""
from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import signed_in
from tests.scrapping.conftest import OWNER_ID, VIN, take_in

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_intake_exports_keep_the_scope_and_hide_the_owner(dismantler, dismantler2, reviewer, reviewer_gd, nev):
    take_in(dismantler, codes=[])  # the pack is missing: blocked, an enforcement lead
    own = csv_rows(signed_in(dismantler).get("/scrapping/intakes/?export=csv"))
    assert [row[0] for row in own[1:]] == [VIN]
    assert OWNER_ID not in str(own)
    assert csv_rows(signed_in(dismantler2).get("/scrapping/intakes/?export=csv"))[1:] == []
    client = signed_in(reviewer)
    assert [row[0] for row in csv_rows(client.get("/scrapping/leads/?export=csv"))[1:]] == [VIN]
    assert csv_rows(client.get("/scrapping/leads/?province=44&export=csv"))[1:] == []  # the page's filter
    assert csv_rows(signed_in(reviewer_gd).get("/scrapping/leads/?export=csv"))[1:] == []


def test_certificate_export_is_scoped(dismantler, dismantler2):
    assert len(csv_rows(signed_in(dismantler).get("/scrapping/certificates/?export=csv"))[0]) == 6
    assert csv_rows(signed_in(dismantler2).get("/scrapping/certificates/?export=csv"))[1:] == []


def test_battery_export_follows_the_search_and_the_scope(maker, carmaker, reviewer, reviewer_gd, nev):
    client = signed_in(reviewer)
    rows = csv_rows(client.get(f"/batteries/?q={nev}&export=csv"))
    assert [row[0] for row in rows[1:]] == [nev]
    assert csv_rows(client.get("/batteries/?q=XXXXXXXX&export=csv"))[1:] == []
    assert nev not in str(csv_rows(signed_in(reviewer_gd).get("/batteries/?export=csv")))
    xlsx = signed_in(maker).get("/batteries/?export=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
