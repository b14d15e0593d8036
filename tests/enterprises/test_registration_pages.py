"""The public registration form, the applicant's status page and the correction form."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import User
from apps.enterprises.models import Enterprise, EnterpriseStatusChange, Membership
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, MembershipFactory, pdf_upload, valid_uscc
from tests.web import (
    company_data,
    field_errors,
    page_text,
    redirect_path,
    registration_data,
    sign_in_with_form,
)

pytestmark = pytest.mark.django_db

REGISTER = "/register/"
# Error messages are asserted in English: the Chinese pages are translated by someone else.
REGISTER_EN = "/en/register/"


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def applicant_co(db):
    return EnterpriseFactory(name="申请中的回收公司", province="35", roles=["recycler"], status="pending",
                             business_licence=pdf_upload())


@pytest.fixture
def applicant(applicant_co):
    return MembershipFactory(enterprise=applicant_co, role=Membership.Role.ADMIN, user__username="applicant").user


# --- the form ---------------------------------------------------------------------------------------------------


def test_registration_page_shows_the_form_to_anonymous_visitors(anon):
    response = anon.get(REGISTER)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    for name in ("uscc", "business_licence", "roles", "applicant_password2", "confirm_truth"):
        assert f'name="{name}"' in html


def test_signed_in_user_visiting_registration_is_sent_to_the_dashboard(alice):
    client = signed_in(alice)
    assert redirect_path(client.get(REGISTER)) == "/dashboard/"
    before = Enterprise.objects.count()
    client.post(REGISTER, registration_data())
    assert Enterprise.objects.count() == before


def test_registration_creates_a_pending_enterprise_and_its_applicant_and_signs_them_in(anon, settings):
    data = registration_data(uscc=valid_uscc(), applicant_username="chenjing")
    response = anon.post(REGISTER, data)
    assert redirect_path(response) == "/application/"

    enterprise = Enterprise.objects.get(uscc=data["uscc"])
    assert enterprise.status == Enterprise.Status.PENDING
    assert enterprise.name == "闽南电池回收有限公司"
    assert enterprise.province == "35"
    assert enterprise.roles == ["recycler"]
    with enterprise.business_licence.open("rb") as f:
        assert f.read(5) == b"%PDF-"

    user = User.objects.get(username="chenjing")
    assert user.kind == User.Kind.COMPANY
    assert user.check_password("Bright-river-2026")
    membership = Membership.objects.get(user=user)
    assert membership.enterprise == enterprise
    assert membership.role == Membership.Role.ADMIN
    assert EnterpriseStatusChange.objects.filter(enterprise=enterprise, action="submitted", actor=user).exists()

    assert int(anon.session["_auth_user_id"]) == user.pk
    status_page = anon.get("/application/")
    assert status_page.status_code == 200
    assert status_page.context["enterprise"] == enterprise
    text = page_text(status_page)
    assert "闽南电池回收有限公司" in text
    assert data["uscc"] in text


def test_new_applicant_can_sign_in_again_later_with_the_chosen_password(anon):
    anon.post(REGISTER, registration_data(applicant_username="chenjing"))
    anon.post("/accounts/logout/")
    client = Client()
    assert redirect_path(sign_in_with_form(client, "chenjing", "Bright-river-2026")) == "/dashboard/"
    assert redirect_path(client.get("/dashboard/")) == "/application/"


@pytest.mark.parametrize("path", ["/enterprise/staff/", "/enterprise/api-keys/", "/enterprise/", "/review/enterprises/",
                                  "/licences/", "/application/edit/"],
                         ids=["staff", "keys", "profile", "review", "licences", "edit"])
def test_applicant_cannot_reach_enterprise_pages_before_approval(anon, path):
    anon.post(REGISTER, registration_data())
    response = anon.get(path)
    assert redirect_path(response) == "/application/"


def test_applicant_cannot_invite_staff_or_create_keys_before_approval(anon):
    anon.post(REGISTER, registration_data(applicant_username="chenjing"))
    users_before = User.objects.count()
    anon.post("/enterprise/staff/", {"email": "friend@example.cn", "role": "filer"})
    anon.post("/enterprise/api-keys/", {"name": "ERP"})
    assert User.objects.count() == users_before
    from apps.accounts.models import APIKey

    assert not APIKey.objects.exists()


def test_applicant_may_read_the_public_list_of_licensed_recyclers(applicant):
    client = signed_in(applicant)
    assert client.get("/recyclers/").status_code == 200


def test_applicant_may_download_the_business_licence_they_uploaded(applicant, applicant_co):
    client = signed_in(applicant)
    response = client.get(f"/enterprises/{applicant_co.pk}/business-licence.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


# --- refusals: shown on the form, nothing saved --------------------------------------------------------------------


def _refused(client, settings, data, field):
    enterprises, users, memberships = Enterprise.objects.count(), User.objects.count(), Membership.objects.count()
    response = client.post(REGISTER_EN, data)
    assert response.status_code == 200, "the form should be shown again"
    errors = field_errors(response, field)
    assert errors, (field, response.context["form"].errors)
    for error in errors:
        assert error in page_text(response)
    assert (Enterprise.objects.count(), User.objects.count(), Membership.objects.count()) == (
        enterprises, users, memberships)
    assert stored_files(settings) == []
    assert "_auth_user_id" not in client.session
    return errors


def test_wrong_check_character_is_refused_naming_the_expected_character(anon, settings):
    good = valid_uscc()
    wrong_last = "1" if good[-1] != "1" else "2"
    errors = _refused(anon, settings, registration_data(uscc=good[:17] + wrong_last), "uscc")
    assert f"should be {good[-1]}" in errors[0]
    assert "position 18" in errors[0]


def test_uscc_of_the_wrong_length_is_refused(anon, settings):
    errors = _refused(anon, settings, registration_data(uscc="91350200776049653"), "uscc")
    assert "17" in errors[0]


def test_uscc_with_a_forbidden_letter_is_refused_naming_its_position(anon, settings):
    errors = _refused(anon, settings, registration_data(uscc="9135020077O049653A"), "uscc")
    assert "O" in errors[0] and "11" in errors[0]


def test_duplicate_uscc_is_refused(anon, settings, alice_co):
    errors = _refused(anon, settings, registration_data(uscc=alice_co.uscc), "uscc")
    assert alice_co.uscc in errors[0]


def test_uscc_is_normalised_before_the_duplicate_check(anon, settings, alice_co):
    spaced = " ".join([alice_co.uscc[:9], alice_co.uscc[9:]]).lower()
    _refused(anon, settings, registration_data(uscc=spaced), "uscc")


def test_uscc_of_a_rejected_application_may_apply_again(anon):
    rejected = EnterpriseFactory(status="rejected")
    response = anon.post(REGISTER, registration_data(uscc=rejected.uscc))
    assert redirect_path(response) == "/application/"
    assert Enterprise.objects.filter(uscc=rejected.uscc).count() == 2


def test_a_png_renamed_to_pdf_is_refused(anon, settings):
    png = SimpleUploadedFile("licence.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 200, content_type="application/pdf")
    errors = _refused(anon, settings, registration_data(business_licence=png), "business_licence")
    assert "PDF" in errors[0]


def test_a_text_file_renamed_to_pdf_is_refused(anon, settings):
    text = SimpleUploadedFile("licence.pdf", "营业执照".encode(), content_type="application/pdf")
    _refused(anon, settings, registration_data(business_licence=text), "business_licence")


def test_an_oversized_business_licence_is_refused_with_the_limit(anon, settings):
    settings.BUSINESS_LICENCE_MAX_BYTES = 2 * 1024 * 1024
    big = pdf_upload(size=3 * 1024 * 1024)
    errors = _refused(anon, settings, registration_data(business_licence=big), "business_licence")
    assert "2 MB" in errors[0]


def test_a_missing_business_licence_is_refused(anon, settings):
    data = registration_data()
    del data["business_licence"]
    _refused(anon, settings, data, "business_licence")


@pytest.mark.parametrize("field,value", [
    ("name", "<b>回收</b>有限公司"),
    ("address", "厦门市<script>alert(1)</script>"),
    ("contact_name", "陈<i>静</i>"),
    ("applicant_username", "<img src=x>"),
])
def test_html_in_a_text_field_is_refused(anon, settings, field, value):
    errors = _refused(anon, settings, registration_data(**{field: value}), field)
    assert "HTML" in errors[0]


def test_no_role_chosen_is_refused(anon, settings):
    _refused(anon, settings, registration_data(roles=None), "roles")


def test_an_unknown_role_is_refused(anon, settings):
    _refused(anon, settings, registration_data(roles=["smuggler"]), "roles")


def test_passwords_that_differ_are_refused(anon, settings):
    errors = _refused(anon, settings, registration_data(applicant_password2="Bright-river-2027"), "applicant_password2")
    assert errors


def test_a_weak_password_is_refused(anon, settings):
    _refused(anon, settings, registration_data(applicant_password="1234567890", applicant_password2="1234567890"),
             "applicant_password")


def test_a_taken_user_name_is_refused(anon, settings, alice):
    _refused(anon, settings, registration_data(applicant_username="ALICE"), "applicant_username")


def test_a_taken_e_mail_address_is_refused(anon, settings, alice):
    _refused(anon, settings, registration_data(applicant_email=alice.email.upper()), "applicant_email")


def test_not_confirming_the_truth_of_the_information_is_refused(anon, settings):
    _refused(anon, settings, registration_data(confirm_truth=None), "confirm_truth")


def test_no_province_is_refused(anon, settings):
    _refused(anon, settings, registration_data(province=""), "province")


def test_refused_form_keeps_what_was_typed_except_the_passwords(anon, settings):
    response = anon.post(REGISTER, registration_data(roles=None))
    html = response.content.decode()
    assert 'value="闽南电池回收有限公司"' in html
    assert "Bright-river-2026" not in html


# --- the status page and the correction form --------------------------------------------------------------------


def test_status_page_shows_a_pending_application(applicant, applicant_co):
    response = signed_in(applicant).get("/application/")
    assert response.status_code == 200
    assert response.context["enterprise"] == applicant_co
    assert "申请中的回收公司" in page_text(response)
    assert "/application/edit/" not in response.content.decode()


def test_active_enterprise_visiting_the_status_page_is_sent_to_its_profile(alice):
    assert redirect_path(signed_in(alice).get("/application/")) == "/enterprise/"


def test_status_page_is_only_for_company_staff(reviewer, anon):
    assert signed_in(reviewer).get("/application/").status_code == 403
    assert redirect_path(anon.get("/application/")).startswith("/accounts/login/")


def test_pending_application_cannot_be_edited(applicant, applicant_co):
    client = signed_in(applicant)
    assert redirect_path(client.get("/application/edit/")) == "/application/"
    response = client.post("/application/edit/", company_data(applicant_co, name="改名有限公司"))
    assert redirect_path(response) == "/application/"
    applicant_co.refresh_from_db()
    assert applicant_co.name == "申请中的回收公司"


def _returned(enterprise, comment="营业执照扫描件不清晰"):
    Enterprise.objects.filter(pk=enterprise.pk).update(status="returned", status_reason=comment)
    enterprise.refresh_from_db()
    return enterprise


def test_correction_form_is_prefilled_and_shows_the_reviewers_comment(applicant, applicant_co):
    _returned(applicant_co)
    response = signed_in(applicant).get("/application/edit/")
    assert response.status_code == 200
    assert "营业执照扫描件不清晰" in page_text(response)
    assert f'value="{applicant_co.uscc}"' in response.content.decode()


def test_correction_with_a_bad_uscc_is_refused_and_stays_returned(applicant, applicant_co):
    _returned(applicant_co)
    good = applicant_co.uscc
    bad = good[:17] + ("1" if good[-1] != "1" else "2")
    response = signed_in(applicant).post("/en/application/edit/", company_data(applicant_co, uscc=bad))
    assert response.status_code == 200
    assert f"should be {good[-1]}" in " ".join(field_errors(response, "uscc"))
    applicant_co.refresh_from_db()
    assert (applicant_co.status, applicant_co.uscc) == ("returned", good)


def test_correction_with_a_non_pdf_is_refused(applicant, applicant_co):
    _returned(applicant_co)
    old_name = applicant_co.business_licence.name
    png = SimpleUploadedFile("new.pdf", b"\x89PNG\r\n\x1a\n", content_type="application/pdf")
    response = signed_in(applicant).post("/application/edit/", {**company_data(applicant_co), "business_licence": png})
    assert field_errors(response, "business_licence")
    applicant_co.refresh_from_db()
    assert applicant_co.status == "returned"
    assert applicant_co.business_licence.name == old_name


def test_correction_with_a_new_pdf_replaces_the_business_licence(applicant, applicant_co):
    _returned(applicant_co)
    old_name = applicant_co.business_licence.name
    response = signed_in(applicant).post("/application/edit/",
                                         {**company_data(applicant_co), "business_licence": pdf_upload(size=10)})
    assert redirect_path(response) == "/application/"
    applicant_co.refresh_from_db()
    assert applicant_co.status == "pending"
    assert applicant_co.business_licence.name != old_name


def test_filer_of_a_returned_application_cannot_edit_it(applicant_co):
    _returned(applicant_co)
    filer = MembershipFactory(enterprise=applicant_co, role=Membership.Role.FILER).user
    client = signed_in(filer)
    status_page = client.get("/application/")
    assert "/application/edit/" not in status_page.content.decode()
    assert client.get("/application/edit/").status_code == 403
    assert client.post("/application/edit/", company_data(applicant_co, name="改名有限公司")).status_code == 403
    applicant_co.refresh_from_db()
    assert applicant_co.status == "returned"


def test_correction_form_is_not_for_outsiders(bob, reviewer, anon):
    assert redirect_path(signed_in(bob).get("/application/edit/")) == "/application/"
    assert signed_in(reviewer).get("/application/edit/").status_code == 403
    assert redirect_path(anon.get("/application/edit/")).startswith("/accounts/login/")
