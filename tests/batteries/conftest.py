"""Battery personas: a battery maker, a vehicle maker, a swap operator, a repairer, a collection point, a dismantler,
a licensed recycler and an unlicensed one; each with one staff user."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.batteries.codes import encode_production_date
from apps.enterprises.models import ManufacturerCode, Membership
from tests.factories import EnterpriseFactory, LicenceFactory, MembershipFactory

_serials = iter(range(1, 10_000_000))


def make_code(mfr: str = "0PA", *, product: str = "P", chem: str = "E", day: dt.date | None = None,
              serial: int | None = None) -> str:
    day = day or dt.date(2026, 3, 15)
    return f"{mfr}{product}{chem}01ABCDEFG{encode_production_date(day)}{serial or next(_serials):07d}"


def staff(enterprise, username):
    return MembershipFactory(enterprise=enterprise, role=Membership.Role.ADMIN, user__username=username).user


@pytest.fixture
def maker_co(db):
    co = EnterpriseFactory(name="闽东动力电池", roles=["battery_maker"], province="35")
    ManufacturerCode.objects.create(code="0PA", enterprise=co)
    return co


@pytest.fixture
def maker(maker_co):
    return staff(maker_co, "maker")


@pytest.fixture
def rival_maker(db):
    co = EnterpriseFactory(name="别家电池", roles=["battery_maker"], province="34")
    ManufacturerCode.objects.create(code="1KC", enterprise=co)
    return staff(co, "rival")


@pytest.fixture
def carmaker(db):
    return staff(EnterpriseFactory(name="申城汽车", roles=["vehicle_maker"], province="31"), "carmaker")


@pytest.fixture
def swapper(db):
    return staff(EnterpriseFactory(name="京畿换电", roles=["swap_operator"], province="11"), "swapper")


@pytest.fixture
def repairer(db):
    return staff(EnterpriseFactory(name="羊城维修", roles=["repairer"], province="44"), "repairer")


@pytest.fixture
def collector(db):
    return staff(EnterpriseFactory(name="苏南回收网点", roles=["collection_point"], province="32"), "collector")


@pytest.fixture
def dismantler(db):
    return staff(EnterpriseFactory(name="江城拆解", roles=["dismantler"], province="42"), "dismantler")


@pytest.fixture
def recycler(db):
    co = EnterpriseFactory(name="湘江循环", roles=["recycler"], province="43")
    today = timezone.localdate()
    LicenceFactory(enterprise=co, number="HB-T-1", scopes=["dismantling", "hydrometallurgy", "repurposing"],
                   chemistries=["B", "E"], valid_from=today - dt.timedelta(days=365), valid_to=today + dt.timedelta(days=365))
    ManufacturerCode.objects.create(code="9RX", enterprise=co)
    co.roles = ["recycler", "battery_maker"]
    co.save()
    return staff(co, "recycler")


@pytest.fixture
def unlicensed_recycler(db):
    return staff(EnterpriseFactory(name="无证回收", roles=["recycler"], province="43"), "unlicensed")


VIN = "LSVAU218XN2183294"
VIN2 = "LGXC16DF3N0000001"
VIN3 = "LRWYGCEK4NC000001"
