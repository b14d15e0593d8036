"""Enforcement personas: `reviewer` (rita, every province) drafts; `reviewer_fj` (Fujian only) is the second
reviewer for Alice's enterprise (Fujian, 35); `reviewer_gd` (Guangdong only) sees nothing of it; Bob's enterprise
(Shanghai) must see nothing of Alice's actions. Alice's enterprise has a battery with ledger events and a
discrepancy; Bob's has a battery of his own."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.batteries import services as battery_services
from apps.batteries.models import BatteryEvent
from apps.enforcement import services
from apps.enterprises.models import ManufacturerCode
from apps.reconciliation.models import Check, Discrepancy, Severity
from tests.batteries.conftest import make_code
from tests.factories import UserFactory

ALICE_CODE = make_code("0PA", serial=8810001)
BOB_CODE = make_code("0PB", serial=8810002)


@pytest.fixture
def reviewer_fj(db):
    return UserFactory(username="fj_rita", kind=User.Kind.REVIEWER, reviewer_provinces=["35"])


@pytest.fixture
def alice_events(alice_co, alice) -> list[int]:
    ManufacturerCode.objects.create(code="0PA", enterprise=alice_co)
    battery_services.battery_register(actor=alice, code=ALICE_CODE)
    return list(BatteryEvent.objects.filter(actor=alice_co).order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def bob_events(bob_co, bob) -> list[int]:
    bob_co.roles = ["battery_maker"]
    bob_co.save()
    ManufacturerCode.objects.create(code="0PB", enterprise=bob_co)
    battery_services.battery_register(actor=bob, code=BOB_CODE)
    return list(BatteryEvent.objects.filter(actor=bob_co).values_list("pk", flat=True))


def make_discrepancy(enterprise, *, figure="produced") -> Discrepancy:
    now = timezone.now()
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return Discrepancy.objects.create(enterprise=enterprise, period=month, kind=Check.REPORTED_VS_LEDGER,
                                      figure=figure, expected=10, found=12, severity=Severity.HIGH,
                                      codes=[ALICE_CODE], code_count=1, first_seen=now, last_seen=now)


@pytest.fixture
def alice_discrepancy(alice_co):
    return make_discrepancy(alice_co)


def in_days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def draft_args(enterprise, **overrides) -> dict:
    return {"enterprise_id": enterprise.pk, "kind": "order_to_correct", "facts": "三月产量少报2个电池包",
            "legal_basis": "《新能源汽车动力蓄电池回收利用管理暂行办法》", "deadline": in_days(30), **overrides}


@pytest.fixture
def draft(reviewer, alice_co, alice_events):
    return services.enforcement_action_create(actor=reviewer, event_ids=alice_events[:1], **draft_args(alice_co))


@pytest.fixture
def awaiting(reviewer, draft):
    return services.enforcement_action_submit(actor=reviewer, action_id=draft.pk)


@pytest.fixture
def issued(reviewer_fj, awaiting):
    return services.enforcement_action_approve(actor=reviewer_fj, action_id=awaiting.pk)
