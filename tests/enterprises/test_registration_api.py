"""POST /api/v1/registrations/: a company applies; every refusal leaves nothing behind."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.utils import DataError
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.enterprises.models import Enterprise, EnterpriseStatusChange, Membership
from tests.api_helpers import API, assert_error
from tests.factories import EnterpriseFactory, UserFactory, pdf_upload, valid_uscc

URL = f"{API}/registrations/"
PASSWORD = "Battery-trace-2026"


def application(**overrides) -> dict:
    data = {
        "name": "闽江储能科技有限公司",
        "uscc": valid_uscc(),
        "province": "35",
        "address": "福州市鼓楼区五四路1号",
        "contact_name": "林晓",
        "contact_phone": "0591-87654321",
        "contact_email": "contact@minjiang.example.cn",
        "roles": ["battery_maker", "recycler"],
        "business_licence": pdf_upload(),
        "applicant_username": "lin_xiao",
        "applicant_email": "lin.xiao@minjiang.example.cn",
        "applicant_password": PASSWORD,
        "applicant_full_name": "林晓",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(data: dict):
    return APIClient().post(URL, data, format="multipart")


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def nothing_saved(db, settings):
    """Assert, after the test's request, that no row and no file was written."""
    def snapshot():
        return (Enterprise.objects.count(), User.objects.count(), Membership.objects.count(),
                EnterpriseStatusChange.objects.count(), len(media_files(settings)))

    before = snapshot()
    yield
    assert snapshot() == before


# --- success ----------------------------------------------------------------------------------------------------


def test_registration_creates_a_pending_enterprise_whose_applicant_is_its_admin(db, settings):
    data = application()
    response = post(data)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "uscc", "status"}
    assert (body["name"], body["uscc"], body["status"]) == (data["name"], data["uscc"], "pending")

    enterprise = Enterprise.objects.get(pk=body["id"])
    assert enterprise.status == Enterprise.Status.PENDING
    assert enterprise.roles == ["battery_maker", "recycler"]
    assert (enterprise.province, enterprise.contact_email) == ("35", "contact@minjiang.example.cn")
    applicant = User.objects.get(username="lin_xiao")
    assert applicant.kind == User.Kind.COMPANY
    assert applicant.check_password(PASSWORD)
    membership = Membership.objects.get(user=applicant)
    assert (membership.enterprise, membership.role) == (enterprise, Membership.Role.ADMIN)
    assert enterprise.created_by == applicant
    assert list(enterprise.status_changes.values_list("action", flat=True)) == ["submitted"]

    # The business licence is kept under a name of our choosing, not the uploader's.
    assert re.fullmatch(r"business-licences/[0-9a-f]{32}\.pdf", enterprise.business_licence.name)
    assert Path(enterprise.business_licence.path).read_bytes().startswith(b"%PDF-")
    assert PASSWORD not in response.content.decode()


def test_registered_applicant_may_sign_in_but_not_use_company_endpoints_until_approved(db, api_for):
    post(application())
    applicant = User.objects.get(username="lin_xiao")

    assert_error(api_for(applicant).get(f"{API}/enterprise/"), 403, "enterprise_not_active")


def test_uscc_is_normalised_before_it_is_checked_and_stored(db):
    uscc = valid_uscc()
    spaced = " ".join([uscc[:6].lower(), uscc[6:12], uscc[12:].lower()])

    response = post(application(uscc=spaced))

    assert response.status_code == 201, response.content
    assert Enterprise.objects.get().uscc == uscc


def test_a_rejected_application_does_not_block_the_same_uscc(db):
    old = EnterpriseFactory(status=Enterprise.Status.REJECTED)
    assert post(application(uscc=old.uscc)).status_code == 201


def test_registration_needs_no_csrf_token_or_session(db):
    client = APIClient(enforce_csrf_checks=True)
    assert client.post(URL, application(), format="multipart").status_code == 201


# --- refusals ---------------------------------------------------------------------------------------------------


def test_wrong_check_character_is_refused_naming_the_expected_one(nothing_saved):
    body = assert_error(post(application(uscc="91350200776049653B")), 400, "uscc_invalid", field="uscc")
    # "…is B but should be A…": the expected check character stands on its own in the message.
    assert re.search(r"(?<![A-Za-z])A(?![A-Za-z])", body["message"]), body["message"]
    assert "B" in body["message"]


def test_api_messages_follow_accept_language(nothing_saved):
    response = APIClient().post(URL, application(uscc="91350200776049653B"), format="multipart",
                                HTTP_ACCEPT_LANGUAGE="en")
    body = assert_error(response, 400, "uscc_invalid", field="uscc")
    assert "should be A" in body["message"]


@pytest.mark.parametrize("uscc", ["9135020077604965", "91350200776049653AX", "9135020077O049653A"])
def test_malformed_uscc_is_refused(nothing_saved, uscc):
    assert_error(post(application(uscc=uscc)), 400, "uscc_invalid", field="uscc")


def test_duplicate_uscc_is_refused(db, settings):
    existing = EnterpriseFactory()
    before = (Enterprise.objects.count(), User.objects.count(), Membership.objects.count(), len(media_files(settings)))

    body = assert_error(post(application(uscc=existing.uscc)), 400, "uscc_duplicate", field="uscc")

    assert existing.uscc in body["message"]
    assert (Enterprise.objects.count(), User.objects.count(), Membership.objects.count(),
            len(media_files(settings))) == before


def test_uscc_of_an_application_under_review_is_taken(db):
    pending = EnterpriseFactory(status=Enterprise.Status.PENDING)
    before = Enterprise.objects.count()
    assert_error(post(application(uscc=pending.uscc)), 400, "uscc_duplicate", field="uscc")
    assert Enterprise.objects.count() == before


def test_upload_that_is_not_a_pdf_is_refused(nothing_saved):
    png = SimpleUploadedFile("licence.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 200, content_type="application/pdf")
    assert_error(post(application(business_licence=png)), 400, "file_not_pdf", field="business_licence")


def test_html_renamed_to_pdf_is_refused(nothing_saved):
    html = SimpleUploadedFile("licence.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    assert_error(post(application(business_licence=html)), 400, "file_not_pdf", field="business_licence")


def test_oversized_upload_is_refused(nothing_saved, settings):
    settings.BUSINESS_LICENCE_MAX_BYTES = 1024
    assert_error(post(application(business_licence=pdf_upload(size=2048))), 400, "file_too_large",
                 field="business_licence")


def test_upload_at_the_size_limit_is_accepted(db, settings):
    upload = pdf_upload(size=100)
    settings.BUSINESS_LICENCE_MAX_BYTES = upload.size
    assert post(application(business_licence=upload)).status_code == 201


def test_missing_business_licence_is_refused(nothing_saved):
    assert_error(post(application(business_licence=None)), 400, "required", field="business_licence")


@pytest.mark.parametrize("field", ["name", "address", "contact_name", "applicant_full_name"])
def test_markup_in_text_fields_is_refused(nothing_saved, field):
    assert_error(post(application(**{field: "<script>alert(1)</script>公司"})), 400, "markup_not_allowed", field=field)


def test_markup_in_company_name_is_refused_with_field_name(nothing_saved):
    body = assert_error(post(application(name="好公司<script>")), 400, "markup_not_allowed", field="name")
    assert "<" in body["message"]


def test_taken_username_is_refused(db):
    UserFactory(username="lin_xiao")
    before = (Enterprise.objects.count(), User.objects.count(), Membership.objects.count())
    assert_error(post(application()), 400, "user_already_exists", field="applicant_username")
    assert (Enterprise.objects.count(), User.objects.count(), Membership.objects.count()) == before


def test_taken_email_is_refused_whatever_its_case(db):
    UserFactory(username="someone", email="lin.xiao@minjiang.example.cn")
    before = (Enterprise.objects.count(), User.objects.count(), Membership.objects.count())
    assert_error(post(application(applicant_email="LIN.XIAO@minjiang.example.cn")), 400, "user_already_exists",
                 field="applicant_email")
    assert (Enterprise.objects.count(), User.objects.count(), Membership.objects.count()) == before


def test_common_password_is_refused(nothing_saved):
    assert_error(post(application(applicant_password="password123")), 400, "invalid", field="applicant_password")


def test_short_password_is_refused_by_shape(nothing_saved):
    assert_error(post(application(applicant_password="Short-1")), 400, "min_length", field="applicant_password")


def test_no_role_is_refused(nothing_saved):
    assert_error(post(application(roles=None)), 400, "required", field="roles")


def test_unknown_role_is_refused(nothing_saved):
    assert_error(post(application(roles=["battery_maker", "wizard"])), 400, "invalid_choice", field="roles.1")


def test_unknown_province_is_refused(nothing_saved):
    assert_error(post(application(province="99")), 400, "invalid_choice", field="province")


def test_json_is_not_accepted_for_a_registration(nothing_saved):
    data = application()
    data.pop("business_licence")
    assert_error(APIClient().post(URL, data, format="json"), 415, "unsupported_media_type")


def test_registrations_are_throttled_per_address(nothing_saved):
    client = APIClient()
    for _ in range(20):
        assert client.post(URL, {}, format="multipart").status_code == 400
    assert_error(client.post(URL, {}, format="multipart"), 429, "throttled")


def test_reading_the_public_list_does_not_use_up_registrations(nothing_saved):
    client = APIClient()
    for _ in range(25):
        assert client.get(f"{API}/public/licensed-recyclers/").status_code == 200
    assert client.post(URL, {}, format="multipart").status_code == 400  # judged on content, not throttled


def test_other_anonymous_requests_do_not_reset_the_registration_throttle(nothing_saved, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    clock = [1_800_000_000.0]
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: clock[0]))
    client = APIClient()
    for _ in range(20):
        assert client.post(URL, {}, format="multipart").status_code == 400

    clock[0] += 120  # two minutes on: the per-minute anonymous throttle forgets, the hourly one must not
    assert client.get(f"{API}/public/licensed-recyclers/").status_code == 200

    assert_error(client.post(URL, {}, format="multipart"), 429, "throttled")


def _long_email(length: int) -> str:
    local, labels = "x" * 60, []
    while len(local) + 1 + len(".".join([*labels, "cn"])) < length:
        labels.append("a" * 60)
    return local + "@" + ".".join([*labels, "cn"])


@pytest.mark.parametrize("field", ["applicant_email", "contact_email"])
def test_overlong_email_is_refused_not_a_server_error(nothing_saved, field):
    email = _long_email(300)
    assert 254 < len(email) <= 320  # still a well-formed address
    assert_error(post(application(**{field: email})), 400, "max_length", field=field)


def test_registration_service_refuses_an_overlong_email(db):
    from apps.core.errors import DomainError
    from apps.enterprises.services import enterprise_register

    data = application()
    company = {k: data[k] for k in ("name", "uscc", "province", "address", "contact_name", "contact_phone", "roles")}
    company["contact_email"] = _long_email(300)
    with pytest.raises(DomainError) as exc:
        enterprise_register(company=company, business_licence=data["business_licence"],
                            applicant_username="lin_xiao", applicant_email="lin@example.cn", applicant_password=PASSWORD)
    assert exc.value.field == "contact_email"
