"""Deadline personas and ledger set-ups. `carco` is a Fujian (35) vehicle maker that also makes its own packs
(manufacturer code 0DL), so it can register and install batteries by itself; `carmaker_staff` works there.
`late_install` records an installation at a chosen moment (the ledger stamps recorded_at with the clock, which the
helper sets), so that a test can put an event exactly on either side of its deadline."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.batteries import services as battery_services
from apps.batteries.vin import vin_check_digit
from apps.enterprises.models import ManufacturerCode, Membership
from tests.batteries.conftest import make_code
from tests.factories import EnterpriseFactory, MembershipFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
_vins = iter(range(1, 1_000_000))


def make_vin() -> str:
    body = f"LSVAB12C0K{next(_vins):07d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


@pytest.fixture
def carco(db):
    co = EnterpriseFactory(name="闽江汽车", roles=["vehicle_maker", "battery_maker"], province="35")
    ManufacturerCode.objects.create(code="0DL", enterprise=co)
    return co


@pytest.fixture
def carmaker_staff(carco):
    return MembershipFactory(enterprise=carco, role=Membership.Role.ADMIN, user__username="carla").user


@pytest.fixture
def late_install(carmaker_staff, monkeypatch):
    """install(occurred_on, recorded_on) -> battery code: registered and installed on `occurred_on`, both events
    recorded at 10:00 on `recorded_on` (Asia/Shanghai)."""

    def install(occurred_on: dt.date, recorded_on: dt.date, *, actor=None) -> str:
        actor = actor or carmaker_staff
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: at(recorded_on))
        try:
            code = make_code("0DL", day=dt.date(2026, 1, 5))
            battery_services.battery_register(actor=actor, code=code, occurred_at=at(occurred_on, 8))
            battery_services.battery_install(actor=actor, code=code, vin=make_vin(), occurred_at=at(occurred_on, 9))
        finally:
            monkeypatch.setattr(timezone, "now", real_now)
        return code

    return install
