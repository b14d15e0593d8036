"""Reconciliation scenarios are built through the real services, with the battery personas; `run` performs a full
reconciliation and returns what it found as plain tuples (check, enterprise, period, figure, expected, found,
codes)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.reconciliation.models import Discrepancy
from apps.reconciliation.services import reconciliation_run
from tests.batteries.conftest import (  # noqa: F401 (fixtures)
    carmaker,
    collector,
    dismantler,
    maker,
    maker_co,
    recycler,
)


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def open_discrepancies() -> list[tuple]:
    return sorted(
        (d.kind, d.enterprise_id, d.period, d.figure, d.expected, d.found, tuple(d.codes))
        for d in Discrepancy.objects.filter(status="open"))


@pytest.fixture
def run():
    def go(**kwargs) -> list[tuple]:
        reconciliation_run(**kwargs)
        return open_discrepancies()

    return go
