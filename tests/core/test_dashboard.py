"""The home page and the per-persona dashboards: what each person has to do next, and nothing of others'."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.services import api_key_create, api_key_revoke
from apps.enterprises.models import ManufacturerCode
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory, MembershipFactory
from tests.web import assert_redirects_to_login, body, page_text, redirect_path

pytestmark = pytest.mark.django_db


def test_home_page_invites_anonymous_visitors_to_sign_in_or_register(anon):
    response = anon.get("/")
    assert response.status_code == 200
    html = body(response)
    assert 'href="/accounts/login/"' in html
    assert 'href="/register/"' in html
    assert 'href="/recyclers/"' in html


def test_home_page_sends_signed_in_users_to_their_dashboard(alice):
    assert redirect_path(signed_in(alice).get("/")) == "/dashboard/"


def test_dashboard_needs_a_signed_in_user(anon):
    assert_redirects_to_login(anon.get("/dashboard/"))


def test_company_admin_dashboard_shows_the_enterprise_and_its_counts(alice, alice_filer, alice_co):
    inactive = MembershipFactory(enterprise=alice_co).user
    inactive.is_active = False
    inactive.save()
    api_key_create(actor=alice, name="ERP")
    revoked, _ = api_key_create(actor=alice, name="old")
    api_key_revoke(actor=alice, key_id=revoked.pk)
    ManufacturerCode.objects.create(code="A1B", enterprise=alice_co)

    response = signed_in(alice).get("/dashboard/")
    assert response.status_code == 200
    assert "core/dashboard_company.html" in [t.name for t in response.templates]
    assert response.context["enterprise"] == alice_co
    assert response.context["staff_count"] == 2  # alice and alice_filer; the deactivated one is not counted
    assert response.context["key_count"] == 1
    assert response.context["codes"] == ["A1B"]
    html = page_text(response)
    assert alice_co.name in html
    assert "<code>A1B</code>" in body(response)


def test_filer_dashboard_does_not_show_key_counts(alice_filer, alice):
    response = signed_in(alice_filer).get("/en/dashboard/")
    assert response.status_code == 200
    assert "Active API keys" not in page_text(response)
    assert 'href="/en/enterprise/api-keys/"' not in body(response)


def test_company_dashboard_shows_nothing_of_another_enterprise(alice, bob, bob_co):
    ManufacturerCode.objects.create(code="B0B", enterprise=EnterpriseFactory(name="x"))
    response = signed_in(alice).get("/dashboard/")
    text = page_text(response)
    assert bob_co.name not in text
    assert "B0B" not in text


def test_applicant_dashboard_is_the_application_page(db):
    pending = EnterpriseFactory(status="pending")
    applicant = MembershipFactory(enterprise=pending, role="admin").user
    assert redirect_path(signed_in(applicant).get("/dashboard/")) == "/application/"


def test_reviewer_dashboard_counts_applications_and_lists_the_oldest_pending(reviewer, alice_co):
    older = EnterpriseFactory(name="先申请的公司", status="pending")
    newer = EnterpriseFactory(name="后申请的公司", status="pending")
    EnterpriseFactory(status="suspended")
    response = signed_in(reviewer).get("/dashboard/")
    assert response.status_code == 200
    assert "core/dashboard_reviewer.html" in [t.name for t in response.templates]
    counts = response.context["status_counts"]
    assert (counts["pending"], counts["active"], counts["suspended"]) == (2, 1, 1)
    assert list(response.context["pending"]) == [older, newer]
    html = body(response)
    assert f'href="/review/enterprises/{older.pk}/"' in html
    assert 'href="/review/enterprises/?status=pending"' in html


def test_provincial_reviewer_dashboard_counts_only_their_provinces(reviewer_gd, alice_co):
    EnterpriseFactory(name="福建待审公司", province="35", status="pending")
    guangdong = EnterpriseFactory(name="广东待审公司", province="44", status="pending")
    response = signed_in(reviewer_gd).get("/dashboard/")
    assert response.context["status_counts"] == {"pending": 1}
    assert list(response.context["pending"]) == [guangdong]
    assert "福建待审公司" not in page_text(response)


def test_admin_dashboard_lists_licences_expiring_within_90_days(admin_user):
    today = timezone.localdate()
    soon = LicenceFactory(number="SOON-1", valid_from=today - timedelta(days=300), valid_to=today + timedelta(days=30))
    LicenceFactory(number="LATER-1", valid_from=today - timedelta(days=300), valid_to=today + timedelta(days=200))
    LicenceFactory(number="GONE-1", status="revoked", valid_from=today - timedelta(days=300),
                   valid_to=today + timedelta(days=10))
    response = signed_in(admin_user).get("/dashboard/")
    assert response.status_code == 200
    assert "core/dashboard_admin.html" in [t.name for t in response.templates]
    assert list(response.context["licences_expiring"]) == [soon]
    assert response.context["licences_in_force"] == 2
    text = page_text(response)
    assert "SOON-1" in text
    assert "LATER-1" not in text and "GONE-1" not in text


def test_navigation_matches_the_persona(alice, alice_filer, reviewer):
    admin_nav = body(signed_in(alice).get("/dashboard/"))
    assert 'href="/enterprise/staff/"' in admin_nav and 'href="/enterprise/api-keys/"' in admin_nav
    assert 'href="/review/enterprises/"' not in admin_nav
    filer_nav = body(signed_in(alice_filer).get("/dashboard/"))
    assert 'href="/enterprise/staff/"' in filer_nav and 'href="/enterprise/api-keys/"' not in filer_nav
    reviewer_nav = body(signed_in(reviewer).get("/dashboard/"))
    assert 'href="/review/enterprises/"' in reviewer_nav and 'href="/licences/"' in reviewer_nav
    assert 'href="/enterprise/staff/"' not in reviewer_nav
