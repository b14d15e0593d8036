"""Admins edit the reporting deadlines (DOMAIN.md rule 5 values are unverified, so they are data); every change is
audited; nobody else may change them."""
from __future__ import annotations

import pytest
from django.conf import settings

from apps.core.errors import DomainError
from apps.deadlines import selectors, services
from apps.deadlines.models import ReportingDeadline, ReportingDeadlineChange
from tests.web import page_text

pytestmark = pytest.mark.django_db


def test_the_data_migration_seeded_every_duty_from_the_settings_defaults():
    assert dict(ReportingDeadline.objects.values_list("duty", "working_days")) == settings.REPORTING_DEADLINE_DEFAULTS
    assert selectors.deadlines_in_force()["vehicle_installation"] == 15


def test_an_admin_changes_a_deadline_and_the_change_is_audited(admin_user):
    services.reporting_deadline_set(actor=admin_user, duty="recycler_intake", working_days=20, reason="2026 rules")
    assert selectors.deadlines_in_force()["recycler_intake"] == 20
    change = ReportingDeadlineChange.objects.get()
    assert (change.actor, change.old_working_days, change.new_working_days, change.reason) == (
        admin_user, 30, 20, "2026 rules")
    assert change.created_at is not None
    # The same value again changes nothing and records nothing.
    services.reporting_deadline_set(actor=admin_user, duty="recycler_intake", working_days=20)
    assert ReportingDeadlineChange.objects.count() == 1


@pytest.mark.parametrize("value", [0, 251, -3, 2.5, "15"])
def test_a_deadline_outside_1_to_250_whole_working_days_is_refused(admin_user, value):
    with pytest.raises(DomainError) as exc:
        services.reporting_deadline_set(actor=admin_user, duty="recycler_intake", working_days=value)
    assert exc.value.code == "deadline_invalid" and exc.value.field == "working_days"
    assert ReportingDeadline.objects.get(duty="recycler_intake").working_days == 30


def test_non_admins_cannot_change_a_deadline(alice, reviewer):
    for actor in (alice, reviewer):
        with pytest.raises(DomainError) as exc:
            services.reporting_deadline_set(actor=actor, duty="recycler_intake", working_days=5)
        assert exc.value.status == 403
    assert not ReportingDeadlineChange.objects.exists()


def test_the_admin_page_edits_and_lists_the_change(admin_user, client_for):
    client = client_for(admin_user)
    response = client.post("/deadlines/settings/vehicle_installation/", {"working_days": "20", "reason": "新规"})
    assert response.status_code == 302
    text = page_text(client.get("/deadlines/settings/"))
    assert "新规" in text and "adam" in text
    assert ReportingDeadline.objects.get(duty="vehicle_installation").working_days == 20


def test_the_admin_page_says_why_a_value_is_refused(admin_user, client_for):
    client = client_for(admin_user)
    response = client.post("/deadlines/settings/vehicle_installation/", {"working_days": "0"}, follow=True)
    assert "250" in page_text(response)
    assert ReportingDeadline.objects.get(duty="vehicle_installation").working_days == 15


def test_the_deadline_pages_refuse_non_admins(alice, reviewer, client_for):
    for user in (alice, reviewer):
        client = client_for(user)
        assert client.get("/deadlines/settings/").status_code == 403
        assert client.post("/deadlines/settings/vehicle_installation/", {"working_days": "3"}).status_code == 403
    assert ReportingDeadline.objects.get(duty="vehicle_installation").working_days == 15
