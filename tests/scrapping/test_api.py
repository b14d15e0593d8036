"""Scrapping over /api/v1/scrapping/: every path through the same services as the pages (complete, missing,
mismatch with the reviewer's decision, swap exemption, non-NEV, voided, re-issued), bulk JSON all-or-nothing,
refusals with their stable codes and nothing saved, tenant isolation, the public verification endpoint, the PDF,
query counts and the OpenAPI schema."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern
from rest_framework.test import APIClient

from apps.batteries.models import Battery, Vehicle
from apps.batteries.vin import vin_check_digit
from apps.scrapping import services
from apps.scrapping.api import urls as scrapping_urls
from apps.scrapping.models import IntakeBattery, ScrappingCertificate, ScrappingIntake
from apps.scrapping.verification import certificate_token
from tests.api_helpers import API, assert_error, key_client, make_key, results
from tests.batteries.flows import installed
from tests.scrapping.conftest import CONVENTIONAL_VIN, OWNER_ID, VIN, VIN2, image_upload, intake_args, take_in

pytestmark = pytest.mark.django_db

INTAKES = f"{API}/scrapping/intakes/"
CERTIFICATES = f"{API}/scrapping/certificates/"

ROUTES = [
    (pattern, method)
    for pattern in scrapping_urls.urlpatterns
    if isinstance(pattern, URLPattern)
    for method in ("get", "post")
    if hasattr(pattern.callback.view_class, method)
]
DISMANTLER_POSTS = {"api-scrapping-intakes", "api-scrapping-intakes-bulk", "api-scrapping-intakes-file",
                    "api-scrapping-intake-photos",
                    "api-scrapping-intake-explanation", "api-scrapping-intake-withdraw",
                    "api-scrapping-intake-certificate"}
REGULATOR_POSTS = {"api-scrapping-intake-decision", "api-scrapping-certificate-void",
                   "api-scrapping-certificate-reissue"}
READS = {"api-scrapping-intakes", "api-scrapping-intake", "api-scrapping-intake-photo", "api-scrapping-certificates",
         "api-scrapping-certificate", "api-scrapping-certificate-pdf", "api-scrapping-leads-summary"}
OPEN = {"api-scrapping-verify"}


def json_body(vin=VIN, codes=(), **overrides) -> dict:
    data = {"vin": vin, "plate_number": "鄂A12345", "engine_number": "TZ220XS0001", "is_nev": True,
            "owner_id_kind": "resident_id", "owner_id_number": OWNER_ID, "declared_not_mortgaged": True,
            "declared_not_stolen": True, "battery_codes": list(codes)}
    data.update(overrides)
    return data


def multipart_body(vin=VIN, codes=(), **overrides) -> dict:
    data = {k: v for k, v in json_body(vin, codes).items() if k != "battery_codes"}
    data.update({"battery_codes": list(codes), "photo_front": image_upload(), "photo_vin": image_upload("png")})
    data.update(overrides)
    return data


def post(client, url, data=None, fmt="json", **extra):
    return client.post(url, data if data is not None else {}, format=fmt, **extra)


def intake_via_api(client, vin=VIN, codes=()):
    response = post(client, INTAKES, multipart_body(vin, codes), fmt="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def issue_via_api(client, intake_id, number="ZB-2026-000001"):
    return post(client, f"{INTAKES}{intake_id}/certificate/", {"number": number})


def conventional_vin(i: int) -> str:
    body = f"LFV2A21K0G{i:07d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def test_route_table_is_what_these_tests_know_about():
    names = {pattern.name for pattern, _ in ROUTES}
    assert names == DISMANTLER_POSTS | REGULATOR_POSTS | READS | OPEN


# --- the paths -----------------------------------------------------------------------------------------------------


def test_complete_intake_and_certificate_through_the_api(api_for, dismantler, nev, django_capture_on_commit_callbacks):
    client = api_for(dismantler)
    intake = intake_via_api(client, VIN, [nev])
    assert (intake["outcome"], intake["status"], intake["owner_id_masked"]) == ("complete", "ready", "440****1513")
    assert "owner_id_number" not in intake and OWNER_ID not in str(intake)
    assert intake["batteries"] == [{"code": nev, "result": "present", "expected": True, "found": True,
                                    "removed": False, "status_at_intake": "installed"}]
    assert intake["has_photo_front"] and intake["has_photo_vin"] and intake["lead_batteries"] == []

    with django_capture_on_commit_callbacks(execute=True):
        response = issue_via_api(client, intake["id"])
    assert response.status_code == 201, response.content
    certificate = response.json()
    assert (certificate["number"], certificate["status"], certificate["battery_codes"]) == (
        "ZB-2026-000001", "valid", [nev])
    assert certificate["handover_deadline"] and certificate["handover_state"] in ("open", "due_soon")
    assert certificate["verification_url"].startswith("http") and certificate["verification_url"].isascii()
    assert [h["action"] for h in certificate["history"]] == ["issued"]
    assert Vehicle.objects.get(vin=VIN).status == "scrapped"

    pdf = client.get(f"{CERTIFICATES}{certificate['id']}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


def test_json_intake_without_photos_then_photos_then_certificate(api_for, dismantler, nev):
    client = api_for(dismantler)
    response = post(client, INTAKES, json_body(VIN, [nev]))
    assert response.status_code == 201, response.content
    intake_id = response.json()["id"]
    assert_error(issue_via_api(client, intake_id), 409, "photos_required")
    for kind, upload in (("front", image_upload()), ("vin", image_upload("png"))):
        attached = post(client, f"{INTAKES}{intake_id}/photos/", {"kind": kind, "file": upload}, fmt="multipart")
        assert attached.status_code == 200, attached.content
    photo = client.get(f"{INTAKES}{intake_id}/photos/vin/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert issue_via_api(client, intake_id).status_code == 201


def test_a_missing_battery_blocks_the_certificate(api_for, dismantler, nev):
    client = api_for(dismantler)
    intake = intake_via_api(client, VIN, [])
    assert (intake["outcome"], intake["status"]) == ("missing", "blocked")
    body = assert_error(issue_via_api(client, intake["id"]), 409, "certificate_not_allowed")
    assert "电池缺失视为车辆缺失" in body["message"]
    assert not ScrappingCertificate.objects.exists()


def test_a_mismatch_waits_for_the_reviewer(api_for, dismantler, nev, spare, reviewer_hb, repairer):
    client = api_for(dismantler)
    intake = intake_via_api(client, VIN, [spare])
    assert (intake["outcome"], intake["status"]) == ("mismatch", "awaiting_decision")
    assert_error(issue_via_api(client, intake["id"]), 409, "certificate_not_allowed")
    explained = post(client, f"{INTAKES}{intake['id']}/explanation/", {"explanation": "维修店更换"})
    assert explained.json()["explanation"] == "维修店更换"

    regulator = api_for(reviewer_hb)
    seen = regulator.get(f"{INTAKES}{intake['id']}/").json()
    leads = {b["code"]: b for b in seen["lead_batteries"]}
    assert leads[spare]["holder_at_intake"]["name"] == repairer.enterprise.name
    assert leads[nev]["result"] == "missing" and leads[nev]["events"][-1]["kind"] == "installed"
    assert_error(post(regulator, f"{INTAKES}{intake['id']}/decision/", {"decision": "approved", "reason": ""}), 400,
                 "reason_required", "reason")
    decided = post(regulator, f"{INTAKES}{intake['id']}/decision/", {"decision": "approved", "reason": "已核实"})
    assert decided.status_code == 200 and decided.json()["status"] == "ready"
    assert issue_via_api(client, intake["id"]).status_code == 201


def test_a_refused_mismatch(api_for, dismantler, nev, spare, admin_user):
    client = api_for(dismantler)
    intake = intake_via_api(client, VIN, [spare])
    decided = post(api_for(admin_user), f"{INTAKES}{intake['id']}/decision/", {"decision": "refused",
                                                                              "reason": "无维修记录"})
    assert decided.json()["status"] == "refused"
    assert_error(issue_via_api(client, intake["id"]), 409, "certificate_not_allowed")


def test_swap_model_exemption_and_non_nev(api_for, dismantler, swap_nev):
    client = api_for(dismantler)
    swap = intake_via_api(client, VIN2, [])
    assert swap["outcome"] == "swap_exempt"
    assert issue_via_api(client, swap["id"], "ZB-SWAP-1").json()["swap_exemption"] is True
    ice = post(client, INTAKES, multipart_body(CONVENTIONAL_VIN, is_nev=False), fmt="multipart").json()
    assert (ice["outcome"], ice["status"]) == ("not_nev", "ready")
    assert issue_via_api(client, ice["id"], "ZB-ICE-1").json()["handover_state"] == "none"


def test_void_and_reissue_through_the_api(api_for, dismantler, nev, reviewer_hb, anon):
    client = api_for(dismantler)
    certificate = issue_via_api(client, intake_via_api(client, VIN, [nev])["id"]).json()
    regulator = api_for(reviewer_hb)
    assert_error(post(regulator, f"{CERTIFICATES}{certificate['id']}/void/", {"reason": ""}), 400,
                 "reason_required")
    voided = post(regulator, f"{CERTIFICATES}{certificate['id']}/void/", {"reason": "车辆被报盗抢"})
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert_error(post(regulator, f"{CERTIFICATES}{certificate['id']}/void/", {"reason": "x"}), 409,
                 "certificate_not_valid")
    public = APIClient().get(f"{API}/scrapping/verify/{certificate_token(certificate['id'])}/").json()
    assert public["status"] == "voided" and public["voided_on"]

    reissued = post(regulator, f"{CERTIFICATES}{certificate['id']}/reissue/",
                    {"number": "ZB-2026-000002", "reason": "盗抢报案已撤销"})
    assert reissued.status_code == 201, reissued.content
    assert (reissued.json()["replaces"], reissued.json()["status"]) == ("ZB-2026-000001", "valid")
    old = APIClient().get(f"{API}/scrapping/verify/{certificate_token(certificate['id'])}/").json()
    assert old["replaced_by"] == "ZB-2026-000002"
    assert_error(post(regulator, f"{CERTIFICATES}{certificate['id']}/reissue/", {"number": "ZB-3", "reason": "x"}),
                 409, "certificate_superseded")


def test_withdraw_through_the_api(api_for, dismantler, nev):
    client = api_for(dismantler)
    intake = intake_via_api(client, VIN, [nev])
    assert post(client, f"{INTAKES}{intake['id']}/withdraw/").json()["status"] == "withdrawn"
    assert_error(post(client, f"{INTAKES}{intake['id']}/withdraw/"), 409, "certificate_not_allowed")


def test_an_api_key_of_the_dismantler_works(dismantler, nev):
    _, secret = make_key(dismantler)
    response = post(key_client(secret), INTAKES, json_body(VIN, [nev]))
    assert response.status_code == 201, response.content


# --- refusals: stable codes, nothing saved -------------------------------------------------------------------------


@pytest.mark.parametrize("overrides,status,code,field", [
    ({"vin": "LSVAU218XN218329I"}, 400, "vin_invalid", "vin"),
    ({"vin": VIN2}, 400, "vehicle_unknown", "vin"),
    ({"declared_not_mortgaged": False}, 400, "declaration_required", "declared_not_mortgaged"),
    ({"declared_not_stolen": False}, 400, "declaration_required", "declared_not_stolen"),
    ({"owner_id_number": "440301199003071512"}, 400, "owner_id_invalid", "owner_id_number"),
    ({"is_nev": False, "battery_codes": []}, 400, "vehicle_is_nev", "is_nev"),
    ({"owner_id_kind": "nope"}, 400, "invalid_choice", "owner_id_kind"),
    ({"declared_not_stolen": None}, 400, "null", "declared_not_stolen"),
])
def test_bad_intakes_are_refused_with_their_code(api_for, dismantler, nev, overrides, status, code, field):
    response = post(api_for(dismantler), INTAKES, json_body(**{"vin": VIN, "codes": [nev], **overrides}))
    body = assert_error(response, status, code, field)
    assert OWNER_ID not in str(body)
    assert ScrappingIntake.objects.count() == 0 and IntakeBattery.objects.count() == 0


def test_battery_code_refusals(api_for, dismantler, maker, carmaker, nev):
    from tests.batteries.conftest import make_code

    client = api_for(dismantler)
    assert_error(post(client, INTAKES, json_body(VIN, [nev, nev])), 400, "battery_listed_twice", "battery_codes")
    assert_error(post(client, INTAKES, json_body(VIN, [make_code()])), 400, "battery_unknown", "battery_codes")
    other = installed(maker, carmaker, VIN2)
    assert_error(post(client, INTAKES, json_body(VIN, [other])), 409, "battery_held_elsewhere", "battery_codes")
    assert_error(post(client, INTAKES, json_body(VIN, ["0PA"])), 400, "battery_code_invalid", "battery_codes")
    assert ScrappingIntake.objects.count() == 0


def test_a_photo_that_is_not_an_image(api_for, dismantler, nev):
    from tests.factories import pdf_upload

    response = post(api_for(dismantler), INTAKES, multipart_body(VIN, [nev], photo_front=pdf_upload("front.jpg")),
                    fmt="multipart")
    assert_error(response, 400, "file_not_image", "photo_front")
    assert ScrappingIntake.objects.count() == 0


def test_a_used_certificate_number(api_for, dismantler, maker, carmaker, nev):
    client = api_for(dismantler)
    issue_via_api(client, intake_via_api(client, VIN, [nev])["id"])
    other = installed(maker, carmaker, VIN2)
    second = intake_via_api(client, VIN2, [other])
    assert_error(issue_via_api(client, second["id"]), 409, "certificate_number_taken", "number")
    assert Battery.objects.get(code=other).status == "installed"
    assert Vehicle.objects.get(vin=VIN2).status == "active"


def test_the_same_vin_twice(api_for, dismantler, dismantler2, nev):
    intake_via_api(api_for(dismantler), VIN, [nev])
    assert_error(post(api_for(dismantler2), INTAKES, json_body(VIN, [nev])), 409, "intake_already_open", "vin")
    assert ScrappingIntake.objects.count() == 1


def test_an_idempotent_retry_takes_the_vehicle_in_once(api_for, dismantler, nev):
    client = api_for(dismantler)
    first = post(client, INTAKES, json_body(VIN, [nev]), HTTP_IDEMPOTENCY_KEY="intake-1")
    again = post(client, INTAKES, json_body(VIN, [nev]), HTTP_IDEMPOTENCY_KEY="intake-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert ScrappingIntake.objects.count() == 1


# --- bulk ---------------------------------------------------------------------------------------------------------------


def test_bulk_intake_all_or_nothing(api_for, dismantler, nev, swap_nev):
    client = api_for(dismantler)
    items = [json_body(VIN, [nev]), json_body(VIN2, []), json_body(CONVENTIONAL_VIN, [], is_nev=False),
             json_body(conventional_vin(7), [], is_nev=False, declared_not_stolen=False), {"vin": 1}]
    refused = post(client, f"{INTAKES}bulk/", items)
    body = assert_error(refused, 400, "bulk_rejected")
    assert {e["index"] for e in body["errors"]} == {3, 4}
    assert ScrappingIntake.objects.count() == 0

    done = post(client, f"{INTAKES}bulk/", items[:3])
    assert done.status_code == 201, done.content
    assert [r["outcome"] for r in done.json()["results"]] == ["complete", "swap_exempt", "not_nev"]
    assert done.json()["count"] == 3


def test_bulk_refuses_a_non_array_and_too_many(api_for, dismantler):
    client = api_for(dismantler)
    assert_error(post(client, f"{INTAKES}bulk/", {"vin": VIN}), 400, "invalid")
    assert_error(post(client, f"{INTAKES}bulk/", []), 400, "invalid")


def test_bulk_refuses_the_same_vin_twice_in_one_request(api_for, dismantler):
    client = api_for(dismantler)
    items = [json_body(CONVENTIONAL_VIN, [], is_nev=False), json_body(CONVENTIONAL_VIN, [], is_nev=False)]
    body = assert_error(post(client, f"{INTAKES}bulk/", items), 400, "bulk_rejected")
    assert body["errors"] == [{"index": 1, "code": "intake_already_open", "message": body["errors"][0]["message"],
                               "field": "vin"}]
    assert ScrappingIntake.objects.count() == 0


# --- who may call what --------------------------------------------------------------------------------------------------


@pytest.fixture
def world(dismantler, nev):
    certificate = services.scrapping_certificate_issue(actor=dismantler, intake_id=take_in(dismantler, VIN, [nev]).pk,
                                                       number="ZB-2026-000001")
    return {"intake": certificate.intake_id, "certificate": certificate.pk}


def url_of(pattern, world) -> str:
    path = str(pattern.pattern)
    pk = world["certificate"] if "certificates" in path else world["intake"]
    path = re.sub(r"<int:pk>", str(pk), path).replace("<str:kind>", "front")
    return f"{API}/" + path.replace("<str:token>", "x")


def call(client, method, url):
    return client.get(url) if method == "get" else client.post(url, {}, format="json")


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name not in OPEN],
                         ids=lambda v: getattr(v, "name", v))
def test_anonymous_callers_are_refused(world, pattern, method):
    response = call(APIClient(), method, url_of(pattern, world))
    assert response.status_code in (401, 403) and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if "<int:pk>" in str(r[0].pattern)
                                                 and r[0].name not in REGULATOR_POSTS],
                         ids=lambda v: getattr(v, "name", v))
def test_another_dismantler_gets_404(world, api_for, dismantler2, pattern, method):
    assert_error(call(api_for(dismantler2), method, url_of(pattern, world)), 404, "not_found")


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if "<int:pk>" in str(r[0].pattern)
                                                 and (r[1] == "get" or r[0].name in REGULATOR_POSTS)],
                         ids=lambda v: getattr(v, "name", v))
def test_a_reviewer_of_another_province_gets_404(world, api_for, reviewer_gd, pattern, method):
    client = api_for(reviewer_gd)
    if pattern.name in REGULATOR_POSTS:
        # the body's shape is checked first; a valid body then finds nothing
        response = client.post(url_of(pattern, world), {"decision": "approved", "reason": "x", "number": "ZB-X-1"},
                               format="json")
    else:
        response = call(client, method, url_of(pattern, world))
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name in DISMANTLER_POSTS
                                                 and r[1] == "post"], ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("persona", ["reviewer", "admin_user", "carmaker"])
def test_only_dismantlers_post_intakes_and_certificates(request, world, api_for, persona, pattern, method):
    assert_error(call(api_for(request.getfixturevalue(persona)), method, url_of(pattern, world)), 403,
                 "permission_denied")


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name in REGULATOR_POSTS],
                         ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("persona", ["dismantler", "carmaker"])
def test_only_regulators_decide_void_and_reissue(request, world, api_for, persona, pattern, method):
    response = api_for(request.getfixturevalue(persona)).post(
        url_of(pattern, world), {"decision": "approved", "reason": "x", "number": "ZB-X-1"}, format="json")
    assert_error(response, 403, "permission_denied")
    assert ScrappingCertificate.objects.get(pk=world["certificate"]).status == "valid"


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name in READS - {"api-scrapping-leads-summary"}],
                         ids=lambda v: getattr(v, "name", v))
def test_a_company_that_is_not_a_dismantler_reads_nothing(world, api_for, carmaker, pattern, method):
    assert_error(call(api_for(carmaker), method, url_of(pattern, world)), 403, "permission_denied")


def test_lists_are_scoped(world, api_for, dismantler, dismantler2, reviewer_hb, reviewer_gd):
    assert len(results(api_for(dismantler).get(INTAKES))) == 1
    assert results(api_for(dismantler2).get(INTAKES)) == []
    assert results(api_for(dismantler2).get(CERTIFICATES)) == []
    assert len(results(api_for(reviewer_hb).get(CERTIFICATES))) == 1
    assert results(api_for(reviewer_gd).get(CERTIFICATES)) == []
    assert_error(api_for(dismantler).get(INTAKES, {"status": "nope"}), 400, "invalid_choice", "status")


def test_lead_summary_for_regulators(api_for, dismantler, nev, reviewer, reviewer_gd):
    take_in(dismantler, VIN, [])
    summary = api_for(reviewer).get(f"{API}/scrapping/leads/summary/").json()
    assert summary["totals"] == {"blocked": 1, "mismatched": 0}
    assert summary["by_dismantler"][0]["name"] == dismantler.enterprise.name
    assert api_for(reviewer_gd).get(f"{API}/scrapping/leads/summary/").json()["totals"] == {"blocked": 0,
                                                                                           "mismatched": 0}
    assert_error(api_for(dismantler).get(f"{API}/scrapping/leads/summary/"), 403, "permission_denied")


def test_the_public_verification_endpoint(world, anon):
    token = certificate_token(world["certificate"])
    body = APIClient().get(f"{API}/scrapping/verify/{token}/").json()
    assert body["status"] == "valid" and body["vin_masked"] == VIN[:3] + "*" * 10 + VIN[-4:]
    assert set(body) == {"status", "number", "issued_on", "dismantler_name", "dismantler_province", "vin_masked",
                         "model_name", "is_nev", "swap_exemption", "battery_count", "voided_on", "replaced_by"}
    for bad in ("x", token[:-2] + "zz", certificate_token(999999)):
        assert_error(APIClient().get(f"{API}/scrapping/verify/{bad}/"), 404, "not_found")


# --- queries, schema ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [INTAKES, CERTIFICATES])
def test_lists_run_a_fixed_number_of_queries(api_for, dismantler, url):
    client = api_for(dismantler)

    def add(start, n):
        for i in range(start, start + n):
            intake = take_in(dismantler, conventional_vin(i), [], is_nev=False)
            services.scrapping_certificate_issue(actor=dismantler, intake_id=intake.pk, number=f"ZB-Q-{i:06d}")

    add(1, 3)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(results(client.get(url))) == 3
    add(100, 27)
    with CaptureQueriesContext(connection) as many:
        assert len(results(client.get(url))) == 30
    assert len(few.captured_queries) == len(many.captured_queries), (len(few), len(many))
    assert len(many.captured_queries) <= 12


def test_schema_documents_every_scrapping_route(db):
    schema = APIClient().get(f"{API}/schema/", {"format": "json"}).json()
    documented = {re.sub(r"\{[^}]+\}", "{}", p): set(ops) for p, ops in schema["paths"].items()}
    for pattern, method in ROUTES:
        path = re.sub(r"<\w+:\w+>", "{}", f"{API}/{pattern.pattern}")
        assert path in documented and method in documented[path], (path, method)
    intake = schema["components"]["schemas"]["IntakeOutput"]
    assert "owner_id_number" not in intake["properties"]


def test_the_scrapping_endpoints_add_no_schema_warning():
    """The schema stays complete and warning-free as far as this app is concerned (other apps' warnings are
    theirs: this test names only the ones that mention scrapping or its components)."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    ours = re.compile(r"scrapping|Intake|Certificate|LeadSummary|PublicCertificate|Workday|Owner|Decision|Outcome")
    assert [m for m in messages if ours.search(m)] == []


def test_intake_args_helper_is_valid_for_the_service(dismantler, nev):
    assert services.scrapping_intake_create(actor=dismantler, **intake_args(VIN, [nev])).status == "ready"
