"""A dismantler's due/overdue page lists the scrapping certificates whose batteries are still to be handed on, and
a recycler's the handovers awaiting its receipt (through the real scrapping and battery services)."""
from __future__ import annotations

import pytest

from apps.batteries import services as battery_services
from apps.scrapping import services as scrapping_services
from tests.scrapping.conftest import (  # noqa: F401 — fixtures
    VIN,
    carmaker,
    dismantler,
    maker,
    maker_co,
    nev,
    recycler,
    take_in,
)
from tests.web import page_text

pytestmark = pytest.mark.django_db
API = "/api/v1"


def test_pending_handover_then_awaiting_receipt(dismantler, recycler, nev, client_for, api_for):
    certificate = scrapping_services.scrapping_certificate_issue(
        actor=dismantler, intake_id=take_in(dismantler, VIN, [nev]).pk, number="ZB-Q-000777")
    page = client_for(dismantler).get("/deadlines/")
    assert certificate.number in page_text(page)
    due = api_for(dismantler).get(f"{API}/deadlines/due/").json()
    assert due["certificates_handover_open"] == 1 and due["certificates_handover_late"] == 0
    # Handed to the recycler: no longer pending for the dismantler, awaiting receipt at the recycler's.
    battery_services.battery_hand_over(actor=dismantler, code=nev, recipient=recycler.enterprise)
    assert certificate.number not in page_text(client_for(dismantler).get("/deadlines/"))
    text = page_text(client_for(recycler).get("/deadlines/"))
    assert nev in text
    assert api_for(recycler).get(f"{API}/deadlines/due/").json()["incoming_awaiting_receipt"] == 1
