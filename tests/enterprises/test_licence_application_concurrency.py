"""Two administrators approve two overlapping licence applications of one recycler at the same instant: the grant
inside each approval locks the enterprise row (ADR 0003), so exactly one licence is granted and the other approval
is refused by the overlap rule, its filing left in review. Real threads against real PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.enterprises.models import Membership, RecyclerLicence
from apps.enterprises.services import licence_application_create
from apps.filings import services as filing_services
from apps.filings.models import Filing
from tests.batteries.test_concurrency import Race, error_codes, gate, warm
from tests.factories import EnterpriseFactory, MembershipFactory, UserFactory, pdf_upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_overlapping_applications_approved_at_once_grant_one_licence(admin_user):
    today = timezone.localdate()
    recycler_co = EnterpriseFactory(province="35", roles=["recycler"])
    staff = MembershipFactory(enterprise=recycler_co, role=Membership.Role.ADMIN).user
    second_admin = UserFactory(username="admin2", kind=User.Kind.ADMIN)
    filings = []
    for number, start in (("RACE-1", today), ("RACE-2", today + dt.timedelta(days=30))):
        filing = licence_application_create(actor=staff, document=pdf_upload(), data={
            "number": number, "scopes": ["dismantling"], "chemistries": ["E"], "annual_capacity_tonnes": "100",
            "valid_from": start, "valid_to": start + dt.timedelta(days=365), "address": "福州市1号"})
        filing_services.filing_submit(actor=staff, filing_id=filing.pk)
        filings.append(filing)
    for admin, filing in zip((admin_user, second_admin), filings):
        filing_services.filing_claim(actor=admin, filing_id=filing.pk)
    warm(staff)
    race = Race([lambda a=admin, f=filing: filing_services.filing_approve(actor=a, filing_id=f.pk)
                 for admin, filing in zip((admin_user, second_admin), filings)])
    with gate("SELECT id FROM enterprises_enterprise WHERE id = %s FOR UPDATE", [recycler_co.pk], waiters=2):
        race.start()
    race.finish()
    assert len(race.winners()) == 1, race.outcomes
    assert error_codes(race.errors()) == {"licence_overlap"}
    assert RecyclerLicence.objects.filter(enterprise=recycler_co).count() == 1
    assert sorted(Filing.objects.filter(pk__in=[f.pk for f in filings]).values_list("status", flat=True)) == [
        "approved", "in_review"]
