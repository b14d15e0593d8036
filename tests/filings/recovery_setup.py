"""Recovery report personas: 湘江循环 (Hunan, 43), a licensed recycler (LFP and ternary, hydrometallurgy), whose
administrator is `carol`; `dave` administers an unlicensed recycler; Alice (a battery maker) is no recycler.
Imported by the recovery test modules: `from tests.filings.recovery_setup import *`-style named imports."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import EnterpriseFactory, LicenceFactory, MembershipFactory

# 1000 kg of ternary packs (typical fractions: Ni 7.6 %, Co 2.6 %, Mn 2.4 %, Li 1.5 %, Cu 7 %, Al 16 %) and
# 2000 kg of LFP (Li 1 %, Cu 8.5 %, Al 18 %): expected Ni 76, Co 26, Mn 24, Li 35, Cu 240, Al 520 kg.
INPUTS = {"E": "1000", "B": "2000"}
GOOD_OUTPUTS = {"ni": "75.5", "co": "25.9", "mn": "23.6", "li": "33", "cu": "200", "al": "450"}
# Ni 74 kg of 76 = 97.4 %: below the 98 % threshold.
LOW_OUTPUTS = {**GOOD_OUTPUTS, "ni": "74"}


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def recycler_co(db):
    co = EnterpriseFactory(name="湘江循环科技有限公司", roles=["recycler"], province="43")
    today = timezone.localdate()
    LicenceFactory(enterprise=co, scopes=["dismantling", "hydrometallurgy"], chemistries=["B", "E"],
                   valid_from=today - dt.timedelta(days=400), valid_to=today + dt.timedelta(days=400))
    return co


@pytest.fixture
def carol(recycler_co):
    from apps.enterprises.models import Membership

    return MembershipFactory(enterprise=recycler_co, role=Membership.Role.ADMIN, user__username="carol").user


@pytest.fixture
def dave(db):
    from apps.enterprises.models import Membership

    co = EnterpriseFactory(name="无证回收", roles=["recycler"], province="43")
    return MembershipFactory(enterprise=co, role=Membership.Role.ADMIN, user__username="dave").user


@pytest.fixture
def recovery_draft(carol):
    from apps.filings import recovery_services

    return recovery_services.recovery_report_create(actor=carol, month=last_month(), inputs=INPUTS,
                                                    outputs=LOW_OUTPUTS)
