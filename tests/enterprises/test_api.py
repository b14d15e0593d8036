"""The /api/v1/ surface as a whole: who may call what, one's own enterprise, the error shape, the OpenAPI
schema and its documentation pages."""
from __future__ import annotations

import re

import pytest
from django.urls import URLPattern
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from apps.enterprises.api import urls as api_urls
from apps.enterprises.models import Enterprise, ManufacturerCode, Membership
from apps.enterprises.services import enterprise_suspend
from tests.api_helpers import API, assert_error, key_client, make_key
from tests.factories import LicenceFactory, MembershipFactory

# Every route of apps/enterprises/api/urls.py, with the methods its view implements.
ROUTES = [
    (pattern, method)
    for pattern in api_urls.urlpatterns
    if isinstance(pattern, URLPattern)
    for method in ("get", "post", "put", "patch", "delete")
    if hasattr(pattern.callback.view_class, method)
]
COMPANY_ONLY = {"api-own-enterprise", "api-staff", "api-staff-deactivate", "api-staff-reactivate", "api-keys",
                "api-key-revoke", "api-licence-applications", "api-licence-application"}
ADMIN_ONLY = {"api-licences", "api-licence-suspend", "api-licence-reinstate", "api-licence-revoke",
              "api-manufacturer-codes"}
OPEN = {"api-registrations", "api-public-recyclers"}


def url_of(pattern, pk: int = 1) -> str:
    return f"{API}/" + re.sub(r"<int:\w+>", str(pk), str(pattern.pattern))


def call(client, method: str, url: str):
    return getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)


def test_route_table_is_what_these_tests_know_about():
    names = {pattern.name for pattern, _ in ROUTES}
    assert names == COMPANY_ONLY | ADMIN_ONLY | OPEN, "a route was added: decide who may call it and test that"


# --- anonymous -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name not in OPEN],
                         ids=lambda v: getattr(v, "name", v))
def test_anonymous_is_refused_everywhere_but_the_open_endpoints(db, pattern, method, alice, alice_filer):
    response = call(APIClient(), method, url_of(pattern, Membership.objects.get(user=alice_filer).pk))

    assert response.status_code in (401, 403), (pattern.name, method, response.status_code)
    assert response.json()["code"] == "not_authenticated"
    alice_filer.refresh_from_db()
    assert alice_filer.is_active


def test_anonymous_is_told_how_to_authenticate(db):
    response = APIClient().get(f"{API}/enterprise/")
    assert_error(response, 401, "not_authenticated", field=None)
    assert response["WWW-Authenticate"] == "Api-Key"


def test_anonymous_may_read_the_public_list_and_register(db):
    assert APIClient().get(f"{API}/public/licensed-recyclers/").status_code == 200
    # An empty application is refused for its content, not for who sent it.
    assert_error(APIClient().post(f"{API}/registrations/", {}), 400, "required")


@pytest.mark.parametrize("path", ["/schema/", "/schema/?format=json", "/docs/", "/redoc/"])
def test_anonymous_may_read_the_schema_and_docs(db, path):
    assert APIClient().get(API + path).status_code == 200


# --- role gates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["reviewer", "reviewer_gd", "admin_user"])
@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name in COMPANY_ONLY],
                         ids=lambda v: getattr(v, "name", v))
def test_regulators_get_403_on_company_only_endpoints(request, api_for, persona, pattern, method, alice, alice_filer):
    key, _ = make_key(alice)
    pk = key.pk if pattern.name == "api-key-revoke" else Membership.objects.get(user=alice_filer).pk

    response = call(api_for(request.getfixturevalue(persona)), method, url_of(pattern, pk))

    assert_error(response, 403, "permission_denied")
    key.refresh_from_db()
    alice_filer.refresh_from_db()
    assert key.revoked_at is None and alice_filer.is_active


@pytest.mark.parametrize("persona", ["alice", "alice_filer", "reviewer", "reviewer_gd"])
@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name in ADMIN_ONLY],
                         ids=lambda v: getattr(v, "name", v))
def test_only_administrators_reach_admin_endpoints(request, api_for, persona, pattern, method, alice_co):
    licence = LicenceFactory()
    pk = alice_co.pk if pattern.name == "api-manufacturer-codes" else licence.pk
    body = {"code": "ABC", "reason": "x"}

    client = api_for(request.getfixturevalue(persona))
    response = client.post(url_of(pattern, pk), body, format="json") if method == "post" else client.get(url_of(pattern, pk))

    assert_error(response, 403, "permission_denied")
    licence.refresh_from_db()
    assert licence.status == "active"
    assert not ManufacturerCode.objects.exists()


@pytest.mark.parametrize(("pattern", "method"), [r for r in ROUTES if r[0].name in ADMIN_ONLY],
                         ids=lambda v: getattr(v, "name", v))
def test_an_api_key_never_reaches_admin_endpoints(pattern, method, alice, alice_co):
    _, secret = make_key(alice)
    licence = LicenceFactory()
    pk = alice_co.pk if pattern.name == "api-manufacturer-codes" else licence.pk

    response = call(key_client(secret), method, url_of(pattern, pk))

    assert_error(response, 403, "permission_denied")


def test_regulator_without_two_factor_is_refused(admin_user, reviewer):
    for user in (admin_user, reviewer):
        client = APIClient()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        assert_error(client.get(f"{API}/admin/licences/"), 403, "two_factor_required")
        assert_error(client.get(f"{API}/enterprise/"), 403, "two_factor_required")


# --- one's own enterprise ---------------------------------------------------------------------------------------


def test_get_enterprise_returns_only_ones_own(api_for, alice, alice_co, bob, bob_co):
    ManufacturerCode.objects.create(code="A01", enterprise=alice_co)

    mine = api_for(alice).get(f"{API}/enterprise/").json()
    his = api_for(bob).get(f"{API}/enterprise/").json()

    assert (mine["id"], mine["name"], mine["uscc"], mine["manufacturer_codes"]) == (
        alice_co.pk, alice_co.name, alice_co.uscc, ["A01"])
    assert (his["id"], his["manufacturer_codes"]) == (bob_co.pk, [])
    assert alice_co.uscc not in api_for(bob).get(f"{API}/enterprise/").content.decode()


def test_get_enterprise_has_no_id_parameter_to_reach_another(api_for, alice_co, bob):
    response = api_for(bob).get(f"{API}/enterprise/", {"id": alice_co.pk, "pk": alice_co.pk})
    assert response.json()["id"] != alice_co.pk


def test_signed_in_staff_of_a_suspended_enterprise_get_403_with_the_reason(api_for, alice, alice_co, reviewer):
    client = api_for(alice)
    enterprise_suspend(actor=reviewer, enterprise=alice_co, reason="数据造假")

    body = assert_error(client.get(f"{API}/enterprise/"), 403, "enterprise_suspended")
    assert "数据造假" in body["message"]
    assert_error(client.get(f"{API}/enterprise/staff/"), 403, "enterprise_suspended")
    assert_error(client.post(f"{API}/enterprise/api-keys/", {"name": "x"}, format="json"), 403, "enterprise_suspended")


def test_applicant_of_a_pending_enterprise_cannot_use_company_endpoints(db, api_for):
    applicant = MembershipFactory(enterprise__status=Enterprise.Status.PENDING, role=Membership.Role.ADMIN).user
    assert_error(api_for(applicant).get(f"{API}/enterprise/"), 403, "enterprise_not_active")
    assert_error(api_for(applicant).post(f"{API}/enterprise/api-keys/", {"name": "x"}, format="json"),
                 403, "enterprise_not_active")


def test_company_user_without_membership_is_refused(db, api_for):
    from tests.factories import UserFactory

    orphan = UserFactory()
    assert api_for(orphan).get(f"{API}/enterprise/").status_code == 403


# --- the error shape --------------------------------------------------------------------------------------------


def test_every_kind_of_error_has_code_message_and_field(api_for, alice, alice_filer, bob, admin_user):
    key, secret = make_key(alice)
    responses = {
        "401 anonymous": APIClient().get(f"{API}/enterprise/"),
        "401 unknown key": key_client("bt_nope").get(f"{API}/enterprise/"),
        "403 role": api_for(alice).get(f"{API}/admin/licences/"),
        "403 admin only": api_for(bob).post(f"{API}/admin/enterprises/1/manufacturer-codes/", {"code": "A"}),
        "403 service rule": api_for(alice_filer).post(f"{API}/enterprise/staff/", {"email": "x@example.cn"}),
        "404 not yours": api_for(bob).post(f"{API}/enterprise/api-keys/{key.pk}/revoke/"),
        "404 licence": api_for(admin_user).post(f"{API}/admin/licences/999999/suspend/", {"reason": "x"}),
        "405 method": api_for(alice).delete(f"{API}/enterprise/"),
        "400 validation": api_for(alice).post(f"{API}/enterprise/api-keys/", {}, format="json"),
        "400 domain": api_for(alice).post(f"{API}/enterprise/api-keys/", {"name": "<i>"}, format="json"),
        "400 parse": api_for(alice).post(f"{API}/enterprise/api-keys/", "{not json", content_type="application/json"),
        "415 media type": APIClient().post(f"{API}/registrations/", {"name": "x"}, format="json"),
        "400 filter": APIClient().get(f"{API}/public/licensed-recyclers/", {"province": "99"}),
    }
    for label, response in responses.items():
        assert response.status_code >= 400, label
        body = response.json()
        assert {"code", "message", "field"} <= set(body), (label, body)
        assert isinstance(body["code"], str) and body["code"], (label, body)
        assert isinstance(body["message"], str) and body["message"], (label, body)
        assert body["field"] is None or isinstance(body["field"], str), (label, body)

    assert responses["405 method"].json()["code"] == "method_not_allowed"
    assert responses["400 parse"].json()["code"] == "parse_error"
    assert responses["415 media type"].json()["code"] == "unsupported_media_type"
    assert responses["400 filter"].json()["field"] == "province"


def test_validation_errors_list_every_problem_and_repeat_the_first_at_the_top(api_for, admin_user):
    response = api_for(admin_user).post(f"{API}/admin/licences/", {"number": "L-1"}, format="json")

    body = assert_error(response, 400, "required")
    fields = {item["field"] for item in body["errors"]}
    assert {"enterprise", "scopes", "chemistries", "annual_capacity_tonnes", "valid_from", "valid_to"} <= fields
    assert all(set(item) == {"code", "message", "field"} for item in body["errors"])
    assert {k: body[k] for k in ("code", "message", "field")} == body["errors"][0]


def test_nested_validation_errors_name_the_item(api_for, admin_user, alice_co):
    response = api_for(admin_user).post(f"{API}/admin/licences/", {
        "enterprise": alice_co.pk, "number": "L-1", "scopes": ["dismantling", "alchemy"], "chemistries": ["B"],
        "annual_capacity_tonnes": "10", "valid_from": "2026-01-01", "valid_to": "2026-12-31"}, format="json")
    assert_error(response, 400, "invalid_choice", field="scopes.1")


def test_unknown_api_path_answers_with_the_json_error_shape(api_for, alice):
    response = api_for(alice).get(f"{API}/enterprise/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


# --- OpenAPI ----------------------------------------------------------------------------------------------------


@pytest.fixture
def schema(db):
    response = APIClient().get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_schema_is_a_valid_openapi_document(schema):
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"]}


def test_schema_documents_the_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert {"code", "message", "field", "errors"} <= set(error["properties"])
    assert set(error["required"]) == {"code", "message", "field"}


def test_schema_lists_every_route_and_method(schema):
    documented = {_template(path): set(ops) for path, ops in schema["paths"].items()}
    for pattern, method in ROUTES:
        path = _template(re.sub(r"<int:\w+>", "{x}", f"{API}/{pattern.pattern}"))
        assert path in documented, path
        assert method in documented[path], (path, method)


def test_schema_documents_list_responses_as_cursor_pages(schema):
    list_paths = ["/api/v1/enterprise/staff/", "/api/v1/enterprise/api-keys/", "/api/v1/public/licensed-recyclers/",
                  "/api/v1/admin/licences/"]
    for path in list_paths:
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"next", "previous", "results"} <= set(component["properties"]), path
        assert {p["name"] for p in operation.get("parameters", [])} >= {"cursor", "page_size"}, path


def test_schema_marks_open_endpoints_as_needing_no_credentials(schema):
    assert schema["paths"]["/api/v1/public/licensed-recyclers/"]["get"]["security"] == [{}]
    assert schema["paths"]["/api/v1/registrations/"]["post"]["security"] == [{}]
    assert "multipart/form-data" in schema["paths"]["/api/v1/registrations/"]["post"]["requestBody"]["content"]


def test_schema_never_documents_secrets_or_digests_in_outputs(schema):
    components = schema["components"]["schemas"]
    assert "digest" not in components["APIKeyOutput"]["properties"]
    assert "key" in components["APIKeyCreated"]["properties"]
    assert not {"contact_name", "contact_phone", "contact_email"} & set(components["PublicRecyclerOutput"]["properties"])


def test_swagger_ui_is_served_without_inline_script(db):
    response = APIClient().get(f"{API}/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/" in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, code in scripts:
        assert "src=" in attributes and not code.strip(), attributes
    init = re.search(r'<script src="([^"]*\?script=[^"]*)"', html)
    assert init, html
    script = APIClient().get(init.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert "/api/v1/schema/" in script.content.decode()


def test_redoc_is_served_from_static_files(db):
    response = APIClient().get(f"{API}/redoc/")
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/redoc/" in response.content.decode()
