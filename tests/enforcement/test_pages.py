"""The enforcement pages as people use them: a reviewer drafts with evidence pickers, a second reviewer approves
(the drafter is refused), the enterprise answers, a reviewer closes; outsiders get 404; the lists' query counts."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.enforcement import services
from apps.enforcement.models import EnforcementAction
from tests.conftest import signed_in
from tests.enforcement.conftest import ALICE_CODE, draft_args, in_days
from tests.factories import EnterpriseFactory, pdf_upload
from tests.web import page_text

pytestmark = pytest.mark.django_db


def form_data(enterprise, **overrides) -> dict:
    data = {"enterprise": str(enterprise.pk), "kind": "fine", "amount": "20000", "facts": "逾期未报送月报",
            "legal_basis": "《暂行办法》第十条", "deadline": in_days(20).isoformat(), "event_ids": "",
            "battery_codes": "", "filing_ids": "", "discrepancy_ids": ""}
    data.update(overrides)
    return data


def test_the_whole_round_in_the_browser(reviewer, reviewer_fj, alice, alice_co, alice_events, alice_discrepancy):
    drafter = signed_in(reviewer)
    response = drafter.post("/review/enforcement/new/", form_data(
        alice_co, event_ids=str(alice_events[0]), battery_codes=ALICE_CODE, discrepancy_ids=str(alice_discrepancy.pk)))
    action = EnforcementAction.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/review/enforcement/{action.pk}/")
    page = page_text(drafter.get(f"/review/enforcement/{action.pk}/"))
    assert ALICE_CODE in page and "20000" in page
    drafter.post(f"/review/enforcement/{action.pk}/submit/")
    assert EnforcementAction.objects.get().status == "awaiting_approval"
    # the drafter has no approval form, and a forged approval is refused with the four-eyes message
    assert drafter.get(f"/review/enforcement/{action.pk}/").context["approve_form"] is None
    refused = drafter.post(f"/review/enforcement/{action.pk}/approve/", {"confirm": "on"}, follow=True)
    assert "four eyes" in page_text(refused) or "双人" in page_text(refused) or "四眼" in page_text(refused)
    assert EnforcementAction.objects.get().status == "awaiting_approval"
    # Alice sees nothing until it is issued
    alice_client = signed_in(alice)
    assert alice_client.get(f"/enforcement/{action.pk}/").status_code == 404
    second = signed_in(reviewer_fj)
    second.post(f"/review/enforcement/{action.pk}/approve/", {"comment": ""})  # no confirmation: nothing happens
    assert EnforcementAction.objects.get().status == "awaiting_approval"
    second.post(f"/review/enforcement/{action.pk}/approve/", {"confirm": "on"})
    assert EnforcementAction.objects.get().status == "issued"
    assert str(action.pk) in page_text(alice_client.get("/enforcement/"))
    assert "enforcement" in page_text(alice_client.get("/notifications/")).lower() or \
        "处罚" in page_text(alice_client.get("/notifications/")) or "执法" in page_text(alice_client.get("/notifications/"))
    response = alice_client.post(f"/enforcement/{action.pk}/", {"text": "已补报", "attachment": pdf_upload("r.pdf")})
    assert response.status_code == 302
    assert EnforcementAction.objects.get().status == "answered"
    assert drafter.get(f"/enforcement/{action.pk}/answer.pdf").status_code == 200
    drafter.post(f"/review/enforcement/{action.pk}/close/", {"outcome": "complied", "comment": "已核实",
                                                             "confirm": "on"})
    assert EnforcementAction.objects.get().status == "closed"


def test_a_bad_amount_is_shown_on_the_form_and_nothing_is_saved(reviewer, alice_co):
    client = signed_in(reviewer)
    response = client.post("/review/enforcement/new/", form_data(alice_co, amount="-1"))
    assert response.status_code == 200 and response.context["form"].errors["amount"]
    response = client.post("/review/enforcement/new/", form_data(alice_co, event_ids="1, x"))
    assert response.context["form"].errors["event_ids"]
    assert not EnforcementAction.objects.exists()


def test_evidence_of_another_enterprise_is_shown_on_its_field(reviewer, alice_co, alice_events, bob_events):
    response = signed_in(reviewer).post("/review/enforcement/new/", form_data(alice_co, event_ids=str(bob_events[0])))
    assert response.context["form"].errors["event_ids"]
    assert not EnforcementAction.objects.exists()


def test_outsiders_get_404(bob, reviewer_gd, alice, issued, draft):
    bob_client, gd_client = signed_in(bob), signed_in(reviewer_gd)
    assert bob_client.get(f"/enforcement/{issued.pk}/").status_code == 404
    assert bob_client.post(f"/enforcement/{issued.pk}/", {"text": "x"}).status_code == 404
    assert gd_client.get(f"/review/enforcement/{issued.pk}/").status_code == 404
    assert gd_client.post(f"/review/enforcement/{issued.pk}/close/",
                                       {"outcome": "complied", "comment": "x", "confirm": "on"}).status_code == 404
    assert signed_in(alice).get(f"/review/enforcement/{issued.pk}/").status_code == 403
    assert EnforcementAction.objects.get().status == "issued"


def test_the_reviewer_list_filters_and_searches(reviewer, reviewer_gd, alice_co, alice_events, issued):
    client = signed_in(reviewer)
    assert [a.pk for a in client.get("/review/enforcement/").context["page"].object_list] == [issued.pk]
    assert not client.get("/review/enforcement/?kind=fine").context["page"].object_list
    assert client.get("/review/enforcement/?status=issued&province=35").context["page"].object_list
    assert client.get(f"/review/enforcement/?q={alice_co.name[:4]}").context["page"].object_list
    assert not client.get("/review/enforcement/?q=不存在的企业").context["page"].object_list
    assert not signed_in(reviewer_gd).get("/review/enforcement/").context["page"].object_list


def test_the_lists_run_a_fixed_number_of_queries(reviewer, reviewer_fj, alice, alice_co, alice_events):
    def count(client, url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add(n):
        for _ in range(n):
            action = services.enforcement_action_create(actor=reviewer, **draft_args(alice_co))
            services.enforcement_action_submit(actor=reviewer, action_id=action.pk)
            services.enforcement_action_approve(actor=reviewer_fj, action_id=action.pk)

    add(1)
    reviewer_client, alice_client = signed_in(reviewer), signed_in(alice)
    few = count(reviewer_client, "/review/enforcement/"), count(alice_client, "/enforcement/")
    add(5)
    assert (count(reviewer_client, "/review/enforcement/"), count(alice_client, "/enforcement/")) == few


def test_a_reviewer_escalates_a_discrepancy_from_its_page(reviewer, alice_discrepancy, bob_co):
    client = signed_in(reviewer)
    page = client.get(f"/review/discrepancies/{alice_discrepancy.pk}/decide/")
    assert page.status_code == 200 and page.context["decidable"]
    response = client.post(f"/review/discrepancies/{alice_discrepancy.pk}/decide/",
                           {"decision": "escalate", "comment": "", "kind": "warning"})
    action = EnforcementAction.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/review/enforcement/{action.pk}/edit/")
    assert action.kind == "warning"
    assert client.get(f"/review/enforcement/{action.pk}/edit/").status_code == 200


def test_resolving_needs_a_comment_on_the_page(reviewer, reviewer_gd, alice_discrepancy):
    client = signed_in(reviewer)
    response = client.post(f"/review/discrepancies/{alice_discrepancy.pk}/decide/",
                           {"decision": "resolve", "comment": ""})
    assert response.status_code == 200 and response.context["form"].errors["comment"]
    assert signed_in(reviewer_gd).get(f"/review/discrepancies/{alice_discrepancy.pk}/decide/").status_code == 404
    client.post(f"/review/discrepancies/{alice_discrepancy.pk}/decide/", {"decision": "resolve", "comment": "已核实"})
    from apps.reconciliation.models import Discrepancy

    assert Discrepancy.objects.get().status == "resolved"


def test_pages_render_in_english_too(reviewer, issued):
    page = page_text(signed_in(reviewer).get(f"/en/review/enforcement/{issued.pk}/"))
    assert "Order to correct" in page and "Evidence" in page


def test_the_reviewer_list_exports_what_it_shows(reviewer, reviewer_gd, issued):
    client = signed_in(reviewer)
    response = client.get("/en/review/enforcement/?export=csv&status=issued")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Deadline to comply" in text.splitlines()[0] and str(issued.pk) in text
    xlsx = client.get("/review/enforcement/?export=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('.xlsx"')
    outsider = signed_in(reviewer_gd).get("/en/review/enforcement/?export=csv")
    assert str(issued.enterprise.name) not in b"".join(outsider.streaming_content).decode("utf-8-sig")


def test_the_discrepancy_page_leads_to_the_decision(reviewer, alice_discrepancy):
    page = signed_in(reviewer).get(f"/review/discrepancies/{alice_discrepancy.pk}/")
    assert f"/review/discrepancies/{alice_discrepancy.pk}/decide/" in page.content.decode()


def test_pages_are_chinese_first(reviewer, alice, issued):
    assert "责令改正" in page_text(signed_in(reviewer).get(f"/review/enforcement/{issued.pk}/"))
    page = page_text(signed_in(alice).get(f"/enforcement/{issued.pk}/"))
    assert "整改期限" in page and "提交答复" in page


def test_the_enterprise_does_not_read_the_reviewers_internal_review(api_for, reviewer, reviewer_fj, alice, awaiting):
    services.enforcement_action_refuse(actor=reviewer_fj, action_id=awaiting.pk, comment="内部意见：证据不足")
    services.enforcement_action_submit(actor=reviewer, action_id=awaiting.pk)
    services.enforcement_action_approve(actor=reviewer_fj, action_id=awaiting.pk, comment="内部：同意")
    page = page_text(signed_in(alice).get(f"/enforcement/{awaiting.pk}/"))
    assert "内部" not in page and "fj_rita" not in page
    body = api_for(alice).get(f"/api/v1/enforcement/{awaiting.pk}/").content.decode()
    assert "内部" not in body and "fj_rita" not in body
    assert "内部意见" in page_text(signed_in(reviewer).get(f"/review/enforcement/{awaiting.pk}/"))


def test_the_enterprise_review_page_leads_to_drafting_an_action(reviewer, alice_co):
    client = signed_in(reviewer)
    page = client.get(f"/review/enterprises/{alice_co.pk}/").content.decode()
    assert f"/review/enforcement/new/?enterprise={alice_co.pk}" in page
    form = client.get(f"/review/enforcement/new/?enterprise={alice_co.pk}").context["form"]
    assert form["enterprise"].value() == str(alice_co.pk)


def test_overdue_actions_are_flagged_and_filtered(reviewer, alice, issued):
    import datetime as dt

    client = signed_in(reviewer)
    assert not client.get("/review/enforcement/?overdue=on").context["page"].object_list
    EnforcementAction.objects.filter(pk=issued.pk).update(deadline=dt.date(2026, 1, 1))
    page = client.get("/review/enforcement/?overdue=on")
    assert [a.pk for a in page.context["page"].object_list] == [issued.pk]
    assert "逾期" in page_text(page)
