"""Explanation set-ups: one of Alice's reconciliation discrepancies, one of Bob's, and (through the scrapping
services) a blocked intake of the dismantler 江城拆解 (Hubei) whose vehicle came in without its battery."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.scrapping.conftest import (  # noqa: F401 — fixtures
    VIN,
    carmaker,
    dismantler,
    maker,
    maker_co,
    nev,
    take_in,
)


def make_discrepancy(enterprise, *, status="open", expected=120, found=118, figure="produced"):
    from apps.reconciliation.models import Check, Discrepancy, Severity

    now = timezone.now()
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return Discrepancy.objects.create(enterprise=enterprise, period=month, kind=Check.REPORTED_VS_LEDGER,
                                      figure=figure, expected=expected, found=found, severity=Severity.MEDIUM,
                                      codes=["0PAPE01ABCDEFGT3F0000001"], code_count=1, status=status,
                                      first_seen=now, last_seen=now,
                                      closed_at=now if status == "resolved" else None)


@pytest.fixture
def alice_discrepancy(alice_co):
    return make_discrepancy(alice_co)


@pytest.fixture
def bob_discrepancy(bob_co):
    return make_discrepancy(bob_co)


@pytest.fixture
def blocked_intake(dismantler, nev):
    intake = take_in(dismantler, VIN, [])
    assert intake.status == "blocked"
    return intake
