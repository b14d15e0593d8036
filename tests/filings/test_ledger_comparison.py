"""The ledger side of a monthly report: events by the enterprise in the month (Asia/Shanghai), in one query."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.batteries import services as battery_services
from apps.filings import selectors, services
from tests.batteries.conftest import make_code, maker, maker_co  # noqa: F401 (fixtures)
from tests.filings.conftest import COUNTS

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_ledger_counts_follow_the_shanghai_month(maker, reviewer):
    day = dt.date(2026, 3, 1)
    for when in (at(2026, 3, 1, 0, 0), at(2026, 3, 31, 23, 30), at(2026, 3, 15, 12, 0),  # March
                 at(2026, 4, 1, 0, 30),  # April in Shanghai, still 31 March in UTC
                 at(2026, 2, 28, 23, 59)):  # February
        battery_services.battery_register(actor=maker, code=make_code(day=day if when.month > 2 else
                                                                      dt.date(2026, 2, 1)), occurred_at=when)
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.ledger_counts(enterprise_id=maker.enterprise.pk, month=dt.date(2026, 3, 1))
    assert counts == {"produced": 3}
    assert len(queries.captured_queries) == 1
    assert selectors.ledger_counts(enterprise_id=maker.enterprise.pk, month=dt.date(2026, 4, 1)) == {"produced": 1}

    filing = services.monthly_report_create(actor=maker, month=dt.date(2026, 3, 1), counts={**COUNTS, "produced": 3})
    services.filing_submit(actor=maker, filing_id=filing.pk)
    filing = selectors.filing_get(actor=reviewer, pk=filing.pk)
    rows = {row["name"]: row for row in selectors.monthly_report_comparison(filing)}
    assert (rows["produced"]["declared"], rows["produced"]["ledger"], rows["produced"]["differs"]) == (3, 3, False)
    assert (rows["installed"]["declared"], rows["installed"]["ledger"], rows["installed"]["differs"]) == (80, 0, True)
    assert rows["in_stock"]["ledger"] is None and not rows["in_stock"]["differs"]


def test_another_enterprises_events_are_not_counted(maker, alice):
    battery_services.battery_register(actor=maker, code=make_code(day=dt.date(2026, 3, 1)),
                                      occurred_at=at(2026, 3, 10, 9, 0))
    assert selectors.ledger_counts(enterprise_id=alice.enterprise.pk, month=dt.date(2026, 3, 1)) == {}
