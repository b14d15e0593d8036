"""The recycler licence application (filing kind licence_application; issue 5, ADR 0016): a recycler asks to be
listed; reviewers review; only an administrator's approval grants the licence, in the same transaction, through
recycler_licence_grant. Submit → return → resubmit → approve through the services, the pages and the API; clear
errors that change nothing; outsiders get 404."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.core.errors import DomainError, NotFound
from apps.enterprises.models import LicenceApplication, Membership, RecyclerLicence
from apps.enterprises.services import licence_application_create, licence_application_update
from apps.filings import services as filing_services
from apps.filings.models import Filing
from tests.api_helpers import API, assert_error
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory, MembershipFactory, pdf_upload
from tests.web import redirect_path

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def recycler_co(db):
    return EnterpriseFactory(name="闽东再生资源有限公司", province="35", roles=["recycler"])


@pytest.fixture
def recycler(recycler_co):
    return MembershipFactory(enterprise=recycler_co, role=Membership.Role.ADMIN, user__username="recycler_admin").user


def terms(**overrides) -> dict:
    data = {"number": "闽再生许2026-018", "scopes": ["dismantling", "hydrometallurgy"], "chemistries": ["E", "F"],
            "annual_capacity_tonnes": "12000.5", "valid_from": TODAY, "valid_to": TODAY + dt.timedelta(days=3 * 365),
            "address": "宁德市东侨区1号"}
    data.update(overrides)
    return data


def apply(actor, document=None, **overrides) -> Filing:
    return licence_application_create(actor=actor, data=terms(**overrides), document=document or pdf_upload())


def round_to_in_review(filing, reviewer):
    filing_services.filing_submit(actor=filing.created_by, filing_id=filing.pk)
    filing_services.filing_claim(actor=reviewer, filing_id=filing.pk)


def test_the_whole_round_through_the_services(recycler, recycler_co, reviewer, admin_user):
    filing = apply(recycler)
    assert (filing.kind, filing.status) == ("licence_application", "draft")
    round_to_in_review(filing, reviewer)
    filing_services.filing_return(actor=reviewer, filing_id=filing.pk, comment="有效期与许可证不符")
    licence_application_update(actor=recycler, filing_id=filing.pk,
                               data=terms(valid_to=TODAY + dt.timedelta(days=5 * 365)))
    filing_services.filing_resubmit(actor=recycler, filing_id=filing.pk, comment="已改正")
    filing_services.filing_claim(actor=admin_user, filing_id=filing.pk)
    filing_services.filing_approve(actor=admin_user, filing_id=filing.pk)
    licence = RecyclerLicence.objects.get(enterprise=recycler_co)
    assert (licence.number, licence.scopes, licence.valid_to, str(licence.annual_capacity_tonnes)) == (
        "闽再生许2026-018", ["dismantling", "hydrometallurgy"], TODAY + dt.timedelta(days=5 * 365), "12000.500")
    assert licence.changes.get().actor == admin_user
    assert LicenceApplication.objects.get(filing=filing).licence == licence
    assert list(Filing.objects.get(pk=filing.pk).transitions.values_list("to_status", flat=True)) == [
        "submitted", "in_review", "returned", "resubmitted", "in_review", "approved"]


def test_a_reviewer_cannot_grant(recycler, recycler_co, reviewer):
    filing = apply(recycler)
    round_to_in_review(filing, reviewer)
    with pytest.raises(DomainError) as err:
        filing_services.filing_approve(actor=reviewer, filing_id=filing.pk)
    assert (err.value.code, err.value.status) == ("permission_denied", 403)
    assert Filing.objects.get(pk=filing.pk).status == "in_review"
    assert not RecyclerLicence.objects.exists()


def test_an_overlap_found_at_grant_time_refuses_the_approval_and_changes_nothing(recycler, recycler_co, reviewer,
                                                                                  admin_user):
    filing = apply(recycler)
    filing_services.filing_submit(actor=recycler, filing_id=filing.pk)
    filing_services.filing_claim(actor=admin_user, filing_id=filing.pk)
    LicenceFactory(enterprise=recycler_co, number="OTHER-1", valid_from=TODAY, valid_to=TODAY + dt.timedelta(days=30))
    with pytest.raises(DomainError) as err:
        filing_services.filing_approve(actor=admin_user, filing_id=filing.pk)
    assert err.value.code == "licence_overlap"
    assert Filing.objects.get(pk=filing.pk).status == "in_review"
    assert RecyclerLicence.objects.count() == 1


@pytest.mark.parametrize("overrides,code,field", [
    ({"annual_capacity_tonnes": "0"}, "licence_capacity_invalid", "annual_capacity_tonnes"),
    ({"annual_capacity_tonnes": "-5"}, "licence_capacity_invalid", "annual_capacity_tonnes"),
    ({"annual_capacity_tonnes": "很多"}, "licence_capacity_invalid", "annual_capacity_tonnes"),
    ({"annual_capacity_tonnes": "NaN"}, "licence_capacity_invalid", "annual_capacity_tonnes"),
    ({"valid_to": TODAY - dt.timedelta(days=1)}, "licence_dates_invalid", "valid_to"),
    ({"scopes": []}, "licence_scope_required", "scopes"),
    ({"address": "<b>x</b>"}, "markup_not_allowed", "address"),
])
def test_bad_terms_are_refused_and_nothing_is_saved(recycler, overrides, code, field):
    with pytest.raises(DomainError) as err:
        apply(recycler, **overrides)
    assert (err.value.code, err.value.field) == (code, field)
    assert not Filing.objects.exists() and not LicenceApplication.objects.exists()


def test_a_non_recycler_cannot_apply(alice, alice_co):
    with pytest.raises(DomainError) as err:
        apply(alice)
    assert (err.value.code, err.value.field) == ("not_a_recycler", "enterprise")
    assert not Filing.objects.exists()


def test_an_overlapping_licence_is_refused_at_application(recycler, recycler_co):
    LicenceFactory(enterprise=recycler_co, number="OLD-1", valid_from=TODAY - dt.timedelta(days=10),
                   valid_to=TODAY + dt.timedelta(days=10))
    with pytest.raises(DomainError) as err:
        apply(recycler)
    assert (err.value.code, err.value.field) == ("licence_overlap", "valid_from")
    assert "OLD-1" in str(err.value.message)


def test_the_document_must_be_a_pdf_by_its_content(recycler):
    png = SimpleUploadedFile("licence.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 50, content_type="application/pdf")
    with pytest.raises(DomainError) as err:
        apply(recycler, document=png)
    assert (err.value.code, err.value.field) == ("file_not_pdf", "document")
    assert not Filing.objects.exists()


def test_a_submitted_application_cannot_be_changed(recycler):
    filing = apply(recycler)
    filing_services.filing_submit(actor=recycler, filing_id=filing.pk)
    with pytest.raises(DomainError) as err:
        licence_application_update(actor=recycler, filing_id=filing.pk, data=terms(number="X-2"))
    assert err.value.code == "filing_not_editable"


def test_outsiders_never_reach_an_application(recycler, bob, reviewer_gd, reviewer):
    filing = apply(recycler)
    with pytest.raises(NotFound):
        licence_application_update(actor=bob, filing_id=filing.pk, data=terms())
    filing_services.filing_submit(actor=recycler, filing_id=filing.pk)
    with pytest.raises(NotFound):
        filing_services.filing_claim(actor=reviewer_gd, filing_id=filing.pk)
    assert Filing.objects.get(pk=filing.pk).status == "submitted"


# --- the pages ------------------------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = terms(**overrides)
    data["valid_from"], data["valid_to"] = data["valid_from"].isoformat(), data["valid_to"].isoformat()
    return data


def test_the_whole_round_through_the_pages(recycler, recycler_co, reviewer, admin_user):
    company = signed_in(recycler)
    assert company.get("/enterprise/licence-applications/new/").status_code == 200
    response = company.post("/enterprise/licence-applications/new/", {**form_data(), "document": pdf_upload()})
    filing = Filing.objects.get()
    assert redirect_path(response) == f"/filings/{filing.pk}/"
    detail = company.get(f"/filings/{filing.pk}/").content.decode()
    assert "闽再生许2026-018" in detail and f"/enterprise/licence-applications/{filing.pk}/edit/" in detail
    assert company.get(f"/licence-applications/{filing.pk}/document.pdf").status_code == 200
    company.post(f"/filings/{filing.pk}/submit/")
    reviewer_client = signed_in(reviewer)
    reviewer_client.post(f"/review/filings/{filing.pk}/claim/")
    review = reviewer_client.get(f"/review/filings/{filing.pk}/")
    assert 'value="approve"' not in review.content.decode()  # only an administrator grants
    reviewer_client.post(f"/review/filings/{filing.pk}/", {"decision": "return", "comment": "请上传盖章版",
                                                            "confirm": "on"})
    assert Filing.objects.get(pk=filing.pk).status == "returned"
    response = company.post(f"/enterprise/licence-applications/{filing.pk}/edit/",
                            {**form_data(annual_capacity_tonnes="0")})
    assert response.status_code == 200 and response.context["form"].errors["annual_capacity_tonnes"]
    assert Filing.objects.get(pk=filing.pk).status == "returned"
    response = company.post(f"/enterprise/licence-applications/{filing.pk}/edit/",
                            {**form_data(), "document": pdf_upload()})
    assert redirect_path(response) == f"/filings/{filing.pk}/"
    company.post(f"/filings/{filing.pk}/resubmit/", {"comment": "已上传"})
    admin_client = signed_in(admin_user)
    admin_client.post(f"/review/filings/{filing.pk}/claim/")
    response = admin_client.post(f"/review/filings/{filing.pk}/", {"decision": "approve", "comment": "",
                                                                    "confirm": "on"})
    assert response.status_code == 302
    assert RecyclerLicence.objects.get(enterprise=recycler_co).number == "闽再生许2026-018"


def test_a_non_recycler_sees_why_on_the_form(alice):
    response = signed_in(alice).post("/en/enterprise/licence-applications/new/",
                                     {**form_data(), "document": pdf_upload()})
    assert response.status_code == 200
    assert "Only an enterprise with the recycler role" in response.content.decode()
    assert not Filing.objects.exists()


def test_outsiders_get_404_on_the_pages(recycler, bob, reviewer_gd):
    filing = apply(recycler)
    filing_services.filing_submit(actor=recycler, filing_id=filing.pk)
    bob_client = signed_in(bob)
    assert bob_client.get(f"/enterprise/licence-applications/{filing.pk}/edit/").status_code == 404
    assert bob_client.get(f"/licence-applications/{filing.pk}/document.pdf").status_code == 404
    assert signed_in(reviewer_gd).get(f"/review/filings/{filing.pk}/").status_code == 404


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_whole_round_through_the_api(api_for, recycler, recycler_co, reviewer, admin_user):
    company = api_for(recycler)
    created = company.post(f"{API}/licence-applications/", {**form_data(), "document": pdf_upload()},
                           format="multipart")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["licence_application"]["number"] == "闽再生许2026-018"
    company.post(f"{API}/filings/{pk}/submit/", {}, format="json")
    regulator = api_for(reviewer)
    regulator.post(f"{API}/filings/{pk}/claim/", {}, format="json")
    assert_error(regulator.post(f"{API}/filings/{pk}/approve/", {}, format="json"), 403, "permission_denied")
    assert regulator.post(f"{API}/filings/{pk}/return/", {"comment": "请核对产能"}, format="json").json()["status"] \
        == "returned"
    assert_error(company.post(f"{API}/licence-applications/{pk}/", form_data(annual_capacity_tonnes="abc"),
                              format="multipart"), 400, "licence_capacity_invalid", "annual_capacity_tonnes")
    updated = company.post(f"{API}/licence-applications/{pk}/", form_data(annual_capacity_tonnes="9000"),
                           format="multipart")
    assert updated.json()["licence_application"]["annual_capacity_tonnes"] == "9000.000"
    company.post(f"{API}/filings/{pk}/resubmit/", {"comment": "已改"}, format="json")
    admin = api_for(admin_user)
    admin.post(f"{API}/filings/{pk}/claim/", {}, format="json")
    approved = admin.post(f"{API}/filings/{pk}/approve/", {}, format="json")
    assert approved.json()["status"] == "approved", approved.content
    assert approved.json()["licence_application"]["licence"] == RecyclerLicence.objects.get(enterprise=recycler_co).pk


def test_the_api_refuses_bad_terms_clearly(api_for, recycler):
    company = api_for(recycler)
    assert_error(company.post(f"{API}/licence-applications/", {
        **form_data(valid_to=(TODAY - dt.timedelta(days=1))), "document": pdf_upload()}, format="multipart"),
        400, "licence_dates_invalid", "valid_to")
    assert not Filing.objects.exists()


def test_outsiders_get_404_from_the_api(api_for, recycler, bob, reviewer_gd):
    filing = apply(recycler)
    assert_error(api_for(bob).post(f"{API}/licence-applications/{filing.pk}/", form_data(), format="multipart"),
                 404, "not_found")
    filing_services.filing_submit(actor=recycler, filing_id=filing.pk)
    assert api_for(reviewer_gd).get(f"{API}/filings/{filing.pk}/").status_code == 404
