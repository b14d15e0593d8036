"""The enterprise services: every rule, called the way every entry point calls them."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.enterprises import selectors, services
from apps.enterprises.models import (
    Enterprise,
    EnterpriseStatusChange,
    LicenceChange,
    ManufacturerCode,
    Membership,
    RecyclerLicence,
)
from tests.factories import EnterpriseFactory, LicenceFactory, pdf_upload, valid_uscc

pytestmark = pytest.mark.django_db


def company(**overrides) -> dict:
    data = {"name": "湘江资源循环科技有限公司", "uscc": valid_uscc(), "province": "43", "address": "长沙市岳麓区1号",
            "contact_name": "张伟", "contact_phone": "0731-1234567", "contact_email": "c@example.cn",
            "roles": ["recycler"]}
    data.update(overrides)
    return data


def register(**overrides):
    kwargs = {"company": company(), "business_licence": pdf_upload(), "applicant_username": "applicant",
              "applicant_email": "applicant@example.cn", "applicant_password": "Correct-horse-42",
              "applicant_full_name": "申请人"}
    kwargs.update(overrides)
    return services.enterprise_register(**kwargs)


def counts():
    return Enterprise.objects.count(), User.objects.count(), Membership.objects.count()


# --- registration ---------------------------------------------------------------------------------------------


def test_registration_creates_a_pending_enterprise_with_the_applicant_as_its_admin():
    enterprise = register()
    assert enterprise.status == Enterprise.Status.PENDING
    membership = Membership.objects.get(enterprise=enterprise)
    assert membership.role == Membership.Role.ADMIN
    assert membership.user.username == "applicant"
    assert membership.user.check_password("Correct-horse-42")
    assert enterprise.status_changes.get().action == EnterpriseStatusChange.Action.SUBMITTED
    assert enterprise.business_licence.read().startswith(b"%PDF-")


def test_registration_refuses_a_wrong_check_character_and_names_the_expected_one():
    before = counts()
    with pytest.raises(DomainError) as err:
        register(company=company(uscc="91350200776049653B"))
    assert err.value.code == "uscc_invalid"
    assert err.value.field == "uscc"
    assert "A" in str(err.value.message) and "18" in str(err.value.message)
    assert counts() == before


def test_registration_accepts_a_code_typed_with_spaces_and_lower_case():
    enterprise = register(company=company(uscc=" 9144 0101ma5cjq4n59 "))
    assert enterprise.uscc == "91440101MA5CJQ4N59"


def test_registration_refuses_a_duplicate_credit_code(alice_co):
    before = counts()
    with pytest.raises(DomainError) as err:
        register(company=company(uscc=alice_co.uscc))
    assert err.value.code == "uscc_duplicate"
    assert counts() == before


def test_a_rejected_company_may_apply_again_with_the_same_code(reviewer):
    first = register()
    services.enterprise_registration_reject(actor=reviewer, enterprise=first, comment="营业执照不清晰")
    second = register(company=company(uscc=first.uscc), applicant_username="applicant2",
                      applicant_email="applicant2@example.cn")
    assert second.status == Enterprise.Status.PENDING


@pytest.mark.parametrize("field", ["name", "address", "contact_name"])
def test_registration_refuses_markup_in_free_text(field):
    before = counts()
    with pytest.raises(DomainError) as err:
        register(company=company(**{field: "好公司<script>alert(1)</script>"}))
    assert (err.value.code, err.value.field) == ("markup_not_allowed", field)
    assert "<" in str(err.value.message)
    assert counts() == before


def test_registration_refuses_a_file_that_is_not_a_pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = counts()
    png = SimpleUploadedFile("licence.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="application/pdf")
    with pytest.raises(DomainError) as err:
        register(business_licence=png)
    assert (err.value.code, err.value.field) == ("file_not_pdf", "business_licence")
    assert counts() == before


def test_registration_refuses_an_oversized_file(settings):
    settings.BUSINESS_LICENCE_MAX_BYTES = 1024
    before = counts()
    with pytest.raises(DomainError) as err:
        register(business_licence=pdf_upload(size=4096))
    assert err.value.code == "file_too_large"
    assert counts() == before


def test_registration_needs_a_role():
    with pytest.raises(DomainError) as err:
        register(company=company(roles=[]))
    assert err.value.code == "role_required"


def test_registration_refuses_a_weak_password_and_saves_nothing():
    before = counts()
    with pytest.raises(DomainError) as err:
        register(applicant_password="12345678")
    assert err.value.field == "applicant_password"
    assert counts() == before


# --- review decisions --------------------------------------------------------------------------------------------


def test_approval_activates_the_enterprise_and_records_who_decided(reviewer):
    enterprise = register()
    services.enterprise_registration_approve(actor=reviewer, enterprise=enterprise)
    enterprise.refresh_from_db()
    assert enterprise.status == Enterprise.Status.ACTIVE and enterprise.approved_at is not None
    change = enterprise.status_changes.first()
    assert (change.action, change.actor, change.from_status) == ("approved", reviewer, "pending")


@pytest.mark.parametrize("decide", [services.enterprise_registration_reject, services.enterprise_registration_return])
def test_rejecting_or_returning_needs_a_comment(reviewer, decide):
    enterprise = register()
    with pytest.raises(DomainError) as err:
        decide(actor=reviewer, enterprise=enterprise, comment="  ")
    assert err.value.code == "comment_required"
    enterprise.refresh_from_db()
    assert enterprise.status == Enterprise.Status.PENDING


def test_a_decided_application_cannot_be_decided_again(reviewer):
    enterprise = register()
    services.enterprise_registration_approve(actor=reviewer, enterprise=enterprise)
    with pytest.raises(DomainError) as err:
        services.enterprise_registration_reject(actor=reviewer, enterprise=enterprise, comment="too late")
    assert err.value.code == "registration_not_pending"


def test_returned_application_is_corrected_and_resubmitted(reviewer):
    enterprise = register()
    services.enterprise_registration_return(actor=reviewer, enterprise=enterprise, comment="地址不完整")
    applicant = Membership.objects.get(enterprise=enterprise).user
    services.enterprise_registration_resubmit(actor=applicant, enterprise=enterprise,
                                              company=company(uscc=enterprise.uscc, address="长沙市岳麓区麓山南路1号"))
    enterprise.refresh_from_db()
    assert enterprise.status == Enterprise.Status.PENDING
    assert enterprise.address == "长沙市岳麓区麓山南路1号"
    assert [c.action for c in enterprise.status_changes.all()][:2] == ["resubmitted", "returned"]


def test_company_staff_cannot_decide_registrations(bob):
    enterprise = register()
    with pytest.raises(DomainError) as err:
        services.enterprise_registration_approve(actor=bob, enterprise=enterprise)
    assert err.value.status == 403


def test_a_provincial_reviewer_decides_only_in_their_provinces(reviewer_gd):
    enterprise = register(company=company(province="43"))
    with pytest.raises(DomainError):
        services.enterprise_registration_approve(actor=reviewer_gd, enterprise=enterprise)
    local = register(company=company(province="44"), applicant_username="gd", applicant_email="gd@example.cn")
    services.enterprise_registration_approve(actor=reviewer_gd, enterprise=local)


def test_approval_emails_the_applicant(reviewer, mailoutbox, django_capture_on_commit_callbacks):
    enterprise = register()
    with django_capture_on_commit_callbacks(execute=True):
        services.enterprise_registration_approve(actor=reviewer, enterprise=enterprise)
    assert [m.to for m in mailoutbox] == [["applicant@example.cn"]]


# --- suspension ------------------------------------------------------------------------------------------------


def test_suspension_needs_a_reason_and_can_be_reversed(reviewer, alice_co):
    with pytest.raises(DomainError) as err:
        services.enterprise_suspend(actor=reviewer, enterprise=alice_co, reason="")
    assert err.value.code == "reason_required"
    services.enterprise_suspend(actor=reviewer, enterprise=alice_co, reason="未按期报送")
    alice_co.refresh_from_db()
    assert (alice_co.status, alice_co.status_reason) == ("suspended", "未按期报送")
    services.enterprise_reinstate(actor=reviewer, enterprise=alice_co, reason="已整改")
    alice_co.refresh_from_db()
    assert alice_co.status == "active"


# --- manufacturer codes ------------------------------------------------------------------------------------------


def test_admin_assigns_a_manufacturer_code_to_a_battery_maker(admin_user, alice_co):
    code = services.manufacturer_code_assign(actor=admin_user, enterprise=alice_co, code=" 0pa ")
    assert code.code == "0PA" and code.enterprise == alice_co


def test_a_manufacturer_code_is_unique_across_the_country(admin_user, alice_co):
    other = EnterpriseFactory(roles=["battery_maker"])
    services.manufacturer_code_assign(actor=admin_user, enterprise=alice_co, code="0PA")
    with pytest.raises(DomainError) as err:
        services.manufacturer_code_assign(actor=admin_user, enterprise=other, code="0PA")
    assert err.value.code == "manufacturer_code_taken"
    assert alice_co.name in str(err.value.message)
    assert ManufacturerCode.objects.count() == 1


@pytest.mark.parametrize("code,pos", [("0P", None), ("0pé", 3), ("0-A", 2)])
def test_a_malformed_manufacturer_code_is_refused(admin_user, alice_co, code, pos):
    with pytest.raises(DomainError) as err:
        services.manufacturer_code_assign(actor=admin_user, enterprise=alice_co, code=code)
    assert err.value.code == "manufacturer_code_invalid"
    if pos:
        assert str(pos) in str(err.value.message)


def test_only_battery_makers_get_manufacturer_codes(admin_user, bob_co):
    with pytest.raises(DomainError) as err:
        services.manufacturer_code_assign(actor=admin_user, enterprise=bob_co, code="0PA")
    assert err.value.code == "not_a_battery_maker"


def test_reviewers_do_not_assign_manufacturer_codes(reviewer, alice_co):
    with pytest.raises(DomainError) as err:
        services.manufacturer_code_assign(actor=reviewer, enterprise=alice_co, code="0PA")
    assert err.value.status == 403


# --- licences --------------------------------------------------------------------------------------------------


@pytest.fixture
def recycler_co(db):
    return EnterpriseFactory(name="湘江资源循环", roles=["recycler"], province="43")


def grant(actor, enterprise, **overrides):
    today = timezone.localdate()
    kwargs = dict(number="HB-2026-0001", scopes=["dismantling", "hydrometallurgy"], chemistries=["B", "E"],
                  annual_capacity_tonnes="5000", valid_from=today - timedelta(days=30),
                  valid_to=today + timedelta(days=365))
    kwargs.update(overrides)
    return services.recycler_licence_grant(actor=actor, enterprise=enterprise, **kwargs)


def test_admin_grants_a_licence_and_the_grant_is_in_its_history(admin_user, recycler_co):
    licence = grant(admin_user, recycler_co)
    assert licence.status == "active"
    assert [(c.action, c.actor) for c in licence.changes.all()] == [("granted", admin_user)]


@pytest.mark.parametrize("capacity", ["0", "-5", "abc", "NaN", "Infinity"])
def test_capacity_must_be_positive(admin_user, recycler_co, capacity):
    with pytest.raises(DomainError) as err:
        grant(admin_user, recycler_co, annual_capacity_tonnes=capacity)
    assert err.value.code == "licence_capacity_invalid"
    assert RecyclerLicence.objects.count() == 0


def test_dates_must_be_ordered(admin_user, recycler_co):
    today = timezone.localdate()
    with pytest.raises(DomainError) as err:
        grant(admin_user, recycler_co, valid_from=today, valid_to=today - timedelta(days=1))
    assert err.value.code == "licence_dates_invalid"


def test_an_already_expired_licence_is_refused(admin_user, recycler_co):
    with pytest.raises(DomainError) as err:
        grant(admin_user, recycler_co, valid_from=date(2020, 1, 1), valid_to=date(2021, 1, 1))
    assert err.value.code == "licence_expired"


def test_licences_of_one_recycler_may_not_overlap(admin_user, recycler_co):
    first = grant(admin_user, recycler_co)
    with pytest.raises(DomainError) as err:
        grant(admin_user, recycler_co, number="HB-2026-0002", valid_from=first.valid_to,
              valid_to=first.valid_to + timedelta(days=365))
    assert err.value.code == "licence_overlap"
    assert first.number in str(err.value.message)
    # the day after the first ends is fine
    grant(admin_user, recycler_co, number="HB-2026-0003", valid_from=first.valid_to + timedelta(days=1),
          valid_to=first.valid_to + timedelta(days=365))


def test_a_revoked_licence_does_not_block_a_new_one(admin_user, recycler_co):
    first = grant(admin_user, recycler_co)
    services.recycler_licence_revoke(actor=admin_user, licence=first, reason="现场核查不合格")
    grant(admin_user, recycler_co, number="HB-2026-0009")


def test_licence_numbers_are_unique(admin_user, recycler_co):
    grant(admin_user, recycler_co)
    other = EnterpriseFactory(roles=["recycler"])
    with pytest.raises(DomainError) as err:
        grant(admin_user, other)
    assert err.value.code == "licence_number_taken"


def test_only_recyclers_are_licensed(admin_user, alice_co):
    with pytest.raises(DomainError) as err:
        grant(admin_user, alice_co)
    assert err.value.code == "not_a_recycler"


def test_scope_and_chemistry_are_required(admin_user, recycler_co):
    with pytest.raises(DomainError) as err:
        grant(admin_user, recycler_co, scopes=[])
    assert err.value.code == "licence_scope_required"
    with pytest.raises(DomainError) as err:
        grant(admin_user, recycler_co, chemistries=[])
    assert err.value.code == "licence_chemistry_required"


def test_reviewers_cannot_grant_licences(reviewer, recycler_co):
    with pytest.raises(DomainError) as err:
        grant(reviewer, recycler_co)
    assert err.value.status == 403


def test_suspend_reinstate_revoke_keep_the_full_history(admin_user, recycler_co):
    licence = grant(admin_user, recycler_co)
    services.recycler_licence_suspend(actor=admin_user, licence=licence, reason="整改")
    services.recycler_licence_reinstate(actor=admin_user, licence=licence, reason="整改完成")
    services.recycler_licence_revoke(actor=admin_user, licence=licence, reason="违法转移")
    licence.refresh_from_db()
    assert licence.status == "revoked"
    assert [c.action for c in licence.changes.order_by("id")] == ["granted", "suspended", "reinstated", "revoked"]
    with pytest.raises(DomainError) as err:
        services.recycler_licence_reinstate(actor=admin_user, licence=licence, reason="再次申请")
    assert err.value.code == "licence_status_invalid"


def test_a_status_change_needs_a_reason(admin_user, recycler_co):
    licence = grant(admin_user, recycler_co)
    with pytest.raises(DomainError) as err:
        services.recycler_licence_suspend(actor=admin_user, licence=licence, reason=" ")
    assert err.value.code == "reason_required"
    assert LicenceChange.objects.filter(licence=licence).count() == 1


# --- the selector later issues call at every handover -------------------------------------------------------------


def test_may_receive_only_while_the_licence_is_in_force_and_covers_the_work(admin_user, recycler_co):
    today = timezone.localdate()
    licence = grant(admin_user, recycler_co, chemistries=["B"], scopes=["dismantling"],
                    valid_from=today - timedelta(days=10), valid_to=today + timedelta(days=10))
    may = selectors.recycler_may_receive
    assert may(enterprise=recycler_co, chemistry="B", scope="dismantling", on_date=today)
    assert not may(enterprise=recycler_co, chemistry="E", scope="dismantling", on_date=today)  # chemistry
    assert not may(enterprise=recycler_co, chemistry="B", scope="hydrometallurgy", on_date=today)  # scope
    assert not may(enterprise=recycler_co, chemistry="B", scope="dismantling", on_date=today + timedelta(days=11))
    assert not may(enterprise=recycler_co, chemistry="B", scope="dismantling", on_date=today - timedelta(days=11))
    assert may(enterprise=recycler_co, chemistry="B", scope="dismantling", on_date=today + timedelta(days=10))

    services.recycler_licence_suspend(actor=admin_user, licence=licence, reason="暂停")
    assert not may(enterprise=recycler_co, chemistry="B", scope="dismantling", on_date=today)
    services.recycler_licence_reinstate(actor=admin_user, licence=licence, reason="恢复")
    assert may(enterprise=recycler_co, chemistry="B", scope="dismantling", on_date=today)
    services.recycler_licence_revoke(actor=admin_user, licence=licence, reason="撤销")
    assert not may(enterprise=recycler_co, chemistry="B", scope="dismantling", on_date=today)


def test_a_suspended_recycler_may_not_receive_even_with_a_licence(reviewer):
    licence = LicenceFactory(valid_from=date(2020, 1, 1), valid_to=date(2099, 1, 1))
    today = timezone.localdate()
    assert selectors.recycler_may_receive(enterprise=licence.enterprise, chemistry="B", scope="dismantling", on_date=today)
    services.enterprise_suspend(actor=reviewer, enterprise=licence.enterprise, reason="停产整顿")
    assert not selectors.recycler_may_receive(enterprise=licence.enterprise, chemistry="B", scope="dismantling",
                                              on_date=today)


def test_the_public_list_shows_only_licences_in_force():
    today = timezone.localdate()
    in_force = LicenceFactory(valid_from=today - timedelta(days=1), valid_to=today + timedelta(days=1))
    LicenceFactory(valid_from=today + timedelta(days=1), valid_to=today + timedelta(days=9))  # future
    LicenceFactory(valid_from=date(2020, 1, 1), valid_to=today - timedelta(days=1))  # expired
    LicenceFactory(status="suspended")
    LicenceFactory(status="revoked")
    LicenceFactory(enterprise=EnterpriseFactory(roles=["recycler"], status="suspended"))
    assert list(selectors.public_licensed_recyclers(on_date=today)) == [in_force]


# --- audit trail ------------------------------------------------------------------------------------------------


def test_every_change_is_in_the_audit_trail_with_the_acting_user(reviewer, alice_co):
    import pghistory.models

    services.enterprise_suspend(actor=reviewer, enterprise=alice_co, reason="核查")
    events = pghistory.models.Events.objects.references(alice_co).order_by("pgh_created_at")
    suspension = [e for e in events if e.pgh_data.get("status") == "suspended"]
    assert suspension, list(events)
    assert suspension[-1].pgh_context["user"] == reviewer.pk
    assert suspension[-1].pgh_context["service"].endswith("enterprise_suspend")


def test_bulk_updates_are_audited_too(alice_co):
    """pghistory works by trigger: even a queryset update that bypasses save() leaves a trace."""
    import pghistory.models

    Enterprise.objects.filter(pk=alice_co.pk).update(address="被直接修改的地址")
    assert any(e.pgh_data.get("address") == "被直接修改的地址"
               for e in pghistory.models.Events.objects.tracks(alice_co))
