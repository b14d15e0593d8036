"""Filing personas: Alice's enterprise (Fujian, 35) files monthly reports; Bob's (Shanghai, 31) must see none of
them; `reviewer` covers every province, `reviewer_gd` only Guangdong (44), `reviewer_fj` only Fujian."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.filings import services
from tests.factories import UserFactory


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


COUNTS = {"produced": 120, "installed": 80, "swapped_in": 0, "swapped_out": 0, "replaced": 2, "removed": 0,
          "handed_over": 5, "received": 1, "recycled": 0, "remanufactured": 0, "in_stock": 40}


@pytest.fixture
def reviewer_fj(db):
    return UserFactory(username="fj_rita", kind=User.Kind.REVIEWER, reviewer_provinces=["35"])


@pytest.fixture
def draft(alice):
    return services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)


@pytest.fixture
def submitted(alice, draft):
    return services.filing_submit(actor=alice, filing_id=draft.pk)


@pytest.fixture
def in_review(reviewer, submitted):
    return services.filing_claim(actor=reviewer, filing_id=submitted.pk)
