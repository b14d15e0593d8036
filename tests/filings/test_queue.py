"""The reviewer queue: the risk order (each criterion), filters, bulk actions, the side-by-side review page, the
API's keyset pages and the exports — as reviewers use them, and as outsiders must not."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.filings import rules, services
from apps.filings.models import Filing, FilingTransition
from apps.filings.risk import repeat_offenders_changed
from apps.reconciliation.models import Discrepancy
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, UserFactory
from tests.filings.conftest import COUNTS, last_month
from tests.web import page_text

pytestmark = pytest.mark.django_db

QUEUE = "/review/filings/"


def open_filing(enterprise, *, kind="monthly_report", days_ago=1, status="submitted", flags=(), due_date=None,
                first_submitted_days_ago=None, period=None, assigned_to=None) -> Filing:
    """An open filing as the queue sees it (created directly: the queue reads rows, whatever wrote them)."""
    submitted = timezone.now() - dt.timedelta(days=days_ago)
    first = timezone.now() - dt.timedelta(days=first_submitted_days_ago) if first_submitted_days_ago else submitted
    return Filing.objects.create(kind=kind, enterprise=enterprise, province=enterprise.province, status=status,
                                 period=period, due_date=due_date, submitted_at=submitted, first_submitted_at=first,
                                 flags=list(flags), assigned_to=assigned_to)


def returned(filing, *, by, days_ago=10):
    transition = FilingTransition.objects.create(filing=filing, action="return", from_status="in_review",
                                                 to_status="returned", actor=by, comment="x")
    FilingTransition.objects.filter(pk=transition.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))


def queue_ids(client, query="") -> list[int]:
    return [f.pk for f in client.get(QUEUE + query).context["page"].object_list]


@pytest.fixture
def fj_co(db):
    return EnterpriseFactory(name="闽江回收有限公司", province="35", roles=["recycler"])


# --- the risk order --------------------------------------------------------------------------------------------


def test_overdue_then_flagged_then_repeat_offender_then_oldest(reviewer, alice_co, fj_co, bob_co):
    plain_oldest = open_filing(bob_co, days_ago=30)
    plain_newer = open_filing(bob_co, days_ago=2)
    repeat = open_filing(fj_co, days_ago=3)
    for _ in range(2):  # FILINGS_REPEAT_OFFENDER_THRESHOLD = 2 filings returned in 12 months
        returned(open_filing(fj_co, status="approved", days_ago=60), by=reviewer)
    flagged = open_filing(alice_co, days_ago=1, flags=["below_threshold"])
    overdue = open_filing(alice_co, days_ago=1, due_date=timezone.localdate() - dt.timedelta(days=20),
                          first_submitted_days_ago=1)
    overdue_and_flagged = open_filing(bob_co, days_ago=1, flags=["ledger_mismatch"],
                                      due_date=timezone.localdate() - dt.timedelta(days=5))
    ids = queue_ids(signed_in(reviewer))
    assert ids == [overdue_and_flagged.pk, overdue.pk, flagged.pk, repeat.pk, plain_oldest.pk, plain_newer.pk]


def test_the_sql_rank_is_the_rule(reviewer, alice_co):
    open_filing(alice_co, flags=["x"], due_date=timezone.localdate() - dt.timedelta(days=30))
    row = signed_in(reviewer).get(QUEUE).context["page"].object_list[0]
    assert row.risk == rules.risk_rank(overdue=True, flagged=True, repeat_offender=False) == 6
    assert rules.risk_reasons(row.risk) == ["overdue", "flagged"]


def test_a_discrepancy_left_open_a_month_makes_a_repeat_offender(reviewer, alice_co, bob_co, settings):
    settings.FILINGS_REPEAT_OFFENDER_DISCREPANCY_DAYS = 30
    older = open_filing(bob_co, days_ago=9)
    alices = open_filing(alice_co, days_ago=1)
    client = signed_in(reviewer)
    assert queue_ids(client) == [older.pk, alices.pk]
    now = timezone.now()
    discrepancy = Discrepancy.objects.create(enterprise=alice_co, kind="stock_balance", expected=1, found=2,
                                             severity="high", first_seen=now, last_seen=now)
    repeat_offenders_changed()
    # Raised just now (often by the very filing under review): not yet a sign of a repeat offender.
    assert queue_ids(client) == [older.pk, alices.pk]
    Discrepancy.objects.filter(pk=discrepancy.pk).update(first_seen=now - dt.timedelta(days=31))
    assert queue_ids(client) == [older.pk, alices.pk]  # the cached set: within a minute…
    repeat_offenders_changed()  # …or at once when it is cleared (as a return or a rejection does)
    assert queue_ids(client) == [alices.pk, older.pk]
    Discrepancy.objects.filter(pk=discrepancy.pk).update(status="resolved", closed_at=now)
    repeat_offenders_changed()
    assert queue_ids(client) == [older.pk, alices.pk]


def test_returning_a_filing_clears_the_cached_repeat_offenders(reviewer, alice, alice_co, bob_co,
                                                               django_capture_on_commit_callbacks):
    older = open_filing(bob_co, days_ago=9)
    alices = open_filing(alice_co, days_ago=1)
    returned(open_filing(alice_co, status="approved", days_ago=500), by=reviewer)
    client = signed_in(reviewer)
    assert queue_ids(client) == [older.pk, alices.pk]  # one return: below the threshold of 2
    second = open_filing(alice_co, status="in_review", assigned_to=reviewer, days_ago=30)
    with django_capture_on_commit_callbacks(execute=True):
        services.filing_return(actor=reviewer, filing_id=second.pk, comment="第二次退回")
    assert queue_ids(client) == [alices.pk, older.pk]


@pytest.mark.parametrize("status,repeat", [("issued", True), ("answered", True), ("closed", False),
                                           ("awaiting_approval", False)])
def test_an_open_enforcement_action_makes_a_repeat_offender(reviewer, alice_co, bob_co, status, repeat):
    from apps.enforcement.models import EnforcementAction

    older = open_filing(bob_co, days_ago=9)
    alices = open_filing(alice_co, days_ago=1)
    EnforcementAction.objects.create(kind="warning", enterprise=alice_co, province=alice_co.province, status=status,
                                     facts="x", legal_basis="y", deadline=timezone.localdate())
    assert queue_ids(signed_in(reviewer)) == ([alices.pk, older.pk] if repeat else [older.pk, alices.pk])


@pytest.mark.parametrize("returns,days_ago,repeat", [(1, 10, False), (2, 10, True), (2, 400, False)])
def test_returned_filings_count_only_from_the_threshold_and_within_12_months(reviewer, alice_co, bob_co, returns,
                                                                             days_ago, repeat):
    older = open_filing(bob_co, days_ago=9)
    alices = open_filing(alice_co, days_ago=1)
    for _ in range(returns):
        returned(open_filing(alice_co, status="approved", days_ago=500), by=reviewer, days_ago=days_ago)
    assert queue_ids(signed_in(reviewer)) == ([alices.pk, older.pk] if repeat else [older.pk, alices.pk])


def test_a_lower_threshold_setting_applies(settings, reviewer, alice_co, bob_co):
    settings.FILINGS_REPEAT_OFFENDER_THRESHOLD = 1
    older = open_filing(bob_co, days_ago=9)
    alices = open_filing(alice_co, days_ago=1)
    returned(open_filing(alice_co, status="approved", days_ago=500), by=reviewer)
    assert queue_ids(signed_in(reviewer)) == [alices.pk, older.pk]


def test_each_row_says_why_it_is_risky(reviewer, alice_co):
    open_filing(alice_co, flags=["ledger_mismatch"], due_date=timezone.localdate() - dt.timedelta(days=30))
    client = signed_in(reviewer)
    page = page_text(client.get("/en" + QUEUE))
    assert "Overdue" in page and "Counts differ from the ledger" in page
    assert "逾期" in page_text(client.get(QUEUE))


# --- the ledger_mismatch flag ----------------------------------------------------------------------------------


def test_submit_flags_a_report_whose_counts_differ_and_resubmit_clears_it(alice, reviewer, draft):
    filing = services.filing_submit(actor=alice, filing_id=draft.pk)
    assert filing.flags == ["ledger_mismatch"]  # the ledger has no event for Alice's enterprise
    services.filing_claim(actor=reviewer, filing_id=filing.pk)
    services.filing_return(actor=reviewer, filing_id=filing.pk, comment="核对")
    Filing.objects.filter(pk=filing.pk).update(flags=["below_threshold", "ledger_mismatch"])
    services.monthly_report_update(actor=alice, filing_id=filing.pk, counts={name: 0 for name in COUNTS})
    filing = services.filing_resubmit(actor=alice, filing_id=filing.pk)
    assert Filing.objects.get(pk=filing.pk).flags == ["below_threshold"]  # another rule's flag is kept


def test_a_report_matching_the_ledger_is_not_flagged(alice):
    draft = services.monthly_report_create(actor=alice, month=last_month(), counts={"in_stock": 7})
    assert services.filing_submit(actor=alice, filing_id=draft.pk).flags == []


# --- filters ---------------------------------------------------------------------------------------------------


def test_filters_by_kind_province_enterprise_status_and_age(reviewer, alice_co, bob_co, fj_co):
    monthly = open_filing(alice_co, days_ago=20)
    recovery = open_filing(fj_co, kind="recovery_report", days_ago=2)
    shanghai = open_filing(bob_co, kind="explanation", days_ago=1, status="resubmitted")
    claimed = open_filing(alice_co, kind="explanation", days_ago=1, status="in_review", assigned_to=reviewer)
    Filing.objects.create(kind="monthly_report", enterprise=bob_co, province="31", status="approved")  # closed
    client = signed_in(reviewer)
    assert set(queue_ids(client)) == {monthly.pk, recovery.pk, shanghai.pk, claimed.pk}
    assert queue_ids(client, "?kind=recovery_report") == [recovery.pk]
    assert set(queue_ids(client, "?province=31")) == {shanghai.pk}
    assert set(queue_ids(client, "?search=闽江")) == {recovery.pk}
    assert set(queue_ids(client, f"?search={alice_co.uscc[:8].lower()}")) == {monthly.pk, claimed.pk}
    assert queue_ids(client, "?status=resubmitted") == [shanghai.pk]
    assert queue_ids(client, "?older_than_days=10") == [monthly.pk]
    assert queue_ids(client, "?sort=newest")[-1] == monthly.pk


def test_a_reviewer_sees_only_their_provinces(reviewer_gd, alice_co):
    open_filing(alice_co)
    client = signed_in(reviewer_gd)
    assert queue_ids(client) == []
    assert alice_co.name not in page_text(client.get(QUEUE + "?search=爱丽丝"))


def test_the_queue_takes_a_constant_number_of_queries(reviewer, alice_co, bob_co):
    client = signed_in(reviewer)
    open_filing(alice_co, flags=["x"])

    def count():
        repeat_offenders_changed()  # count the repeat-offender statements too, every time
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(QUEUE).status_code == 200
        return len(ctx)

    few = count()
    for i in range(12):
        open_filing(bob_co if i % 2 else alice_co, days_ago=i + 2, flags=["ledger_mismatch"] if i % 3 else [],
                    assigned_to=reviewer, status="in_review")
    assert count() == few


# --- bulk actions ------------------------------------------------------------------------------------------------


def test_bulk_claim_confirms_first_then_reports_each_filing(reviewer, alice_co):
    other = UserFactory(username="otto", kind="reviewer")
    free = open_filing(alice_co, days_ago=3)
    taken = open_filing(alice_co, days_ago=2, status="in_review", assigned_to=other)
    client = signed_in(reviewer)
    data = {"ids": [free.pk, taken.pk], "action": "claim"}
    response = client.post(QUEUE + "bulk/", data)
    assert response.status_code == 200 and response.templates[0].name == "filings/bulk_confirm.html"
    assert Filing.objects.get(pk=free.pk).status == "submitted"  # nothing happens before the confirmation
    response = client.post(QUEUE + "bulk/", {**data, "confirmed": "1"})
    results = {r["id"]: r for r in response.context["results"]}
    assert results[free.pk]["ok"] and results[free.pk]["outcome"] == "done"
    assert not results[taken.pk]["ok"] and results[taken.pk]["code"] == "filing_transition_not_allowed"
    assert Filing.objects.get(pk=free.pk).assigned_to == reviewer
    assert Filing.objects.get(pk=taken.pk).assigned_to == other
    assert response.context["done"] == 1 and response.context["failed"] == 1


def test_bulk_assign_by_username_and_return_with_one_comment(reviewer, alice_co, alice):
    colleague = UserFactory(username="fj_colleague", kind="reviewer", reviewer_provinces=["35"])
    a, b = open_filing(alice_co, days_ago=3), open_filing(alice_co, days_ago=2)
    client = signed_in(reviewer)
    assert b"fj_colleague" in client.get("/review/reviewers/search/?reviewer=colle").content
    client.post(QUEUE + "bulk/", {"ids": [a.pk, b.pk], "action": "assign", "reviewer": "fj_colleague",
                                  "confirmed": "1"})
    assert {f.assigned_to for f in Filing.objects.filter(pk__in=[a.pk, b.pk])} == {colleague}
    c = open_filing(alice_co, days_ago=1)
    response = client.post(QUEUE + "bulk/", {"ids": [c.pk], "action": "return", "comment": "请核对", "confirmed": "1"})
    assert response.context["results"][0]["ok"]
    c.refresh_from_db()
    assert c.status == "returned" and c.transitions.last().comment == "请核对"
    assert [t.action for t in c.transitions.all()] == ["claim", "return"]


def test_bulk_return_without_a_comment_or_to_an_unknown_reviewer_changes_nothing(reviewer, alice_co):
    a = open_filing(alice_co)
    client = signed_in(reviewer)
    response = client.post(QUEUE + "bulk/", {"ids": [a.pk], "action": "return", "comment": " "})
    assert response.status_code == 302  # refused before the confirmation page, with the reason above the queue
    assert "请说明理由" in page_text(client.get(QUEUE))
    client.post(QUEUE + "bulk/", {"ids": [a.pk], "action": "return", "comment": " ", "confirmed": "1"})
    client.post(QUEUE + "bulk/", {"ids": [a.pk], "action": "assign", "reviewer": "nobody", "confirmed": "1"})
    assert Filing.objects.get(pk=a.pk).status == "submitted" and not FilingTransition.objects.exists()


def test_bulk_on_another_province_fails_as_not_found(reviewer_gd, alice_co):
    a = open_filing(alice_co)
    response = signed_in(reviewer_gd).post(QUEUE + "bulk/", {"ids": [a.pk, 999999], "action": "claim",
                                                             "confirmed": "1"})
    results = response.context["results"]
    assert [r["code"] for r in results] == ["not_found", "not_found"]
    assert results[0]["message"] == results[1]["message"]
    assert Filing.objects.get(pk=a.pk).status == "submitted"


def test_bulk_api_reports_each_filing_and_a_retry_is_harmless(api_for, reviewer, alice_co):
    other = UserFactory(username="otto", kind="reviewer")
    free = open_filing(alice_co, days_ago=3)
    taken = open_filing(alice_co, days_ago=2, status="in_review", assigned_to=other)
    api = api_for(reviewer)
    body = {"action": "claim", "ids": [free.pk, taken.pk]}
    first = api.post("/api/v1/filings/queue/bulk/", body, format="json")
    assert first.status_code == 200
    assert [(r["id"], r["ok"], r["outcome"]) for r in first.json()["results"]] == [
        (free.pk, True, "done"), (taken.pk, False, "failed")]
    again = api.post("/api/v1/filings/queue/bulk/", body, format="json")
    assert [r["outcome"] for r in again.json()["results"]] == ["unchanged", "failed"]
    keyed = api.post("/api/v1/filings/queue/bulk/", {"action": "claim", "ids": [free.pk]}, format="json",
                     HTTP_IDEMPOTENCY_KEY="bulk-1")
    replay = api.post("/api/v1/filings/queue/bulk/", {"action": "claim", "ids": [free.pk]}, format="json",
                      HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert replay.json() == keyed.json() and replay["Idempotent-Replayed"] == "true"
    assert FilingTransition.objects.filter(filing=free, action="claim").count() == 1


def test_bulk_api_refuses_outsiders_and_bad_input(api_for, alice, reviewer, reviewer_gd, alice_co):
    a = open_filing(alice_co)
    assert api_for(alice).post("/api/v1/filings/queue/bulk/", {"action": "claim", "ids": [a.pk]},
                               format="json").status_code == 403
    response = api_for(reviewer_gd).post("/api/v1/filings/queue/bulk/", {"action": "claim", "ids": [a.pk]},
                                         format="json")
    assert response.json()["results"][0]["code"] == "not_found"
    response = api_for(reviewer).post("/api/v1/filings/queue/bulk/", {"action": "return", "ids": [a.pk]},
                                      format="json")
    assert response.status_code == 400 and response.json()["field"] == "comment"
    assert Filing.objects.get(pk=a.pk).status == "submitted"


# --- the API queue -----------------------------------------------------------------------------------------------


def test_api_queue_is_in_risk_order_and_pages_by_keyset(api_for, reviewer, alice_co, bob_co):
    expected = [open_filing(alice_co, due_date=timezone.localdate() - dt.timedelta(days=3), days_ago=1).pk,
                open_filing(bob_co, flags=["x"], days_ago=1).pk]
    expected += [open_filing(bob_co, days_ago=10 - i).pk for i in range(5)]
    api = api_for(reviewer)
    seen, url = [], "/api/v1/filings/queue/?page_size=3"
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == expected
    first = api.get("/api/v1/filings/queue/?page_size=1").json()["results"][0]
    assert first["risk_reasons"] == ["overdue"] and first["is_overdue"]
    assert api.get("/api/v1/filings/queue/?cursor=bm9wZQ").status_code == 400
    oldest = api.get("/api/v1/filings/queue/?sort=oldest").json()["results"]
    assert oldest[0]["id"] == expected[2]


def test_api_queue_and_export_take_a_constant_number_of_queries(api_for, reviewer, alice_co, bob_co):
    api = api_for(reviewer)  # a session: the page's export too
    open_filing(alice_co, flags=["x"])

    def count(get, url):
        repeat_offenders_changed()
        with CaptureQueriesContext(connection) as ctx:
            response = get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        return len(ctx)

    few = (count(api.get, "/api/v1/filings/queue/"), count(api.get, QUEUE + "?export=csv"))
    for i in range(12):
        open_filing(bob_co if i % 2 else alice_co, days_ago=i + 2, assigned_to=reviewer, status="in_review")
    assert (count(api.get, "/api/v1/filings/queue/"), count(api.get, QUEUE + "?export=csv")) == few


def test_api_queue_outsiders(api_for, alice, reviewer_gd, alice_co):
    open_filing(alice_co)
    assert api_for(reviewer_gd).get("/api/v1/filings/queue/").json()["results"] == []
    assert api_for(alice).get("/api/v1/filings/queue/").status_code == 403


# --- the side-by-side review page ---------------------------------------------------------------------------------


def test_the_review_page_puts_the_report_left_and_the_ledger_right(reviewer, alice, submitted):
    response = signed_in(reviewer).get(f"/en/review/filings/{submitted.pk}/")
    html = response.content.decode()
    left, right = html.index('class="card review-filing"'), html.index('class="card review-ledger"')
    assert left < html.index("Declared by the enterprise") < right < html.index("Ledger events by this enterprise")
    assert "Counts differ from the ledger" in html  # the flag set at submit, as a badge
    assert response.context["panel"]["differing"]


def test_a_kind_without_its_own_panel_falls_back(reviewer, alice_co):
    filing = open_filing(alice_co, kind="a_kind_still_to_come")
    html = signed_in(reviewer).get(f"/en/review/filings/{filing.pk}/").content.decode()
    assert 'class="card review-filing"' in html and 'class="card review-ledger"' in html


# --- exports -----------------------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_queue_export_has_the_pages_filters_order_and_language(reviewer, alice_co, bob_co):
    plain = open_filing(bob_co, days_ago=5)
    overdue = open_filing(alice_co, due_date=timezone.localdate() - dt.timedelta(days=3))
    open_filing(bob_co, kind="explanation")
    client = signed_in(reviewer)
    response = client.get(QUEUE + "?kind=monthly_report&export=csv")
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:3] == ["编号", "类型", "企业"]
    assert [int(r[0]) for r in rows[1:]] == [overdue.pk, plain.pk] == queue_ids(client, "?kind=monthly_report")
    assert rows[1][2] == alice_co.name and "逾期" in rows[1][7]
    english = read_csv(client.get("/en" + QUEUE + "?kind=monthly_report&export=csv"))
    assert english[0][:3] == ["No.", "Kind", "Enterprise"] and english[1][1] == "Monthly pack-count report"


def test_queue_export_xlsx_is_readable_and_neutralised(reviewer):
    from python_calamine import CalamineWorkbook

    evil = EnterpriseFactory(name="=HYPERLINK(\"http://x\")", province="35")
    open_filing(evil)
    client = signed_in(reviewer)
    response = client.get(QUEUE + "?export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content))) \
        .get_sheet_by_index(0).to_python()
    assert rows[0][0] == "编号" and rows[1][2] == "'=HYPERLINK(\"http://x\")"
    csv_rows = read_csv(client.get(QUEUE + "?export=csv"))
    assert csv_rows[1][2].startswith("'=")


def test_queue_export_keeps_the_tenant_scope(reviewer_gd, alice, alice_co):
    open_filing(alice_co)
    rows = read_csv(signed_in(reviewer_gd).get(QUEUE + "?export=csv"))
    assert rows[1:] == []
    assert signed_in(alice).get(QUEUE + "?export=csv").status_code == 403
    assert signed_in(alice).get(QUEUE + "?export=xlsx").status_code == 403


def test_an_escalated_discrepancy_makes_a_repeat_offender_at_once(reviewer, alice_co, bob_co):
    older = open_filing(bob_co, days_ago=9)
    alices = open_filing(alice_co, days_ago=1)
    now = timezone.now()
    Discrepancy.objects.create(enterprise=alice_co, kind="stock_balance", expected=1, found=2, severity="high",
                               first_seen=now, last_seen=now, status="escalated")
    repeat_offenders_changed()
    assert queue_ids(signed_in(reviewer)) == [alices.pk, older.pk]
