"""The licence register (admins grant and change licences, reviewers read), the public list of licensed
recyclers, and the business licence PDF download."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.enterprises.models import LicenceChange, RecyclerLicence
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory, pdf_upload
from tests.web import assert_redirects_to_login, body, page_text, redirect_path

pytestmark = pytest.mark.django_db

REGISTER = "/licences/"
PUBLIC = "/recyclers/"


def today():
    return timezone.localdate()


@pytest.fixture
def recycler_co(db):
    return EnterpriseFactory(name="粤绿回收科技有限公司", province="44", roles=["recycler"])


@pytest.fixture
def licence(recycler_co):
    return LicenceFactory(enterprise=recycler_co, number="GD-2026-0001", valid_from=today() - timedelta(days=30),
                          valid_to=today() + timedelta(days=700))


@pytest.fixture
def admin_client(admin_user):
    return signed_in(admin_user)


def grant_data(holder, **overrides) -> dict:
    data = {
        "enterprise": holder.pk, "number": "GD-2026-0100", "scopes": ["dismantling", "repurposing"],
        "chemistries": ["B", "E"], "annual_capacity_tonnes": "5000",
        "valid_from": today().isoformat(), "valid_to": (today() + timedelta(days=3 * 365)).isoformat(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def detail(licence, lang="") -> str:
    return f"{lang}/licences/{licence.pk}/"


# --- granting ------------------------------------------------------------------------------------------------------


def test_admin_sees_the_register_and_the_grant_form(admin_client, licence):
    response = admin_client.get(REGISTER)
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [licence]
    html = body(response)
    assert "GD-2026-0001" in html
    assert 'name="annual_capacity_tonnes"' in html


def test_grant_form_offers_only_active_recyclers(admin_client, recycler_co, alice_co):
    EnterpriseFactory(name="暂停的回收公司", roles=["recycler"], status="suspended")
    choices = admin_client.get(REGISTER).context["form"].fields["enterprise"].queryset
    assert list(choices) == [recycler_co]


def test_admin_grants_a_licence(admin_client, admin_user, recycler_co):
    response = admin_client.post(REGISTER, grant_data(recycler_co))
    licence = RecyclerLicence.objects.get(number="GD-2026-0100")
    assert redirect_path(response) == f"/licences/{licence.pk}/"
    assert licence.enterprise == recycler_co
    assert licence.scopes == ["dismantling", "repurposing"]
    assert licence.chemistries == ["B", "E"]
    assert licence.annual_capacity_tonnes == 5000
    assert licence.status == "active"
    change = LicenceChange.objects.get(licence=licence)
    assert (change.action, change.actor) == ("granted", admin_user)
    page = admin_client.get(detail(licence))
    assert "粤绿回收科技有限公司" in page_text(page)


def _refused(client, data, field, message=None):
    licences, changes = RecyclerLicence.objects.count(), LicenceChange.objects.count()
    response = client.post("/en" + REGISTER, data)
    assert response.status_code == 200
    errors = response.context["form"].errors.get(field)
    assert errors, response.context["form"].errors
    if message:
        assert any(message in e for e in errors), errors
    for error in errors:
        assert error in page_text(response)
    assert (RecyclerLicence.objects.count(), LicenceChange.objects.count()) == (licences, changes)
    return errors


@pytest.mark.parametrize("capacity", ["0", "-5", "0.000"])
def test_capacity_of_zero_or_less_is_refused(admin_client, recycler_co, capacity):
    _refused(admin_client, grant_data(recycler_co, annual_capacity_tonnes=capacity), "annual_capacity_tonnes",
             "greater than zero")


def test_capacity_that_is_not_a_number_is_refused(admin_client, recycler_co):
    _refused(admin_client, grant_data(recycler_co, annual_capacity_tonnes="lots"), "annual_capacity_tonnes")


def test_valid_to_before_valid_from_is_refused(admin_client, recycler_co):
    _refused(admin_client, grant_data(recycler_co, valid_from=(today() + timedelta(days=10)).isoformat(),
                                      valid_to=(today() + timedelta(days=9)).isoformat()),
             "valid_to", "on or after")


def test_an_already_expired_licence_is_refused(admin_client, recycler_co):
    _refused(admin_client, grant_data(recycler_co, valid_from=(today() - timedelta(days=400)).isoformat(),
                                      valid_to=(today() - timedelta(days=1)).isoformat()),
             "valid_to", "already be expired")


def test_a_licence_overlapping_an_existing_one_is_refused_naming_it(admin_client, licence, recycler_co):
    errors = _refused(admin_client, grant_data(recycler_co, valid_from=licence.valid_to.isoformat(),
                                               valid_to=(licence.valid_to + timedelta(days=365)).isoformat()),
                      "valid_from")
    assert "GD-2026-0001" in errors[0]


def test_a_licence_may_follow_a_revoked_one_in_the_same_period(admin_client, licence, recycler_co, admin_user):
    from apps.enterprises.services import recycler_licence_revoke

    recycler_licence_revoke(actor=admin_user, licence=licence, reason="违规")
    response = admin_client.post(REGISTER, grant_data(recycler_co))
    assert response.status_code == 302


def test_a_duplicate_licence_number_is_refused(admin_client, licence):
    other = EnterpriseFactory(roles=["recycler"])
    _refused(admin_client, grant_data(other, number="GD-2026-0001"), "number", "GD-2026-0001")


@pytest.mark.parametrize("field", ["scopes", "chemistries", "number", "valid_from", "enterprise"])
def test_a_missing_field_is_refused(admin_client, recycler_co, field):
    _refused(admin_client, grant_data(recycler_co, **{field: None}), field)


def test_a_licence_for_a_company_that_is_not_a_recycler_is_refused(admin_client, alice_co):
    _refused(admin_client, grant_data(alice_co), "enterprise")


def test_html_in_the_licence_number_is_refused(admin_client, recycler_co):
    _refused(admin_client, grant_data(recycler_co, number="<b>1</b>"), "number", "HTML")


# --- changing a licence ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action,to_status", [("suspend", "suspended"), ("revoke", "revoked")])
def test_admin_suspends_or_revokes_with_a_reason(admin_client, admin_user, licence, action, to_status):
    response = admin_client.post(detail(licence), {"action": action, "reason": "年检不合格", "confirm": "on"})
    assert redirect_path(response) == detail(licence)
    licence.refresh_from_db()
    assert (licence.status, licence.status_reason) == (to_status, "年检不合格")
    change = LicenceChange.objects.get(licence=licence)
    assert (change.action, change.reason, change.actor) == (to_status, "年检不合格", admin_user)
    page = admin_client.get(detail(licence))
    assert "年检不合格" in page_text(page)


def test_admin_reinstates_a_suspended_licence(admin_client, licence):
    admin_client.post(detail(licence), {"action": "suspend", "reason": "整改", "confirm": "on"})
    response = admin_client.post(detail(licence), {"action": "reinstate", "reason": "整改完成", "confirm": "on"})
    assert response.status_code == 302
    licence.refresh_from_db()
    assert licence.status == "active"
    assert list(LicenceChange.objects.filter(licence=licence).values_list("action", flat=True)) == [
        "reinstated", "suspended"]


def test_licence_change_needs_a_reason_and_confirmation(admin_client, licence):
    no_reason = admin_client.post(detail(licence), {"action": "suspend", "reason": "", "confirm": "on"})
    assert no_reason.context["form"].errors["reason"]
    no_confirm = admin_client.post(detail(licence), {"action": "suspend", "reason": "x"})
    assert no_confirm.context["form"].errors["confirm"]
    licence.refresh_from_db()
    assert licence.status == "active"
    assert not LicenceChange.objects.exists()


def test_reinstating_an_active_licence_is_refused_with_a_message(admin_client, licence):
    response = admin_client.post(detail(licence, "/en"), {"action": "reinstate", "reason": "x", "confirm": "on"},
                                 follow=True)
    assert "cannot be" in page_text(response)
    licence.refresh_from_db()
    assert licence.status == "active"
    assert not LicenceChange.objects.exists()


def test_revoked_licence_offers_no_more_actions_and_refuses_them_visibly(admin_client, licence, admin_user):
    from apps.enterprises.services import recycler_licence_revoke

    recycler_licence_revoke(actor=admin_user, licence=licence, reason="吊销")
    page = admin_client.get(detail(licence))
    assert 'name="action"' not in body(page)
    # a second admin who still had the form open
    response = admin_client.post(detail(licence, "/en"), {"action": "reinstate", "reason": "x", "confirm": "on"},
                                 follow=True)
    assert "cannot be" in page_text(response)
    licence.refresh_from_db()
    assert licence.status == "revoked"


# --- who may see and do what ------------------------------------------------------------------------------------


def test_reviewer_reads_the_register_but_cannot_grant_or_change(reviewer, licence, recycler_co):
    client = signed_in(reviewer)
    register = client.get(REGISTER)
    assert register.status_code == 200
    assert "GD-2026-0001" in body(register)
    assert 'name="annual_capacity_tonnes"' not in body(register)
    page = client.get(detail(licence))
    assert page.status_code == 200
    assert 'name="action"' not in body(page)

    assert client.post(REGISTER, grant_data(recycler_co)).status_code == 403
    assert client.post(detail(licence), {"action": "revoke", "reason": "x", "confirm": "on"}).status_code == 403
    licence.refresh_from_db()
    assert licence.status == "active"
    assert RecyclerLicence.objects.count() == 1


def test_provincial_reviewer_sees_only_licences_in_their_provinces(reviewer_gd, licence):
    fujian = LicenceFactory(enterprise=EnterpriseFactory(province="35", roles=["recycler"]), number="FJ-1")
    client = signed_in(reviewer_gd)
    assert list(client.get(REGISTER).context["page"].object_list) == [licence]
    assert client.get(detail(fujian)).status_code == 404
    assert client.get(detail(licence)).status_code == 200


def test_register_filters_by_status(admin_client, licence, recycler_co):
    suspended = LicenceFactory(enterprise=EnterpriseFactory(roles=["recycler"]), status="suspended")
    assert list(admin_client.get(REGISTER, {"status": "suspended"}).context["page"].object_list) == [suspended]
    assert list(admin_client.get(REGISTER, {"status": "active"}).context["page"].object_list) == [licence]


@pytest.mark.parametrize("persona", ["alice", "alice_filer", "bob"])
def test_company_staff_get_403_on_the_register(request, persona, licence, recycler_co):
    client = signed_in(request.getfixturevalue(persona))
    assert client.get(REGISTER).status_code == 403
    assert client.get(detail(licence)).status_code == 403
    assert client.post(REGISTER, grant_data(recycler_co)).status_code == 403
    assert client.post(detail(licence), {"action": "revoke", "reason": "x", "confirm": "on"}).status_code == 403
    licence.refresh_from_db()
    assert licence.status == "active"


def test_recycler_staff_see_their_own_licence_on_their_enterprise_page(recycler_co, licence):
    from tests.factories import MembershipFactory

    staff = MembershipFactory(enterprise=recycler_co).user
    page = signed_in(staff).get("/enterprise/")
    assert "GD-2026-0001" in body(page)
    assert f'href="/licences/{licence.pk}/"' not in body(page)


def test_anonymous_visitors_are_sent_to_sign_in_from_the_register(anon, licence, recycler_co):
    assert_redirects_to_login(anon.get(REGISTER))
    assert_redirects_to_login(anon.get(detail(licence)))
    assert_redirects_to_login(anon.post(REGISTER, grant_data(recycler_co)))
    assert_redirects_to_login(anon.post(detail(licence), {"action": "revoke", "reason": "x", "confirm": "on"}))
    licence.refresh_from_db()
    assert licence.status == "active"


def test_unknown_licence_is_404(admin_client):
    assert admin_client.get("/licences/999999/").status_code == 404


# --- the public list of licensed recyclers ---------------------------------------------------------------------


@pytest.fixture
def public_mix(licence):
    """One licence in force (Guangdong, dismantling + hydrometallurgy) and several that are not."""
    near = today()
    LicenceFactory(number="SUSPENDED-1", status="suspended", enterprise=EnterpriseFactory(name="暂停许可公司", roles=["recycler"]))
    LicenceFactory(number="REVOKED-1", status="revoked", enterprise=EnterpriseFactory(name="吊销许可公司", roles=["recycler"]))
    LicenceFactory(number="EXPIRED-1", valid_from=near - timedelta(days=800), valid_to=near - timedelta(days=1),
                   enterprise=EnterpriseFactory(name="过期许可公司", roles=["recycler"]))
    LicenceFactory(number="FUTURE-1", valid_from=near + timedelta(days=1), valid_to=near + timedelta(days=800),
                   enterprise=EnterpriseFactory(name="未生效许可公司", roles=["recycler"]))
    LicenceFactory(number="HOLDER-SUSPENDED-1", valid_from=near - timedelta(days=1),
                   enterprise=EnterpriseFactory(name="企业被暂停公司", roles=["recycler"], status="suspended"))
    fujian = LicenceFactory(number="FJ-REPURPOSE-1", scopes=["repurposing"], valid_from=near - timedelta(days=1),
                            valid_to=near + timedelta(days=300),
                            enterprise=EnterpriseFactory(name="闽梯次利用公司", province="35", roles=["recycler"]))
    return licence, fujian


def test_public_list_shows_only_licences_in_force(anon, public_mix):
    licence, fujian = public_mix
    response = anon.get(PUBLIC)
    assert response.status_code == 200
    assert {l.number for l in response.context["page"].object_list} == {"GD-2026-0001", "FJ-REPURPOSE-1"}
    text = page_text(response)
    for hidden in ("SUSPENDED-1", "REVOKED-1", "EXPIRED-1", "FUTURE-1", "HOLDER-SUSPENDED-1", "暂停许可公司"):
        assert hidden not in text


def test_public_list_filters_by_province_scope_and_name(anon, public_mix):
    def numbers(**params):
        return {l.number for l in anon.get(PUBLIC, params).context["page"].object_list}

    assert numbers(province="44") == {"GD-2026-0001"}
    assert numbers(province="35") == {"FJ-REPURPOSE-1"}
    assert numbers(scope="repurposing") == {"FJ-REPURPOSE-1"}
    assert numbers(scope="hydrometallurgy") == {"GD-2026-0001"}
    assert numbers(province="44", scope="repurposing") == set()
    assert numbers(q="粤绿") == {"GD-2026-0001"}
    assert numbers(q="fj-repurpose") == {"FJ-REPURPOSE-1"}


def test_public_list_says_so_when_nothing_matches(anon, public_mix):
    response = anon.get("/en" + PUBLIC, {"province": "11"})
    assert list(response.context["page"].object_list) == []
    assert "No licensed recycler matches your search." in page_text(response)


def test_public_list_is_empty_with_a_message_when_no_licence_is_in_force(anon, db):
    response = anon.get("/en" + PUBLIC)
    assert response.status_code == 200
    assert "No licensed recycler matches your search." in page_text(response)


def test_public_list_shows_only_public_facts(anon, licence):
    text = page_text(anon.get(PUBLIC))
    assert licence.enterprise.name in text
    assert licence.enterprise.contact_email not in text
    assert licence.enterprise.contact_phone not in text
    assert licence.enterprise.uscc not in text


def test_suspending_a_licence_takes_it_off_the_public_list(admin_client, anon, licence):
    assert "GD-2026-0001" in page_text(anon.get(PUBLIC))
    admin_client.post(detail(licence), {"action": "suspend", "reason": "整改", "confirm": "on"})
    assert "GD-2026-0001" not in page_text(anon.get(PUBLIC))


def test_public_list_ignores_invalid_filters(anon, licence):
    response = anon.get(PUBLIC, {"province": "99", "scope": "mining"})
    assert response.status_code == 200


def test_signed_in_users_see_the_public_list_too(alice, licence):
    assert "GD-2026-0001" in page_text(signed_in(alice).get(PUBLIC))


# --- business licence PDF ---------------------------------------------------------------------------------------


@pytest.fixture
def alice_pdf(alice_co):
    alice_co.business_licence = pdf_upload()
    alice_co.save()
    return f"/enterprises/{alice_co.pk}/business-licence.pdf"


def _is_the_pdf(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF-")
    return content


@pytest.mark.parametrize("persona", ["alice", "alice_filer", "reviewer", "admin_user"])
def test_owner_and_regulators_may_download_the_business_licence(request, alice_pdf, alice_co, persona):
    response = signed_in(request.getfixturevalue(persona)).get(alice_pdf)
    _is_the_pdf(response)
    assert alice_co.uscc in response["Content-Disposition"]


def test_bob_gets_404_for_alices_business_licence(bob, alice_pdf):
    assert signed_in(bob).get(alice_pdf).status_code == 404


def test_provincial_reviewer_gets_404_outside_their_provinces(reviewer_gd, alice_pdf):
    assert signed_in(reviewer_gd).get(alice_pdf).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in_for_a_business_licence(anon, alice_pdf):
    assert_redirects_to_login(anon.get(alice_pdf))


def test_business_licences_are_not_served_as_public_media(anon, alice_co, alice_pdf):
    assert anon.get("/media/" + alice_co.business_licence.name).status_code == 404


def test_enterprise_without_a_business_licence_file_gives_404(alice, alice_co):
    assert signed_in(alice).get(f"/enterprises/{alice_co.pk}/business-licence.pdf").status_code == 404
