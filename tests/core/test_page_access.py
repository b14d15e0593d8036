"""Who may open which page: every page of the accounts, core and enterprises apps, for an anonymous visitor and
for an outsider (a company user of another enterprise, a regulator on a company page, a provincial reviewer
outside their provinces). The table must list every URL name, so a new page cannot slip in untested."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from apps.accounts.services import api_key_create
from apps.enterprises.models import Membership
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory, pdf_upload
from tests.web import LOGIN_URL, redirect_path

pytestmark = pytest.mark.django_db

LOGIN = "login"  # expect a redirect to the sign-in page


@pytest.fixture
def world(alice_co, alice, alice_filer, bob, reviewer):
    alice_co.business_licence = pdf_upload()
    alice_co.save()
    key, _ = api_key_create(actor=alice, name="ERP")
    fujian_recycler = EnterpriseFactory(province="35", roles=["recycler"])
    licence = LicenceFactory(enterprise=fujian_recycler, valid_from=timezone.localdate() - timedelta(days=1),
                             valid_to=timezone.localdate() + timedelta(days=100))
    return {
        "alice_co": alice_co.pk,
        "filer_membership": Membership.objects.get(user=alice_filer).pk,
        "alice_key": key.pk,
        "licence": licence.pk,
        "reviewer": reviewer.pk,
        **_filing_world(alice),
        "discrepancy": _discrepancy_world(alice_co),
        "enforcement_action": _enforcement_world(alice_co, reviewer),
        "licence_application": _licence_application_world(fujian_recycler),
    }


def _licence_application_world(recycler) -> int:
    """A Fujian recycler's submitted licence application (after its current licence)."""
    from apps.enterprises.services import licence_application_create
    from apps.filings import services as filing_services
    from tests.factories import MembershipFactory

    staff = MembershipFactory(enterprise=recycler, role=Membership.Role.ADMIN).user
    filing = licence_application_create(actor=staff, document=pdf_upload(), data={
        "number": "FJ-APPL-1", "scopes": ["dismantling"], "chemistries": ["E"], "annual_capacity_tonnes": "10",
        "valid_from": timezone.localdate() + timedelta(days=101), "valid_to": timezone.localdate() + timedelta(days=400),
        "address": "福州市1号"})
    filing_services.filing_submit(actor=staff, filing_id=filing.pk)
    return filing.pk


def _enforcement_world(alice_co, reviewer) -> int:
    """A warning issued to Alice's enterprise (Fujian), drafted by `reviewer`, approved by a second reviewer."""
    from apps.accounts.models import User
    from apps.enforcement import services as enforcement_services
    from tests.factories import UserFactory

    action = enforcement_services.enforcement_action_create(
        actor=reviewer, enterprise_id=alice_co.pk, kind="warning", facts="x", legal_basis="y",
        deadline=timezone.localdate() + timedelta(days=30))
    enforcement_services.enforcement_action_submit(actor=reviewer, action_id=action.pk)
    second = UserFactory(username="second_rita", kind=User.Kind.REVIEWER, reviewer_provinces=["35"])
    enforcement_services.enforcement_action_approve(actor=second, action_id=action.pk)
    return action.pk


def _discrepancy_world(alice_co) -> int:
    """Alice's enterprise (Fujian) has one open discrepancy."""
    from apps.reconciliation.models import Discrepancy

    now = timezone.now()
    return Discrepancy.objects.create(enterprise=alice_co, kind="gone_dark", figure="no_event", expected=0, found=1,
                                      severity="low", first_seen=now, last_seen=now).pk


def _filing_world(alice) -> dict:
    """Alice's enterprise (Fujian) has a submitted monthly report with a commented attachment."""
    from apps.filings import services as filing_services

    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    filing = filing_services.monthly_report_create(actor=alice, month=month, counts={"produced": 1})
    filing_services.filing_submit(actor=alice, filing_id=filing.pk)
    comment = filing_services.filing_comment_add(actor=alice, filing_id=filing.pk, body="x", attachment=pdf_upload())
    return {"filing": filing.pk, "filing_comment": comment.pk}


# (url name, method, path, who, expected): expected is a status code, LOGIN, or "->/path" for a redirect.
CASES = [
    # accounts
    ("accounts:login", "get", "/accounts/login/", "anon", 200),
    ("accounts:login", "get", "/accounts/login/", "bob", "->/dashboard/"),
    ("accounts:logout", "post", "/accounts/logout/", "anon", LOGIN),
    ("accounts:logout", "get", "/accounts/logout/", "bob", 405),
    ("accounts:password_reset", "get", "/accounts/password-reset/", "anon", 200),
    ("accounts:password_reset_done", "get", "/accounts/password-reset/sent/", "anon", 200),
    ("accounts:password_reset_confirm", "get", "/accounts/password-reset/MQ/set-password/", "anon", 200),
    ("accounts:password_reset_complete", "get", "/accounts/password-reset/complete/", "anon", 200),
    ("accounts:two_factor_setup", "get", "/accounts/two-factor/setup/", "anon", LOGIN),
    ("accounts:two_factor_verify", "get", "/accounts/two-factor/verify/", "anon", LOGIN),
    ("accounts:two_factor_verify", "get", "/accounts/two-factor/verify/", "bob", "->/accounts/two-factor/setup/"),
    ("accounts:regulators", "get", "/accounts/regulators/", "anon", LOGIN),
    ("accounts:regulators", "get", "/accounts/regulators/", "bob", 403),
    ("accounts:regulators", "get", "/accounts/regulators/", "reviewer", 403),
    ("accounts:regulator_deactivate", "post", "/accounts/regulators/{reviewer}/deactivate/", "anon", LOGIN),
    ("accounts:regulator_deactivate", "post", "/accounts/regulators/{reviewer}/deactivate/", "bob", 403),
    ("accounts:regulator_reactivate", "post", "/accounts/regulators/{reviewer}/reactivate/", "anon", LOGIN),
    ("accounts:regulator_reactivate", "post", "/accounts/regulators/{reviewer}/reactivate/", "bob", 403),
    # core
    ("core:home", "get", "/", "anon", 200),
    ("core:home", "get", "/", "bob", "->/dashboard/"),
    ("core:dashboard", "get", "/dashboard/", "anon", LOGIN),
    ("core:workdays", "get", "/calendar/workdays/", "anon", LOGIN),
    ("core:workdays", "get", "/calendar/workdays/", "bob", 403),
    ("core:workdays", "get", "/calendar/workdays/", "reviewer", 403),
    ("core:workday_delete", "post", "/calendar/workdays/2027-01-01/delete/", "anon", LOGIN),
    ("core:workday_delete", "post", "/calendar/workdays/2027-01-01/delete/", "reviewer", 403),
    # enterprises: public
    ("enterprises:register", "get", "/register/", "anon", 200),
    ("enterprises:register", "get", "/register/", "bob", "->/dashboard/"),
    ("enterprises:licensed_recyclers", "get", "/recyclers/", "anon", 200),
    ("enterprises:licensed_recyclers", "get", "/recyclers/", "bob", 200),
    # enterprises: company pages
    ("enterprises:application", "get", "/application/", "anon", LOGIN),
    ("enterprises:application", "get", "/application/", "reviewer", 403),
    ("enterprises:application_edit", "get", "/application/edit/", "anon", LOGIN),
    ("enterprises:application_edit", "get", "/application/edit/", "reviewer", 403),
    ("enterprises:application_comment", "post", "/application/comments/", "anon", LOGIN),
    ("enterprises:application_comment", "post", "/application/comments/", "reviewer", 403),
    ("enterprises:licence_application_create", "get", "/enterprise/licence-applications/new/", "anon", LOGIN),
    ("enterprises:licence_application_create", "get", "/enterprise/licence-applications/new/", "reviewer", 403),
    ("enterprises:licence_application_edit", "get", "/enterprise/licence-applications/{licence_application}/edit/",
     "anon", LOGIN),
    ("enterprises:licence_application_edit", "get", "/enterprise/licence-applications/{licence_application}/edit/",
     "bob", 404),
    ("enterprises:licence_application_document", "get", "/licence-applications/{licence_application}/document.pdf",
     "anon", LOGIN),
    ("enterprises:licence_application_document", "get", "/licence-applications/{licence_application}/document.pdf",
     "bob", 404),
    ("enterprises:licence_application_document", "get", "/licence-applications/{licence_application}/document.pdf",
     "reviewer_gd", 404),
    ("enterprises:profile", "get", "/enterprise/", "anon", LOGIN),
    ("enterprises:profile", "get", "/enterprise/", "reviewer", 403),
    ("enterprises:staff", "get", "/enterprise/staff/", "anon", LOGIN),
    ("enterprises:staff", "get", "/enterprise/staff/", "reviewer", 403),
    ("enterprises:staff_deactivate", "post", "/enterprise/staff/{filer_membership}/deactivate/", "anon", LOGIN),
    ("enterprises:staff_deactivate", "post", "/enterprise/staff/{filer_membership}/deactivate/", "bob", 404),
    ("enterprises:staff_reactivate", "post", "/enterprise/staff/{filer_membership}/reactivate/", "anon", LOGIN),
    ("enterprises:staff_reactivate", "post", "/enterprise/staff/{filer_membership}/reactivate/", "bob", 404),
    ("enterprises:api_keys", "get", "/enterprise/api-keys/", "anon", LOGIN),
    ("enterprises:api_keys", "get", "/enterprise/api-keys/", "alice_filer", 403),
    ("enterprises:api_key_revoke", "post", "/enterprise/api-keys/{alice_key}/revoke/", "anon", LOGIN),
    ("enterprises:api_key_revoke", "post", "/enterprise/api-keys/{alice_key}/revoke/", "bob", 404),
    ("enterprises:business_licence", "get", "/enterprises/{alice_co}/business-licence.pdf", "anon", LOGIN),
    ("enterprises:business_licence", "get", "/enterprises/{alice_co}/business-licence.pdf", "bob", 404),
    ("enterprises:business_licence", "get", "/enterprises/{alice_co}/business-licence.pdf", "reviewer_gd", 404),
    # enterprises: regulator pages
    ("enterprises:review_list", "get", "/review/enterprises/", "anon", LOGIN),
    ("enterprises:review_list", "get", "/review/enterprises/", "bob", 403),
    ("enterprises:review_detail", "get", "/review/enterprises/{alice_co}/", "anon", LOGIN),
    ("enterprises:review_detail", "get", "/review/enterprises/{alice_co}/", "bob", 403),
    ("enterprises:review_detail", "get", "/review/enterprises/{alice_co}/", "reviewer_gd", 404),
    ("enterprises:history", "get", "/review/enterprises/{alice_co}/history/", "anon", LOGIN),
    ("enterprises:history", "get", "/review/enterprises/{alice_co}/history/", "bob", 403),
    ("enterprises:history", "get", "/review/enterprises/{alice_co}/history/", "reviewer_gd", 404),
    ("enterprises:licence_list", "get", "/licences/", "anon", LOGIN),
    ("enterprises:licence_list", "get", "/licences/", "bob", 403),
    ("enterprises:licence_detail", "get", "/licences/{licence}/", "anon", LOGIN),
    ("enterprises:licence_detail", "get", "/licences/{licence}/", "bob", 403),
    ("enterprises:licence_detail", "get", "/licences/{licence}/", "reviewer_gd", 404),
    # filings: the enterprise's side ({filing}: Alice's submitted monthly report, Fujian)
    ("filings:list", "get", "/filings/", "anon", LOGIN),
    ("filings:list", "get", "/filings/", "reviewer", 403),
    ("filings:monthly_report_create", "get", "/filings/monthly-reports/new/", "anon", LOGIN),
    ("filings:monthly_report_create", "get", "/filings/monthly-reports/new/", "reviewer", 403),
    ("filings:detail", "get", "/filings/{filing}/", "anon", LOGIN),
    ("filings:detail", "get", "/filings/{filing}/", "bob", 404),
    ("filings:edit", "get", "/filings/{filing}/edit/", "anon", LOGIN),
    ("filings:edit", "get", "/filings/{filing}/edit/", "bob", 404),
    ("filings:submit", "post", "/filings/{filing}/submit/", "anon", LOGIN),
    ("filings:submit", "post", "/filings/{filing}/submit/", "bob", 404),
    ("filings:resubmit", "post", "/filings/{filing}/resubmit/", "anon", LOGIN),
    ("filings:resubmit", "post", "/filings/{filing}/resubmit/", "bob", 404),
    ("filings:comment", "post", "/filings/{filing}/comments/", "anon", LOGIN),
    ("filings:comment", "post", "/filings/{filing}/comments/", "bob", 404),
    ("filings:comment", "post", "/filings/{filing}/comments/", "reviewer_gd", 404),
    ("filings:attachment", "get", "/filings/comments/{filing_comment}/attachment/", "anon", LOGIN),
    ("filings:attachment", "get", "/filings/comments/{filing_comment}/attachment/", "bob", 404),
    ("filings:notifications", "get", "/notifications/", "anon", LOGIN),
    ("filings:notifications", "get", "/notifications/", "reviewer", 403),
    ("filings:monthly_report_upload", "get", "/filings/monthly-reports/upload/", "anon", LOGIN),
    ("filings:monthly_report_upload", "post", "/filings/monthly-reports/upload/", "reviewer", 403),
    # filings: recovery reports and explanations (the intake stand-in names nothing: not-yours looks the same)
    ("filings:recovery_report_create", "get", "/filings/recovery-reports/new/", "anon", LOGIN),
    ("filings:recovery_report_create", "get", "/filings/recovery-reports/new/", "reviewer", 403),
    ("filings:recovery_report_edit", "get", "/filings/{filing}/recovery-report/edit/", "anon", LOGIN),
    ("filings:recovery_report_edit", "get", "/filings/{filing}/recovery-report/edit/", "bob", 404),
    ("filings:compositions", "get", "/filings/recovery-reports/compositions/", "anon", LOGIN),
    ("filings:compositions", "get", "/filings/recovery-reports/compositions/", "bob", 200),
    # the composition table's edit page is for administrators only
    ("filings:composition_edit", "get", "/filings/recovery-reports/compositions/E/edit/", "anon", LOGIN),
    ("filings:composition_edit", "get", "/filings/recovery-reports/compositions/E/edit/", "bob", 403),
    ("filings:composition_edit", "post", "/filings/recovery-reports/compositions/E/edit/", "bob", 403),
    ("filings:composition_edit", "get", "/filings/recovery-reports/compositions/E/edit/", "reviewer", 403),
    ("filings:composition_edit", "post", "/filings/recovery-reports/compositions/E/edit/", "reviewer", 403),
    ("filings:explanation_for_discrepancy", "get", "/filings/explanations/new/discrepancy/{discrepancy}/", "anon",
     LOGIN),
    ("filings:explanation_for_discrepancy", "get", "/filings/explanations/new/discrepancy/{discrepancy}/", "bob",
     404),
    ("filings:explanation_for_discrepancy", "post", "/filings/explanations/new/discrepancy/{discrepancy}/",
     "reviewer", 403),
    ("filings:explanation_for_intake", "get", "/filings/explanations/new/intake/999999/", "anon", LOGIN),
    ("filings:explanation_for_intake", "get", "/filings/explanations/new/intake/999999/", "bob", 404),
    ("filings:explanation_edit", "get", "/filings/{filing}/explanation/edit/", "anon", LOGIN),
    ("filings:explanation_edit", "post", "/filings/{filing}/explanation/edit/", "bob", 404),
    # deadlines: an enterprise's due/overdue page and drill-down; reviewers' overdue list; admins' deadline table
    ("deadlines:due", "get", "/deadlines/", "anon", LOGIN),
    ("deadlines:due", "get", "/deadlines/", "reviewer", 403),
    ("deadlines:late_events", "get", "/deadlines/late-events/", "anon", LOGIN),
    ("deadlines:late_events", "get", "/deadlines/late-events/?kind=installed&month=2026-01&enterprise={alice_co}",
     "reviewer_gd", 404),
    ("deadlines:overdue", "get", "/review/overdue/", "anon", LOGIN),
    ("deadlines:overdue", "get", "/review/overdue/", "bob", 403),
    ("deadlines:settings", "get", "/deadlines/settings/", "anon", LOGIN),
    ("deadlines:settings", "get", "/deadlines/settings/", "reviewer", 403),
    ("deadlines:edit", "post", "/deadlines/settings/vehicle_installation/", "bob", 403),
    ("deadlines:edit", "post", "/deadlines/settings/vehicle_installation/", "reviewer", 403),
    # filings: the reviewers' side
    ("filings:queue", "get", "/review/filings/", "anon", LOGIN),
    ("filings:queue", "get", "/review/filings/", "bob", 403),
    ("filings:review_detail", "get", "/review/filings/{filing}/", "anon", LOGIN),
    ("filings:review_detail", "get", "/review/filings/{filing}/", "bob", 403),
    ("filings:review_detail", "get", "/review/filings/{filing}/", "reviewer_gd", 404),
    ("filings:claim", "post", "/review/filings/{filing}/claim/", "anon", LOGIN),
    ("filings:claim", "post", "/review/filings/{filing}/claim/", "bob", 403),
    ("filings:claim", "post", "/review/filings/{filing}/claim/", "reviewer_gd", 404),
    ("filings:assign", "post", "/review/filings/{filing}/assign/", "anon", LOGIN),
    ("filings:assign", "post", "/review/filings/{filing}/assign/", "bob", 403),
    ("filings:assign", "post", "/review/filings/{filing}/assign/", "reviewer_gd", 404),
    ("filings:bulk", "post", "/review/filings/bulk/", "anon", LOGIN),
    ("filings:bulk", "post", "/review/filings/bulk/", "bob", 403),
    ("filings:reviewer_search", "get", "/review/reviewers/search/?q=rita", "anon", LOGIN),
    ("filings:reviewer_search", "get", "/review/reviewers/search/?q=rita", "bob", 403),
    # reconciliation: an enterprise's own discrepancies, the reviewers' list (scoping: tests/reconciliation/)
    ("reconciliation:list", "get", "/discrepancies/", "anon", LOGIN),
    ("reconciliation:list", "get", "/discrepancies/", "reviewer", 403),
    ("reconciliation:review_list", "get", "/review/discrepancies/", "anon", LOGIN),
    ("reconciliation:review_list", "get", "/review/discrepancies/", "bob", 403),
    ("reconciliation:detail", "get", "/discrepancies/{discrepancy}/", "anon", LOGIN),
    ("reconciliation:detail", "get", "/discrepancies/{discrepancy}/", "bob", 404),
    ("reconciliation:detail", "get", "/discrepancies/{discrepancy}/", "reviewer", 403),
    ("reconciliation:review_detail", "get", "/review/discrepancies/{discrepancy}/", "anon", LOGIN),
    ("reconciliation:review_detail", "get", "/review/discrepancies/{discrepancy}/", "bob", 403),
    ("reconciliation:review_detail", "get", "/review/discrepancies/{discrepancy}/", "reviewer_gd", 404),
    # the reconciliation runs: administrators only (content: tests/reconciliation/test_pages_api.py)
    ("reconciliation:runs", "get", "/review/reconciliation-runs/", "anon", LOGIN),
    ("reconciliation:runs", "get", "/review/reconciliation-runs/", "bob", 403),
    ("reconciliation:runs", "get", "/review/reconciliation-runs/", "reviewer", 403),
    ("reconciliation:run_detail", "get", "/review/reconciliation-runs/1/", "anon", LOGIN),
    ("reconciliation:run_detail", "get", "/review/reconciliation-runs/1/", "bob", 403),
    ("reconciliation:run_detail", "get", "/review/reconciliation-runs/1/", "reviewer", 403),
    # the oversight dashboards (scoping: tests/reconciliation/test_dashboard.py)
    ("reconciliation:dashboard", "get", "/oversight/", "anon", LOGIN),
    ("reconciliation:dashboard", "get", "/oversight/", "reviewer", 403),
    ("reconciliation:dashboard_data", "get", "/oversight/data.json", "anon", LOGIN),
    ("reconciliation:dashboard_data", "get", "/oversight/data.json", "reviewer", 403),
    ("reconciliation:dashboard_csv", "get", "/oversight/flows.csv", "anon", LOGIN),
    ("reconciliation:dashboard_csv", "get", "/oversight/flows.csv", "reviewer", 403),
    ("reconciliation:review_dashboard", "get", "/review/oversight/", "anon", LOGIN),
    ("reconciliation:review_dashboard", "get", "/review/oversight/", "bob", 403),
    ("reconciliation:review_dashboard_data", "get", "/review/oversight/data.json", "anon", LOGIN),
    ("reconciliation:review_dashboard_data", "get", "/review/oversight/data.json", "bob", 403),
    ("reconciliation:review_dashboard_csv", "get", "/review/oversight/flows.csv", "anon", LOGIN),
    ("reconciliation:review_dashboard_csv", "get", "/review/oversight/flows.csv", "bob", 403),
    # enforcement: the enterprise's issued actions ({enforcement_action}: a warning issued to Alice's enterprise)
    ("enforcement:list", "get", "/enforcement/", "anon", LOGIN),
    ("enforcement:list", "get", "/enforcement/", "reviewer", 403),
    ("enforcement:detail", "get", "/enforcement/{enforcement_action}/", "anon", LOGIN),
    ("enforcement:detail", "get", "/enforcement/{enforcement_action}/", "bob", 404),
    ("enforcement:detail", "post", "/enforcement/{enforcement_action}/", "bob", 404),
    ("enforcement:detail", "get", "/enforcement/{enforcement_action}/", "reviewer", 403),
    ("enforcement:answer_attachment", "get", "/enforcement/{enforcement_action}/answer.pdf", "anon", LOGIN),
    ("enforcement:answer_attachment", "get", "/enforcement/{enforcement_action}/answer.pdf", "bob", 404),
    ("enforcement:answer_attachment", "get", "/enforcement/{enforcement_action}/answer.pdf", "reviewer_gd", 404),
    # enforcement: the reviewers' side (four eyes and scoping: tests/enforcement/)
    ("enforcement:review_list", "get", "/review/enforcement/", "anon", LOGIN),
    ("enforcement:review_list", "get", "/review/enforcement/", "bob", 403),
    ("enforcement:create", "get", "/review/enforcement/new/", "anon", LOGIN),
    ("enforcement:create", "get", "/review/enforcement/new/", "bob", 403),
    ("enforcement:review_detail", "get", "/review/enforcement/{enforcement_action}/", "anon", LOGIN),
    ("enforcement:review_detail", "get", "/review/enforcement/{enforcement_action}/", "bob", 403),
    ("enforcement:review_detail", "get", "/review/enforcement/{enforcement_action}/", "reviewer_gd", 404),
    ("enforcement:edit", "get", "/review/enforcement/{enforcement_action}/edit/", "anon", LOGIN),
    ("enforcement:edit", "get", "/review/enforcement/{enforcement_action}/edit/", "reviewer_gd", 404),
    ("enforcement:submit", "post", "/review/enforcement/{enforcement_action}/submit/", "anon", LOGIN),
    ("enforcement:submit", "post", "/review/enforcement/{enforcement_action}/submit/", "bob", 403),
    ("enforcement:submit", "post", "/review/enforcement/{enforcement_action}/submit/", "reviewer_gd", 404),
    ("enforcement:approve", "post", "/review/enforcement/{enforcement_action}/approve/", "anon", LOGIN),
    ("enforcement:approve", "post", "/review/enforcement/{enforcement_action}/approve/", "bob", 403),
    ("enforcement:approve", "post", "/review/enforcement/{enforcement_action}/approve/", "reviewer_gd", 404),
    ("enforcement:refuse", "post", "/review/enforcement/{enforcement_action}/refuse/", "anon", LOGIN),
    ("enforcement:refuse", "post", "/review/enforcement/{enforcement_action}/refuse/", "reviewer_gd", 404),
    ("enforcement:close", "post", "/review/enforcement/{enforcement_action}/close/", "anon", LOGIN),
    ("enforcement:close", "post", "/review/enforcement/{enforcement_action}/close/", "bob", 403),
    ("enforcement:close", "post", "/review/enforcement/{enforcement_action}/close/", "reviewer_gd", 404),
    ("enforcement:discrepancy_decide", "get", "/review/discrepancies/{discrepancy}/decide/", "anon", LOGIN),
    ("enforcement:discrepancy_decide", "get", "/review/discrepancies/{discrepancy}/decide/", "bob", 403),
    ("enforcement:discrepancy_decide", "post", "/review/discrepancies/{discrepancy}/decide/", "reviewer_gd", 404),
    # batteries: the hand-over page's recipient search (JSON) is for company users whose enterprise hands over
    ("batteries:recipient_search", "get", "/batteries/hand-over/recipients/?q=%E6%B5%8B%E8%AF%95", "anon", LOGIN),
    ("batteries:recipient_search", "get", "/batteries/hand-over/recipients/?q=%E6%B5%8B%E8%AF%95", "reviewer", 403),
    # scrapping: the dismantler's bulk-file intake (bob's enterprise is no dismantler; regulators upload nothing;
    # another dismantler's file is a 404: tests/scrapping/test_intake_file.py)
    ("scrapping:intake_file", "get", "/scrapping/intakes/file/", "anon", LOGIN),
    ("scrapping:intake_file", "get", "/scrapping/intakes/file/", "bob", 403),
    ("scrapping:intake_file", "post", "/scrapping/intakes/file/", "bob", 403),
    ("scrapping:intake_file", "get", "/scrapping/intakes/file/", "reviewer", 403),
    ("scrapping:intake_file_template", "get", "/scrapping/intakes/file/template.csv", "anon", LOGIN),
    ("scrapping:intake_file_template", "get", "/scrapping/intakes/file/template.csv", "bob", 403),
    ("scrapping:intake_file_result", "get", "/scrapping/intakes/files/1/", "anon", LOGIN),
    ("scrapping:intake_file_result", "get", "/scrapping/intakes/files/1/", "bob", 403),
    ("scrapping:intake_file_errors", "get", "/scrapping/intakes/files/1/errors.csv", "anon", LOGIN),
    ("scrapping:intake_file_errors", "get", "/scrapping/intakes/files/1/errors.csv", "bob", 403),
]


@pytest.mark.parametrize("name,method,path,who,expected", CASES, # ids avoid "api": the usual page run deselects -k "not api"
                         ids=[f"{c[0]}-{c[3]}-{c[1]}".replace("api_key", "key") for c in CASES])
def test_page_access(request, world, anon, name, method, path, who, expected):
    client = anon if who == "anon" else signed_in(request.getfixturevalue(who))
    url = path.format(**world)
    response = getattr(client, method)(url)
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert redirect_path(response).startswith(LOGIN_URL)
    elif isinstance(expected, str):
        assert redirect_path(response) == expected[2:]
    else:
        assert response.status_code == expected


def test_outsiders_posting_change_nothing(world, bob, alice_filer, reviewer, anon):
    """The refused POSTs above really left everything as it was."""
    from apps.accounts.models import APIKey, User

    bob_client = signed_in(bob)
    for url in (f"/enterprise/staff/{world['filer_membership']}/deactivate/",
                f"/enterprise/api-keys/{world['alice_key']}/revoke/",
                f"/accounts/regulators/{world['reviewer']}/deactivate/"):
        bob_client.post(url)
        anon.post(url)
    assert User.objects.get(pk=alice_filer.pk).is_active
    assert User.objects.get(pk=reviewer.pk).is_active
    assert APIKey.objects.get(pk=world["alice_key"]).revoked_at is None


def _url_names(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _url_names(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_page_has_an_access_case():
    names = {n for n in _url_names(get_resolver().url_patterns)
             if n.split(":")[0] in {"accounts", "core", "enterprises", "filings", "deadlines", "reconciliation",
                                    "enforcement"}}
    covered = {case[0] for case in CASES}
    assert names - covered == set(), "pages without an anonymous/outsider case"
    # and each has an anonymous case or an outsider case
    for name in names:
        whos = {case[3] for case in CASES if case[0] == name}
        assert whos, name


@pytest.mark.parametrize("path,data", [
    ("/accounts/login/", {"username": "alice", "password": "Correct-horse-42"}),
    ("/accounts/password-reset/", {"email": "alice@example.cn"}),
])
def test_forms_carry_a_csrf_token_and_posts_without_it_are_refused(alice, path, data):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    assert browser.post(path, data).status_code == 403
    assert "_auth_user_id" not in browser.session
