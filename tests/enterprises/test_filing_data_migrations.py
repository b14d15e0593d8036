"""The data migration of ADR 0016: applications still under review get their registration filing (and only
they; running twice files nothing twice). The intakes' one is tested in tests/scrapping/test_mismatch_filing.py."""
from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from apps.enterprises.models import EnterpriseRegistration, Membership
from tests.factories import EnterpriseFactory, MembershipFactory

pytestmark = pytest.mark.django_db

registrations = importlib.import_module(
    "apps.enterprises.migrations.0004_registration_and_licence_application_filings").registrations_onto_filings


def test_pending_and_returned_applications_are_filed_once(alice_co):
    pending = EnterpriseFactory(status="pending", province="35")
    applicant = MembershipFactory(enterprise=pending, role=Membership.Role.ADMIN).user
    returned = EnterpriseFactory(status="returned", province="31", status_reason="缺少营业执照")
    MembershipFactory(enterprise=returned, role=Membership.Role.ADMIN)
    registrations(django_apps, None)
    registrations(django_apps, None)
    assert set(EnterpriseRegistration.objects.values_list("enterprise", flat=True)) == {pending.pk, returned.pk}
    filing = pending.registration.filing
    assert (filing.kind, filing.status, filing.province, filing.created_by) == (
        "enterprise_registration", "submitted", "35", applicant)
    back = returned.registration.filing
    assert back.status == "returned"
    assert list(back.transitions.values_list("to_status", "comment")) == [("submitted", ""),
                                                                          ("returned", "缺少营业执照")]

