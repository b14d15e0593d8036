"""Issue 5 in a real browser: every kind of filing goes through submit → return (with a comment) → correct and
resubmit → approve, each step driven through the pages — the enterprise's own pages, and the reviewer's queue and
review page behind 2FA (the administrator's for a licence application: only an administrator grants a licence).
The visible status is asserted at each step, and the effect of the approval (enterprise active, licence granted,
discrepancy resolved, intake decided). Prerequisites (enterprises, batteries, discrepancies, intakes) come from
services and factories.

The recovery report is the "new user" story, in Chinese and in English: a recycler files below the recovery
threshold and sees the flag; the reviewer sees the below-threshold badge in the queue and returns it.

One browser context per persona and round; each signs in once. Screenshots under .artifacts/e2e/round-*-<lang>/."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from apps.enterprises.models import Enterprise, LicenceApplication, Membership, RecyclerLicence
from apps.filings.models import Filing, FilingKind, FilingStatus, MonthlyReport
from apps.filings.risk import flag_label
from apps.filings import services as filing_services
from apps.reconciliation.models import Discrepancy
from apps.reconciliation.services import reconciliation_run
from apps.scrapping.models import MismatchDecision, ScrappingIntake
from tests.batteries.conftest import VIN, repairer  # noqa: F401 — fixture used by `spare`
from tests.conftest import totp_device
from tests.e2e.conftest import wait_until
from tests.e2e.test_journeys import _fill_intake
from tests.factories import EnterpriseFactory, MembershipFactory, pdf_upload, valid_uscc
from tests.filings.recovery_setup import GOOD_OUTPUTS, INPUTS, LOW_OUTPUTS, last_month
from tests.scrapping.conftest import nev, spare  # noqa: F401 — fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LOCALES = {"zh": "zh-hans", "en": "en"}


def label(j, status: str) -> str:
    """The status label the page shows in the journey's language."""
    with translation.override(LOCALES[j.lang]):
        return str(FilingStatus(status).label)


def assert_status(j, filing_pk: int, status: str) -> None:
    """The filing's status badge on the current page says `status`, and the database agrees."""
    badge = j.page.locator(f".badge.{status}").first
    assert badge.inner_text().strip() == label(j, status), j.text()
    assert Filing.objects.get(pk=filing_pk).status == status


def regulator(journey, user, name: str, lang: str):
    j = journey(f"round-{name}-{user.username}", lang)
    j.sign_in(user, device=totp_device(user))
    return j


def claim_from_queue(rj, filing_pk: int, *, badge: str | None = None) -> None:
    """The reviewer finds the filing in the queue (submitted or resubmitted) and claims it from its row."""
    rj.goto("/review/filings/")
    row = rj.page.locator(f"tbody tr:has(a[href$='/review/filings/{filing_pk}/'])")
    assert row.count() == 1, rj.text()
    status = Filing.objects.get(pk=filing_pk).status
    assert status in ("submitted", "resubmitted")
    assert row.locator(f".badge.{status}").inner_text().strip() == label(rj, status)
    if badge is not None:
        assert badge in row.inner_text()
    rj.shot(f"queue-{status}")
    rj.submit(row.locator(f"form[action$='/review/filings/{filing_pk}/claim/']"))
    assert rj.page.url.endswith(f"/review/filings/{filing_pk}/")
    assert_status(rj, filing_pk, "in_review")
    rj.shot("claimed")


def decide(rj, filing_pk: int, decision: str, comment: str = "") -> None:
    form = rj.page.locator("main form:has(input[name=decision])")
    form.locator(f"input[name=decision][value={decision}]").check()
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator("input[name=confirm]").check()
    rj.shot(f"{decision}-form")
    rj.submit(form)
    assert rj.page.locator(".messages .msg-success").count() == 1, rj.text()
    assert_status(rj, filing_pk, "returned" if decision == "return" else "approved")
    rj.shot(f"{decision}ed" if decision == "return" else "approved")


def review_return(rj, filing_pk: int, comment: str, *, badge: str | None = None) -> None:
    claim_from_queue(rj, filing_pk, badge=badge)
    decide(rj, filing_pk, "return", comment)


def review_approve(rj, filing_pk: int, comment: str = "") -> None:
    claim_from_queue(rj, filing_pk)
    decide(rj, filing_pk, "approve", comment)


def sees_returned(j, filing_pk: int, comment: str) -> None:
    j.goto(f"/filings/{filing_pk}/")
    assert_status(j, filing_pk, "returned")
    assert comment in j.text()
    j.shot("returned-seen")


def resubmit(j, filing_pk: int, what: str) -> None:
    """On the filing's page, after correcting: say what was corrected and resubmit."""
    j.goto(f"/filings/{filing_pk}/")
    form = j.page.locator(f"form[action$='/filings/{filing_pk}/resubmit/']")
    form.locator("textarea[name=comment]").fill(what)
    j.shot("resubmit-form")
    j.submit(form)
    assert_status(j, filing_pk, "resubmitted")
    j.shot("resubmitted")


def submit_draft(j, filing_pk: int) -> None:
    assert_status(j, filing_pk, "draft")
    j.submit(j.page.locator(f"form[action$='/filings/{filing_pk}/submit/']"))
    assert_status(j, filing_pk, "submitted")
    j.shot("submitted")


# --- the recovery report: the new user's story, in both languages ------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_recovery_report_round_a_new_recycler_files_below_threshold(journey, recycler, reviewer, lang):
    j = journey("round-recovery", lang)
    j.sign_in(recycler)
    j.goto("/filings/recovery-reports/new/")
    j.page.fill("input[name=month]", last_month().strftime("%Y-%m"))
    for chem, kg in INPUTS.items():
        j.page.fill(f"input[name=input_{chem}]", kg)
    for metal, kg in LOW_OUTPUTS.items():
        j.page.fill(f"input[name=output_{metal}]", kg)
    j.shot("report-form")
    j.submit()
    filing = Filing.objects.get(kind=FilingKind.RECOVERY_REPORT)
    assert j.page.url.endswith(f"/filings/{filing.pk}/")
    assert "97.37 %" in j.text() and j.page.locator(".filing-differs").count() >= 1  # the flag, before submitting
    j.shot("below-threshold")
    submit_draft(j, filing.pk)

    comment = "镍回收率97.37%，低于98%，请核对镍产出重量。"
    with translation.override(LOCALES[lang]):
        below = flag_label("below_threshold")
    rj = regulator(journey, reviewer, "recovery", lang)
    review_return(rj, filing.pk, comment, badge=below)

    sees_returned(j, filing.pk, comment)
    j.page.locator(f"a[href$='/filings/{filing.pk}/recovery-report/edit/']").click()
    j.page.wait_for_load_state("networkidle")
    j.page.fill("input[name=output_ni]", GOOD_OUTPUTS["ni"])
    j.shot("corrected")
    j.submit()
    assert "97.37 %" not in j.text()
    resubmit(j, filing.pk, "镍产出重量已按过磅单更正为75.5 kg。")

    review_approve(rj, filing.pk)
    j.goto(f"/filings/{filing.pk}/")
    assert_status(j, filing.pk, "approved")
    j.shot("approved-seen")


# --- the other kinds, in Chinese ---------------------------------------------------------------------------------

def test_monthly_report_round(journey, alice, reviewer):
    j = journey("round-monthly", "zh")
    j.sign_in(alice)
    j.goto("/filings/monthly-reports/new/")
    j.page.fill("input[name=month]", last_month().strftime("%Y-%m"))
    j.page.fill("input[name=produced]", "120")
    j.shot("report-form")
    j.submit()
    filing = Filing.objects.get(kind=FilingKind.MONTHLY_REPORT)
    assert j.page.url.endswith(f"/filings/{filing.pk}/")
    submit_draft(j, filing.pk)

    comment = "生产数量与台账不一致，请核对。"
    rj = regulator(journey, reviewer, "monthly", "zh")
    review_return(rj, filing.pk, comment)

    sees_returned(j, filing.pk, comment)
    j.page.locator(f"a[href$='/filings/{filing.pk}/edit/']").click()
    j.page.wait_for_load_state("networkidle")
    j.page.fill("input[name=produced]", "0")
    j.shot("corrected")
    j.submit()
    resubmit(j, filing.pk, "生产数量已按台账更正。")
    assert MonthlyReport.objects.get(pk=filing.pk).produced == 0

    review_approve(rj, filing.pk)
    j.goto(f"/filings/{filing.pk}/")
    assert_status(j, filing.pk, "approved")
    j.shot("approved-seen")


def test_explanation_of_a_discrepancy_round(journey, celery_worker, alice, alice_co, reviewer):
    # A real discrepancy (a hand-made one would be closed by the run a submission triggers): Alice reported 2 packs
    # produced last month, the ledger has none.
    report = filing_services.monthly_report_create(actor=alice, month=last_month(), counts={"produced": 2})
    filing_services.filing_submit(actor=alice, filing_id=report.pk)
    reconciliation_run(enterprise=alice_co.pk)  # skipped if the worker's run for the submission holds the lock
    found = Discrepancy.objects.filter(enterprise=alice_co, figure="produced")
    wait_until(found.exists, "the reconciliation run", worker=celery_worker)
    discrepancy = found.get()
    j = journey("round-explanation", "zh")
    j.sign_in(alice)
    j.goto(f"/discrepancies/{discrepancy.pk}/")
    j.shot("discrepancy")
    j.page.locator(f"main a[href$='/filings/explanations/new/discrepancy/{discrepancy.pk}/']").click()
    j.page.wait_for_load_state("networkidle")
    j.page.fill("textarea[name=text]", "两块电池于月末入库，次月才登记。")
    j.shot("explanation-form")
    j.submit()
    filing = Filing.objects.get(kind=FilingKind.EXPLANATION)
    assert j.page.url.endswith(f"/filings/{filing.pk}/")
    submit_draft(j, filing.pk)

    comment = "请写明两块电池的编码和入库日期。"
    rj = regulator(journey, reviewer, "explanation", "zh")
    review_return(rj, filing.pk, comment)
    assert Discrepancy.objects.get(pk=discrepancy.pk).status == "explained"  # the enterprise is correcting it

    sees_returned(j, filing.pk, comment)
    j.page.locator(f"a[href$='/filings/{filing.pk}/explanation/edit/']").click()
    j.page.wait_for_load_state("networkidle")
    j.page.fill("textarea[name=text]", "电池 0PAPE01ABCDEFGT3F0000001 等两块于月末31日入库，次月1日登记。")
    j.shot("corrected")
    j.submit()
    resubmit(j, filing.pk, "已补充电池编码与入库日期。")

    review_approve(rj, filing.pk)
    assert Discrepancy.objects.get(pk=discrepancy.pk).status == "resolved"
    j.goto(f"/discrepancies/{discrepancy.pk}/")
    j.shot("discrepancy-resolved")


def test_enterprise_registration_round(journey, reviewer):
    j = journey("round-registration", "zh")
    j.goto("/register/")
    uscc = valid_uscc()
    licence = j.folder / "business-licence.pdf"
    licence.write_bytes(pdf_upload().read())
    fields = {"name": "闽南电池回收有限公司", "uscc": uscc, "address": "厦门市思明区", "contact_name": "陈静",
              "contact_phone": "0592-1234567", "contact_email": "contact@minnan.example.cn",
              "applicant_full_name": "陈静", "applicant_username": "chenjing",
              "applicant_email": "chenjing@minnan.example.cn", "applicant_password": "Bright-river-2026",
              "applicant_password2": "Bright-river-2026"}
    for name, value in fields.items():
        j.page.fill(f"input[name={name}]", value)
    j.page.select_option("select[name=province]", "35")
    j.page.check("input[name=roles][value=recycler]")
    j.page.set_input_files("input[name=business_licence]", str(licence))
    j.page.check("input[name=confirm_truth]")
    j.shot("registration-form")
    j.submit()
    enterprise = Enterprise.objects.get(uscc=uscc)
    filing = enterprise.registration.filing
    assert j.page.url.endswith("/application/"), j.page.url
    assert enterprise.status == "pending" and filing.status == "submitted"
    j.shot("submitted")

    comment = "地址不完整，请写明门牌号。"
    rj = regulator(journey, reviewer, "registration", "zh")
    review_return(rj, filing.pk, comment)
    assert Enterprise.objects.get(pk=enterprise.pk).status == "returned"

    j.goto("/application/")
    assert comment in j.text()
    j.shot("returned-seen")
    j.page.locator("main a[href$='/application/edit/']").click()
    j.page.wait_for_load_state("networkidle")
    j.page.fill("input[name=address]", "厦门市思明区2号")
    j.shot("corrected")
    j.submit()
    assert j.page.url.endswith("/application/")
    enterprise.refresh_from_db()
    assert (enterprise.status, enterprise.address) == ("pending", "厦门市思明区2号")
    assert Filing.objects.get(pk=filing.pk).status == "resubmitted"
    j.shot("resubmitted")

    review_approve(rj, filing.pk)
    assert Enterprise.objects.get(pk=enterprise.pk).status == "active"
    j.goto("/application/")  # an active enterprise's application page leads to its profile
    assert j.page.url.endswith("/enterprise/")
    j.shot("active")


def test_licence_application_round_granted_by_an_admin(journey, reviewer, admin_user):
    co = EnterpriseFactory(name="闽东再生资源有限公司", province="35", roles=["recycler"])
    applicant = MembershipFactory(enterprise=co, role=Membership.Role.ADMIN, user__username="recycler_admin").user
    today = timezone.localdate()
    j = journey("round-licence", "zh")
    j.sign_in(applicant)
    j.goto("/enterprise/licence-applications/new/")
    j.page.fill("input[name=number]", "闽再生许2026-018")
    for scope in ("dismantling", "hydrometallurgy"):
        j.page.check(f"input[name=scopes][value={scope}]")
    for chem in ("E", "F"):
        j.page.check(f"input[name=chemistries][value={chem}]")
    j.page.fill("input[name=annual_capacity_tonnes]", "12000.5")
    j.page.fill("input[name=valid_from]", today.isoformat())
    j.page.fill("input[name=valid_to]", (today + dt.timedelta(days=365)).isoformat())
    j.page.fill("input[name=address]", "宁德市东侨区1号")
    document = j.folder / "licence.pdf"
    document.write_bytes(pdf_upload().read())
    j.page.set_input_files("input[name=document]", str(document))
    j.shot("application-form")
    j.submit()
    filing = Filing.objects.get(kind=FilingKind.LICENCE_APPLICATION)
    assert j.page.url.endswith(f"/filings/{filing.pk}/")
    submit_draft(j, filing.pk)

    comment = "有效期与许可证原件不符，请更正。"
    rj = regulator(journey, reviewer, "licence", "zh")
    claim_from_queue(rj, filing.pk)
    # a reviewer may return it but not grant it
    assert rj.page.locator("main input[name=decision][value=approve]").count() == 0
    decide(rj, filing.pk, "return", comment)

    sees_returned(j, filing.pk, comment)
    j.page.locator(f"a[href$='/enterprise/licence-applications/{filing.pk}/edit/']").click()
    j.page.wait_for_load_state("networkidle")
    valid_to = today + dt.timedelta(days=3 * 365)
    j.page.fill("input[name=valid_to]", valid_to.isoformat())
    j.shot("corrected")
    j.submit()
    assert j.page.url.endswith(f"/filings/{filing.pk}/"), j.text()
    assert LicenceApplication.objects.get(filing=filing).valid_to == valid_to
    resubmit(j, filing.pk, "有效期已按原件更正。")

    aj = regulator(journey, admin_user, "licence", "zh")
    review_approve(aj, filing.pk)
    licence = RecyclerLicence.objects.get(enterprise=co)
    assert (licence.number, licence.status, licence.valid_to) == ("闽再生许2026-018", "active", valid_to)
    aj.goto(f"/licences/{licence.pk}/")
    aj.shot("licence-granted")


def test_scrapping_mismatch_decision_round(journey, dismantler, reviewer, nev, spare):
    j = journey("round-mismatch", "zh")
    j.sign_in(dismantler)
    _fill_intake(j, VIN, spare)  # a battery other than the ledger's: the mismatch files a decision
    j.page.fill("textarea[name=explanation]", "车主称曾在维修店更换电池。")
    j.shot("intake-form")
    j.submit()
    intake = ScrappingIntake.objects.get(vin=VIN)
    assert intake.status == "awaiting_decision"
    filing = Filing.objects.get(pk=MismatchDecision.objects.get(intake=intake).pk)
    assert filing.kind == FilingKind.MISMATCH_DECISION
    assert_status(j, filing.pk, "submitted")  # the intake page shows the filing's status
    j.shot("awaiting-decision")

    comment = "请提供维修店的更换记录。"
    rj = regulator(journey, reviewer, "mismatch", "zh")
    review_return(rj, filing.pk, comment)
    assert ScrappingIntake.objects.get(pk=intake.pk).status == "awaiting_decision"

    j.goto(f"/scrapping/intakes/{intake.pk}/")
    form = j.page.locator(f"form[action$='/scrapping/intakes/{intake.pk}/explanation/']")
    form.locator("textarea[name=explanation]").fill("羊城维修于2025年更换电池，维修单号 WX-2025-0031。")
    j.submit(form)
    j.shot("explained")
    sees_returned(j, filing.pk, comment)
    resubmit(j, filing.pk, "已补充维修单号。")

    review_approve(rj, filing.pk, "维修记录已核实。")  # deciding an intake says why (its decision reason)
    intake.refresh_from_db()
    assert (intake.status, intake.decision, intake.decided_by, intake.decision_reason) == (
        "ready", "approved", reviewer, "维修记录已核实。")
    j.goto(f"/scrapping/intakes/{intake.pk}/")
    assert j.page.locator("form[action$='/issue/']").count() == 1  # a certificate may now be issued
    j.shot("decided")
