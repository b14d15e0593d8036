"""The scrapping mismatch decision as a filing of the shared review workflow (issue 5, ADR 0016): an intake where
a different battery is found files a mismatch_decision filing; the reviewer claims it, may return it asking for
evidence, the dismantler answers and resubmits, and the approval (or rejection) decides the intake through the
scrapping rule. Through the services, the pages and the API; outsiders get 404."""
from __future__ import annotations

import pytest

from apps.core.errors import DomainError, NotFound
from apps.filings import services as filing_services
from apps.filings.models import Filing, FilingKind, Notification
from apps.scrapping import services
from apps.scrapping.models import MismatchDecision, ScrappingIntake
from tests.api_helpers import API, results
from tests.conftest import signed_in
from tests.factories import pdf_upload
from tests.scrapping.conftest import VIN, take_in

pytestmark = pytest.mark.django_db


def filing_of(intake) -> Filing:
    return Filing.objects.get(pk=MismatchDecision.objects.get(intake=intake).pk)


def test_a_mismatch_files_a_submitted_filing_other_outcomes_do_not(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare], explanation="维修店更换过电池")
    filing = filing_of(intake)
    assert (filing.kind, filing.status, filing.enterprise, filing.province) == (
        FilingKind.MISMATCH_DECISION, "submitted", dismantler.enterprise, dismantler.enterprise.province)
    assert list(filing.transitions.values_list("to_status", flat=True)) == ["submitted"]
    from apps.filings.selectors import filing_queue

    assert filing.pk in filing_queue(actor=reviewer_hb).values_list("pk", flat=True)


def test_a_complete_intake_files_nothing(dismantler, nev):
    take_in(dismantler, VIN, [nev])
    assert not Filing.objects.filter(kind=FilingKind.MISMATCH_DECISION).exists()


def test_the_whole_round_through_the_services(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    filing = filing_of(intake)
    filing_services.filing_claim(actor=reviewer_hb, filing_id=filing.pk)
    filing_services.filing_return(actor=reviewer_hb, filing_id=filing.pk, comment="请提供维修记录")
    assert ScrappingIntake.objects.get(pk=intake.pk).status == "awaiting_decision"
    assert Notification.objects.get(filing=filing).kind == "returned"
    # the dismantler explains on the intake, adds the evidence to the thread, resubmits
    services.scrapping_intake_explain(actor=dismantler, intake_id=intake.pk, explanation="维修店2025年更换电池")
    filing_services.filing_comment_add(actor=dismantler, filing_id=filing.pk, body="维修单", attachment=pdf_upload())
    filing_services.filing_resubmit(actor=dismantler, filing_id=filing.pk, comment="已补充维修单")
    filing_services.filing_claim(actor=reviewer_hb, filing_id=filing.pk)
    filing_services.filing_approve(actor=reviewer_hb, filing_id=filing.pk, comment="维修记录已核实")
    intake.refresh_from_db()
    assert (intake.status, intake.decision, intake.decided_by, intake.decision_reason) == (
        "ready", "approved", reviewer_hb, "维修记录已核实")
    filing.refresh_from_db()
    assert filing.status == "approved"
    assert list(filing.transitions.values_list("to_status", flat=True)) == [
        "submitted", "in_review", "returned", "resubmitted", "in_review", "approved"]
    certificate = services.scrapping_certificate_issue(actor=dismantler, intake_id=intake.pk, number="CERT-MM-0001")
    assert certificate.status == "valid"


def test_rejecting_the_filing_refuses_the_intake(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    filing = filing_of(intake)
    filing_services.filing_claim(actor=reviewer_hb, filing_id=filing.pk)
    filing_services.filing_reject(actor=reviewer_hb, filing_id=filing.pk, comment="无维修记录")
    intake.refresh_from_db()
    assert (intake.status, intake.decision) == ("refused", "refused")


def test_an_approval_needs_the_reason_and_changes_nothing_without_it(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    filing = filing_of(intake)
    filing_services.filing_claim(actor=reviewer_hb, filing_id=filing.pk)
    with pytest.raises(DomainError) as err:
        filing_services.filing_approve(actor=reviewer_hb, filing_id=filing.pk, comment="")
    assert (err.value.code, err.value.field) == ("reason_required", "comment")
    assert filing_of(intake).status == "in_review"
    assert ScrappingIntake.objects.get(pk=intake.pk).status == "awaiting_decision"


def test_the_old_decision_service_decides_through_the_filing(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    services.scrapping_intake_decide(actor=reviewer_hb, intake_id=intake.pk, decision="refused", reason="无记录")
    filing = filing_of(intake)
    assert (filing.status, filing.decided_by) == ("rejected", reviewer_hb)
    assert filing.transitions.last().comment == "无记录"


def test_withdrawing_the_intake_closes_its_filing_as_withdrawn(dismantler, nev, spare, reviewer_hb):
    from apps.filings.selectors import filing_queue

    intake = take_in(dismantler, VIN, [spare])
    filing = filing_of(intake)
    services.scrapping_intake_withdraw(actor=dismantler, intake_id=intake.pk)

    filing = filing_of(intake)
    assert filing.status == "withdrawn"
    last = filing.transitions.order_by("-id").first()
    assert (last.action, last.from_status, last.to_status, last.actor) == ("withdraw", "submitted", "withdrawn",
                                                                          dismantler)
    assert last.comment == "自动结束：拆解企业已撤回该报废车辆接收登记。"  # Chinese first, like every stored message
    assert filing.pk not in filing_queue(actor=reviewer_hb).values_list("pk", flat=True)  # nothing left to decide
    assert not Notification.objects.filter(filing=filing).exists()  # the dismantler's own act: no notice to it
    for decide in (filing_services.filing_claim, filing_services.filing_approve):
        with pytest.raises(DomainError) as err:
            decide(actor=reviewer_hb, filing_id=filing.pk, **({"comment": "ok"} if decide is not
                                                             filing_services.filing_claim else {}))
        assert err.value.code == "filing_transition_not_allowed"
    assert ScrappingIntake.objects.get(pk=intake.pk).status == "withdrawn"


@pytest.mark.parametrize("step", ["in_review", "returned"])
def test_a_filing_in_review_or_returned_is_closed_too(step, dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    filing = filing_of(intake)
    filing_services.filing_claim(actor=reviewer_hb, filing_id=filing.pk)
    if step == "returned":
        filing_services.filing_return(actor=reviewer_hb, filing_id=filing.pk, comment="请补充照片")
    services.scrapping_intake_withdraw(actor=dismantler, intake_id=intake.pk)
    assert list(filing_of(intake).transitions.order_by("id").values_list("to_status", flat=True))[-2:] == [
        step, "withdrawn"]


def test_outsiders_never_reach_the_filing(dismantler, dismantler2, nev, spare, reviewer_gd, bob):
    intake = take_in(dismantler, VIN, [spare])
    filing = filing_of(intake)
    for outsider in (dismantler2, reviewer_gd, bob):
        with pytest.raises(NotFound):
            filing_services.filing_comment_add(actor=outsider, filing_id=filing.pk, body="x")
    with pytest.raises(NotFound):
        filing_services.filing_claim(actor=reviewer_gd, filing_id=filing.pk)
    assert filing_of(intake).status == "submitted"


def test_the_whole_round_through_the_pages(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare], explanation="车主称换过电池")
    pk = filing_of(intake).pk
    reviewer_client, company_client = signed_in(reviewer_hb), signed_in(dismantler)
    # the intake page leads each side to the filing
    assert f'href="/filings/{pk}/"' in company_client.get(f"/scrapping/intakes/{intake.pk}/").content.decode()
    assert f'href="/review/filings/{pk}/"' in reviewer_client.get(f"/scrapping/intakes/{intake.pk}/").content.decode()
    review = reviewer_client.get(f"/en/review/filings/{pk}/")
    assert review.status_code == 200
    text = review.content.decode()
    assert VIN in text and spare in text and "车主称换过电池" in text
    reviewer_client.post(f"/review/filings/{pk}/claim/")
    assert reviewer_client.post(f"/review/filings/{pk}/", {"decision": "return", "comment": "请上传维修单",
                                                            "confirm": "on"}).status_code == 302
    page = company_client.get(f"/filings/{pk}/")
    assert page.status_code == 200 and "请上传维修单" in page.content.decode()
    assert f"/filings/{pk}/edit/" not in page.content.decode()  # nothing to edit: evidence goes in the thread
    company_client.post(f"/filings/{pk}/comments/", {"body": "维修单见附件", "attachment": pdf_upload()})
    company_client.post(f"/filings/{pk}/resubmit/", {"comment": "已补充"})
    assert Filing.objects.get(pk=pk).status == "resubmitted"
    reviewer_client.post(f"/review/filings/{pk}/claim/")
    reviewer_client.post(f"/review/filings/{pk}/", {"decision": "approve", "comment": "已核实", "confirm": "on"})
    assert ScrappingIntake.objects.get(pk=intake.pk).status == "ready"


def test_the_intake_decision_page_still_decides(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    response = signed_in(reviewer_hb).post(f"/scrapping/intakes/{intake.pk}/decision/",
                                           {"decision": "approved", "reason": "已核实", "confirm": "on"})
    assert response.status_code == 302
    assert ScrappingIntake.objects.get(pk=intake.pk).status == "ready"
    assert filing_of(intake).status == "approved"


def test_the_whole_round_through_the_api(api_for, dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    pk = filing_of(intake).pk
    regulator, company = api_for(reviewer_hb), api_for(dismantler)
    queue = results(regulator.get(f"{API}/filings/queue/", {"kind": "mismatch_decision"}))
    assert [row["id"] for row in queue] == [pk]
    assert regulator.get(f"{API}/filings/{pk}/").json()["mismatch_decision"]["vin"] == VIN
    regulator.post(f"{API}/filings/{pk}/claim/", {}, format="json")
    assert regulator.post(f"{API}/filings/{pk}/return/", {"comment": "请补充"}, format="json").json()["status"] \
        == "returned"
    assert company.post(f"{API}/filings/{pk}/comments/", {"body": "补充说明"}, format="json").status_code == 201
    assert company.post(f"{API}/filings/{pk}/resubmit/", {"comment": "已补充"}, format="json").json()["status"] \
        == "resubmitted"
    regulator.post(f"{API}/filings/{pk}/claim/", {}, format="json")
    approved = regulator.post(f"{API}/filings/{pk}/approve/", {"comment": "已核实"}, format="json")
    assert approved.json()["status"] == "approved", approved.content
    assert approved.json()["mismatch_decision"]["intake_status"] == "ready"


def test_outsiders_get_404_from_the_api(api_for, dismantler, dismantler2, nev, spare, reviewer_gd):
    pk = filing_of(take_in(dismantler, VIN, [spare])).pk
    regulator = api_for(reviewer_gd)
    assert regulator.get(f"{API}/filings/{pk}/").status_code == 404
    assert regulator.post(f"{API}/filings/{pk}/claim/", {}, format="json").status_code == 404
    assert api_for(dismantler2).post(f"{API}/filings/{pk}/comments/", {"body": "x"}, format="json").status_code == 404
    assert Filing.objects.get(pk=pk).status == "submitted"


# --- the data migration ------------------------------------------------------------------------------------------


def test_the_data_migration_files_intakes_awaiting_a_decision_once(dismantler, nev, spare):
    import importlib

    from django.apps import apps as django_apps

    from apps.filings.models import FilingTransition

    mismatches = importlib.import_module("apps.scrapping.migrations.0003_mismatch_decision_filing") \
        .mismatches_onto_filings
    intake = take_in(dismantler, VIN, [spare])
    old = MismatchDecision.objects.get(intake=intake)  # as before the workflow: no filing
    filing_id = old.pk
    old.delete()
    FilingTransition.objects.filter(filing_id=filing_id).delete()
    Filing.objects.filter(pk=filing_id).delete()
    mismatches(django_apps, None)
    mismatches(django_apps, None)
    filing = MismatchDecision.objects.get(intake=intake).filing
    assert (filing.kind, filing.status, filing.enterprise_id) == ("mismatch_decision", "submitted",
                                                                 dismantler.enterprise.pk)
