"""The licence register (administrators), manufacturer codes, and the public list of licensed recyclers."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.enterprises.models import Enterprise, LicenceChange, ManufacturerCode, RecyclerLicence
from apps.enterprises.services import enterprise_suspend
from tests.api_helpers import API, assert_error, results
from tests.factories import EnterpriseFactory, LicenceFactory

LICENCES = f"{API}/admin/licences/"
PUBLIC = f"{API}/public/licensed-recyclers/"


def today():
    return timezone.localdate()


def days(n: int):
    return today() + timedelta(days=n)


@pytest.fixture
def recycler_co(db):
    return EnterpriseFactory(name="粤绿再生资源有限公司", province="44", roles=["recycler", "dismantler"],
                             contact_name="赵敏", contact_phone="13800138000", contact_email="zhao.min@yuelv.example.cn")


@pytest.fixture
def admin_api(api_for, admin_user):
    return api_for(admin_user)


def grant(recycler, **overrides) -> dict:
    data = {
        "enterprise": recycler.pk,
        "number": "粤再生[2026]001号",
        "scopes": ["dismantling", "hydrometallurgy"],
        "chemistries": ["B", "E"],
        "annual_capacity_tonnes": "12000.500",
        "valid_from": str(days(-10)),
        "valid_to": str(days(3 * 365)),
    }
    data.update(overrides)
    return data


def action_url(licence, action: str) -> str:
    return f"{LICENCES}{getattr(licence, 'pk', licence)}/{action}/"


# --- granting ---------------------------------------------------------------------------------------------------


def test_admin_grants_a_licence_to_a_recycler(admin_api, admin_user, recycler_co):
    response = admin_api.post(LICENCES, grant(recycler_co), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["enterprise"], body["enterprise_name"], body["number"], body["status"]) == (
        recycler_co.pk, recycler_co.name, "粤再生[2026]001号", "active")
    assert body["scopes"] == ["dismantling", "hydrometallurgy"]
    licence = RecyclerLicence.objects.get(pk=body["id"])
    assert licence.annual_capacity_tonnes == Decimal("12000.500")
    assert (licence.valid_from, licence.valid_to) == (days(-10), days(3 * 365))
    assert licence.created_by == admin_user
    assert list(licence.changes.values_list("action", "actor")) == [("granted", admin_user.pk)]


def test_a_licence_starting_in_the_future_may_be_granted(admin_api, recycler_co):
    response = admin_api.post(LICENCES, grant(recycler_co, valid_from=str(days(30)), valid_to=str(days(400))),
                              format="json")
    assert response.status_code == 201, response.content


def test_a_licence_ending_today_may_still_be_granted(admin_api, recycler_co):
    response = admin_api.post(LICENCES, grant(recycler_co, valid_from=str(days(-30)), valid_to=str(today())),
                              format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("capacity", ["0", "0.000", "-5", "-0.001"])
def test_capacity_must_be_positive(admin_api, recycler_co, capacity):
    response = admin_api.post(LICENCES, grant(recycler_co, annual_capacity_tonnes=capacity), format="json")
    assert_error(response, 400, "licence_capacity_invalid", field="annual_capacity_tonnes")
    assert not RecyclerLicence.objects.exists()


def test_valid_to_before_valid_from_is_refused(admin_api, recycler_co):
    response = admin_api.post(LICENCES, grant(recycler_co, valid_from=str(days(100)), valid_to=str(days(99))),
                              format="json")
    assert_error(response, 400, "licence_dates_invalid", field="valid_to")
    assert not RecyclerLicence.objects.exists()


def test_an_already_expired_licence_is_refused(admin_api, recycler_co):
    response = admin_api.post(LICENCES, grant(recycler_co, valid_from=str(days(-400)), valid_to=str(days(-1))),
                              format="json")
    body = assert_error(response, 400, "licence_expired", field="valid_to")
    assert str(days(-1)) in body["message"]
    assert not RecyclerLicence.objects.exists()


@pytest.mark.parametrize("status", ["active", "suspended"])
def test_a_period_overlapping_a_live_licence_is_refused(admin_api, recycler_co, status):
    existing = LicenceFactory(enterprise=recycler_co, number="OLD-1", valid_from=days(-100), valid_to=days(100),
                              status=status)

    response = admin_api.post(LICENCES, grant(recycler_co, valid_from=str(days(100)), valid_to=str(days(500))),
                              format="json")

    body = assert_error(response, 400, "licence_overlap", field="valid_from")
    assert "OLD-1" in body["message"]
    assert list(RecyclerLicence.objects.values_list("pk", flat=True)) == [existing.pk]


def test_a_revoked_licence_does_not_block_a_new_period(admin_api, recycler_co):
    LicenceFactory(enterprise=recycler_co, valid_from=days(-100), valid_to=days(100), status="revoked")
    assert admin_api.post(LICENCES, grant(recycler_co), format="json").status_code == 201


def test_an_adjacent_period_does_not_overlap(admin_api, recycler_co):
    LicenceFactory(enterprise=recycler_co, valid_from=days(-100), valid_to=days(10))
    response = admin_api.post(LICENCES, grant(recycler_co, valid_from=str(days(11)), valid_to=str(days(500))),
                              format="json")
    assert response.status_code == 201, response.content


def test_other_enterprises_licences_do_not_overlap_this_ones(admin_api, recycler_co):
    LicenceFactory(valid_from=days(-100), valid_to=days(100))
    assert admin_api.post(LICENCES, grant(recycler_co), format="json").status_code == 201


def test_licence_number_is_unique_across_enterprises(admin_api, recycler_co):
    LicenceFactory(number="粤再生[2026]001号", valid_from=days(-10), valid_to=days(10))

    body = assert_error(admin_api.post(LICENCES, grant(recycler_co), format="json"), 400, "licence_number_taken",
                        field="number")
    assert "粤再生[2026]001号" in body["message"]
    assert RecyclerLicence.objects.count() == 1


def test_enterprise_without_the_recycler_role_cannot_be_licensed(admin_api, alice_co):
    assert_error(admin_api.post(LICENCES, grant(alice_co), format="json"), 400, "not_a_recycler", field="enterprise")
    assert not RecyclerLicence.objects.exists()


def test_enterprise_that_is_not_active_cannot_be_licensed(admin_api, recycler_co):
    Enterprise.objects.filter(pk=recycler_co.pk).update(status=Enterprise.Status.PENDING)
    assert_error(admin_api.post(LICENCES, grant(recycler_co), format="json"), 400, "enterprise_not_active",
                 field="enterprise")
    assert not RecyclerLicence.objects.exists()


def test_unknown_enterprise_is_404(admin_api, recycler_co):
    assert_error(admin_api.post(LICENCES, grant(recycler_co, enterprise=10**9), format="json"), 404, "not_found")


def test_markup_in_licence_number_is_refused(admin_api, recycler_co):
    assert_error(admin_api.post(LICENCES, grant(recycler_co, number="<b>1</b>"), format="json"), 400,
                 "markup_not_allowed", field="number")


@pytest.mark.parametrize(("field", "code"), [("scopes", "empty"), ("chemistries", "empty")])
def test_scopes_and_chemistries_are_required(admin_api, recycler_co, field, code):
    assert_error(admin_api.post(LICENCES, grant(recycler_co, **{field: []}), format="json"), 400, code, field=field)


def test_reviewer_cannot_grant(api_for, reviewer, recycler_co):
    assert_error(api_for(reviewer).post(LICENCES, grant(recycler_co), format="json"), 403, "permission_denied")
    assert not RecyclerLicence.objects.exists()


def test_company_admin_cannot_grant_a_licence_to_itself(api_for, recycler_co):
    from apps.enterprises.models import Membership
    from tests.factories import MembershipFactory

    boss = MembershipFactory(enterprise=recycler_co, role=Membership.Role.ADMIN).user
    assert_error(api_for(boss).post(LICENCES, grant(recycler_co), format="json"), 403, "permission_denied")
    assert not RecyclerLicence.objects.exists()


# --- the register ----------------------------------------------------------------------------------------------


def test_admin_lists_every_licence_newest_first(admin_api):
    licences = [LicenceFactory(valid_from=days(-10), valid_to=days(10)) for _ in range(3)]
    rows = results(admin_api.get(LICENCES))
    assert [r["id"] for r in rows] == [lic.pk for lic in reversed(licences)]


def test_listing_licences_uses_a_constant_number_of_queries(admin_api):
    for _ in range(2):
        LicenceFactory()
    admin_api.get(LICENCES)
    with CaptureQueriesContext(connection) as two:
        assert len(results(admin_api.get(LICENCES))) == 2
    for _ in range(18):
        LicenceFactory()
    with CaptureQueriesContext(connection) as twenty:
        assert len(results(admin_api.get(LICENCES))) == 20
    assert len(twenty) == len(two)


# --- suspend, reinstate, revoke --------------------------------------------------------------------------------


@pytest.fixture
def licence(recycler_co):
    return LicenceFactory(enterprise=recycler_co, valid_from=days(-30), valid_to=days(300))


def test_suspend_reinstate_and_revoke_with_reasons(admin_api, admin_user, licence):
    response = admin_api.post(action_url(licence, "suspend"), {"reason": "环保检查不合格"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_reason"]) == ("suspended", "环保检查不合格")

    response = admin_api.post(action_url(licence, "reinstate"), {"reason": "整改完成"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "active")

    response = admin_api.post(action_url(licence, "revoke"), {"reason": "企业注销"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "revoked")

    licence.refresh_from_db()
    assert (licence.status, licence.status_reason) == ("revoked", "企业注销")
    assert list(licence.changes.order_by("id").values_list("action", "reason", "actor")) == [
        ("suspended", "环保检查不合格", admin_user.pk),
        ("reinstated", "整改完成", admin_user.pk),
        ("revoked", "企业注销", admin_user.pk),
    ]


@pytest.mark.parametrize("action", ["suspend", "reinstate", "revoke"])
@pytest.mark.parametrize(("payload", "code"), [({}, "required"), ({"reason": ""}, "blank"), ({"reason": "   "}, "blank")])
def test_licence_actions_need_a_reason(admin_api, licence, action, payload, code):
    if action == "reinstate":
        RecyclerLicence.objects.filter(pk=licence.pk).update(status="suspended")
    before = RecyclerLicence.objects.get(pk=licence.pk).status

    assert_error(admin_api.post(action_url(licence, action), payload, format="json"), 400, code, field="reason")

    licence.refresh_from_db()
    assert licence.status == before
    assert not LicenceChange.objects.filter(licence=licence).exists()


def test_revoked_licence_cannot_be_reinstated(admin_api, licence):
    admin_api.post(action_url(licence, "revoke"), {"reason": "违规"}, format="json")

    assert_error(admin_api.post(action_url(licence, "reinstate"), {"reason": "误操作"}, format="json"), 400,
                 "licence_status_invalid")
    licence.refresh_from_db()
    assert licence.status == "revoked"


@pytest.mark.parametrize(("status", "action"), [("active", "reinstate"), ("suspended", "suspend"),
                                                ("revoked", "suspend"), ("revoked", "revoke")])
def test_licence_actions_only_from_the_right_status(admin_api, licence, status, action):
    RecyclerLicence.objects.filter(pk=licence.pk).update(status=status)
    assert_error(admin_api.post(action_url(licence, action), {"reason": "x"}, format="json"), 400,
                 "licence_status_invalid")
    licence.refresh_from_db()
    assert licence.status == status


def test_licence_action_on_unknown_licence_is_404(admin_api, licence):
    assert_error(admin_api.post(action_url(licence.pk + 1000, "suspend"), {"reason": "x"}, format="json"), 404,
                 "not_found")


@pytest.mark.parametrize("persona", ["reviewer", "alice"])
@pytest.mark.parametrize("action", ["suspend", "reinstate", "revoke"])
def test_only_admins_act_on_licences(request, api_for, licence, persona, action):
    client = api_for(request.getfixturevalue(persona))
    assert_error(client.post(action_url(licence, action), {"reason": "x"}, format="json"), 403, "permission_denied")
    licence.refresh_from_db()
    assert licence.status == "active"


# --- manufacturer codes -----------------------------------------------------------------------------------------


def mfr_url(enterprise) -> str:
    return f"{API}/admin/enterprises/{getattr(enterprise, 'pk', enterprise)}/manufacturer-codes/"


def test_admin_assigns_a_manufacturer_code_to_a_battery_maker(admin_api, api_for, alice, alice_co):
    response = admin_api.post(mfr_url(alice_co), {"code": "a1b"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {"code": "A1B", "enterprise": alice_co.pk}
    assert ManufacturerCode.objects.get().enterprise == alice_co
    assert api_for(alice).get(f"{API}/enterprise/").json()["manufacturer_codes"] == ["A1B"]


def test_a_taken_manufacturer_code_names_its_holder(admin_api, alice_co):
    holder = EnterpriseFactory(name="宁川时代新能源有限公司", roles=["battery_maker"])
    ManufacturerCode.objects.create(code="ABC", enterprise=holder)

    body = assert_error(admin_api.post(mfr_url(alice_co), {"code": "ABC"}, format="json"), 400,
                        "manufacturer_code_taken", field="code")
    assert "宁川时代新能源有限公司" in body["message"]
    assert ManufacturerCode.objects.get().enterprise == holder


@pytest.mark.parametrize("code", ["AB", "ABCD", "A-1", "中文字", "A B"])
def test_malformed_manufacturer_code_is_refused(admin_api, alice_co, code):
    assert_error(admin_api.post(mfr_url(alice_co), {"code": code}, format="json"), 400, "manufacturer_code_invalid",
                 field="code")
    assert not ManufacturerCode.objects.exists()


def test_manufacturer_code_only_for_battery_makers(admin_api, bob_co):
    assert_error(admin_api.post(mfr_url(bob_co), {"code": "XYZ"}, format="json"), 400, "not_a_battery_maker",
                 field="enterprise")
    assert not ManufacturerCode.objects.exists()


def test_manufacturer_code_for_unknown_enterprise_is_404(admin_api):
    assert_error(admin_api.post(mfr_url(10**9), {"code": "XYZ"}, format="json"), 404, "not_found")


def test_manufacturer_code_is_required(admin_api, alice_co):
    assert_error(admin_api.post(mfr_url(alice_co), {}, format="json"), 400, "required", field="code")


# --- the public list ---------------------------------------------------------------------------------------------


@pytest.fixture
def register(recycler_co, reviewer):
    """Licences in every state; only `in_force_gd` and `in_force_fj` are in force today."""
    fujian = EnterpriseFactory(name="闽再生科技有限公司", province="35", roles=["recycler"])
    suspended_holder = EnterpriseFactory(name="停业整顿回收公司", province="44", roles=["recycler"])
    lic = {
        "in_force_gd": LicenceFactory(enterprise=recycler_co, number="GD-1", scopes=["dismantling"],
                                      valid_from=days(-30), valid_to=days(300)),
        "in_force_fj": LicenceFactory(enterprise=fujian, number="FJ-1", scopes=["hydrometallurgy"],
                                      valid_from=days(-300), valid_to=days(30)),
        "suspended": LicenceFactory(number="X-SUSP", status="suspended", valid_from=days(-30), valid_to=days(300)),
        "revoked": LicenceFactory(number="X-REV", status="revoked", valid_from=days(-30), valid_to=days(300)),
        "expired": LicenceFactory(number="X-EXP", valid_from=days(-400), valid_to=days(-1)),
        "future": LicenceFactory(number="X-FUT", valid_from=days(1), valid_to=days(400)),
        "holder_suspended": LicenceFactory(enterprise=suspended_holder, number="X-HOLD", valid_from=days(-30),
                                           valid_to=days(300)),
    }
    enterprise_suspend(actor=reviewer, enterprise=suspended_holder, reason="违规")
    return lic


def public_numbers(params=None) -> set[str]:
    return {row["number"] for row in results(APIClient().get(PUBLIC, params or {}))}


def test_public_list_shows_only_licences_in_force_today(register):
    assert public_numbers() == {"GD-1", "FJ-1"}


def test_public_list_includes_licences_starting_or_ending_today(db):
    LicenceFactory(number="START", valid_from=today(), valid_to=days(100))
    LicenceFactory(number="END", valid_from=days(-100), valid_to=today())
    assert public_numbers() == {"START", "END"}


def test_public_list_filters_by_province(register):
    assert public_numbers({"province": "44"}) == {"GD-1"}
    assert public_numbers({"province": "35"}) == {"FJ-1"}
    assert public_numbers({"province": "11"}) == set()


def test_public_list_filters_by_scope(register):
    assert public_numbers({"scope": "dismantling"}) == {"GD-1"}
    assert public_numbers({"scope": "hydrometallurgy"}) == {"FJ-1"}
    assert public_numbers({"scope": "repurposing"}) == set()


def test_public_list_filters_by_name_or_number(register):
    assert public_numbers({"q": "闽再生"}) == {"FJ-1"}
    assert public_numbers({"q": "gd-"}) == {"GD-1"}


def test_public_list_refuses_unknown_filter_values(db):
    assert_error(APIClient().get(PUBLIC, {"scope": "alchemy"}), 400, "invalid_choice", field="scope")


def test_public_list_carries_no_contact_personal_data(register, recycler_co):
    response = APIClient().get(PUBLIC)
    rows = results(response)
    assert rows
    for row in rows:
        assert not {"contact_name", "contact_phone", "contact_email"} & set(row)
        assert set(row) == {"id", "number", "enterprise_name", "uscc", "province", "address", "scopes", "chemistries",
                            "annual_capacity_tonnes", "valid_from", "valid_to"}
    text = response.content.decode()
    for secret in (recycler_co.contact_name, recycler_co.contact_phone, recycler_co.contact_email):
        assert secret not in text


def test_public_list_shows_the_holders_public_fields(register, recycler_co):
    row = next(r for r in results(APIClient().get(PUBLIC)) if r["number"] == "GD-1")
    assert (row["enterprise_name"], row["uscc"], row["province"]) == (recycler_co.name, recycler_co.uscc, "44")
    assert (row["valid_from"], row["valid_to"]) == (str(days(-30)), str(days(300)))


def test_public_list_follows_licence_changes_immediately(admin_api, register):
    admin_api.post(action_url(register["in_force_gd"], "suspend"), {"reason": "检查"}, format="json")
    assert public_numbers() == {"FJ-1"}
    admin_api.post(action_url(register["in_force_gd"], "reinstate"), {"reason": "恢复"}, format="json")
    assert public_numbers() == {"GD-1", "FJ-1"}


def test_public_list_pages_with_a_cursor(db):
    for _ in range(3):
        LicenceFactory(valid_from=days(-1), valid_to=days(1))
    client = APIClient()
    first = client.get(PUBLIC, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})


def test_public_list_uses_a_constant_number_of_queries(db):
    for _ in range(2):
        LicenceFactory(valid_from=days(-1), valid_to=days(1))
    client = APIClient()
    client.get(PUBLIC)
    with CaptureQueriesContext(connection) as two:
        assert len(results(client.get(PUBLIC))) == 2
    for _ in range(18):
        LicenceFactory(valid_from=days(-1), valid_to=days(1))
    with CaptureQueriesContext(connection) as twenty:
        assert len(results(client.get(PUBLIC))) == 20
    assert len(twenty) == len(two)
