"""The oversight dashboards (issue 6, item 4; ADR 0013): the aggregates equal direct counts, each persona sees only
its scope, every chart's numbers are in its table and its CSV, bars drill down to the discrepancy list and on to
the battery codes behind a discrepancy."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from apps.batteries.models import Battery, BatteryEvent
from apps.reconciliation import dashboard
from apps.reconciliation.models import Discrepancy, FlowMonth, StatusCount
from apps.reconciliation.services import dashboard_aggregates_refresh
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory

pytestmark = pytest.mark.django_db

_serial = iter(range(1, 10_000_000))


def battery(holder, *, status="in_stock", weight="400", transit_to=None) -> Battery:
    n = next(_serial)
    now = timezone.now()
    return Battery.objects.create(
        code=f"0PAPE01ABCDEFG6AF{n:07d}", manufacturer_code="0PA", product_type="P", chemistry="E", spec_code="01",
        trace_code="ABCDEFG", production_date=dt.date(2026, 3, 15), serial=f"{n:07d}", maker=holder, holder=holder,
        status=status, transit_to=transit_to, weight_kg=Decimal(weight), registered_at=now, updated_at=now)


def events(b: Battery, *kinds_and_actors, when=None):
    when = when or timezone.now()
    BatteryEvent.objects.bulk_create([
        BatteryEvent(battery=b, seq=b.ledger_seq + i + 1, kind=kind, actor=actor, occurred_at=when, recorded_at=when,
                     prev_hash="0" * 64, hash=f"{b.pk:032d}{i:032d}")
        for i, (kind, actor) in enumerate(kinds_and_actors)])
    b.ledger_seq += len(kinds_and_actors)


@pytest.fixture
def scene(alice_co, bob_co):
    """Alice (Fujian, 35) makes 3 batteries, hands 2 over to a Guangdong (44) recycler, which receives and recycles
    one; Bob (Shanghai, 31) makes one. Last month, Alice also made one more."""
    recycler = EnterpriseFactory(name="粤绿回收", province="44", roles=["recycler"])
    LicenceFactory(enterprise=recycler, annual_capacity_tonnes=2, valid_from=dt.date(2020, 1, 1))
    a1, a2, a3 = battery(alice_co), battery(recycler, status="recycled"), battery(alice_co, status="in_transit",
                                                                                   transit_to=recycler)
    for b in (a1, a2, a3):
        events(b, ("produced", alice_co))
    events(a2, ("handed_over", alice_co), ("received", recycler), ("recycled", recycler))
    events(a3, ("handed_over", alice_co))
    old = battery(alice_co)
    events(old, ("produced", alice_co), when=timezone.now().replace(day=1) - dt.timedelta(days=3))
    events(battery(bob_co), ("produced", bob_co))
    dashboard_aggregates_refresh()
    return {"recycler": recycler}


def chart(charts, name) -> dashboard.Chart:
    return next(c for c in charts if c.id == name)


def charts_for(user, only=None) -> list[dashboard.Chart]:
    """The charts as the English page builds them."""
    with translation.override("en"):
        return dashboard.charts(dashboard.Scope(user), only=only)


def test_the_aggregates_equal_direct_counts(scene):
    direct = {(r["actor_id"], r["kind"]): r["n"] for r in
              BatteryEvent.objects.values("actor_id", "kind").annotate(n=Count("id"))}
    aggregated: dict = {}
    for r in FlowMonth.objects.values("enterprise_id", "kind", "events"):
        key = (r["enterprise_id"], r["kind"])
        aggregated[key] = aggregated.get(key, 0) + r["events"]
    assert aggregated == direct
    assert {(r.enterprise_id, r.status): r.batteries for r in StatusCount.objects.all()} == {
        (r["holder_id"], r["status"]): r["n"] for r in Battery.objects.values("holder_id", "status").annotate(n=Count("id"))}


def test_a_national_reviewer_sees_every_province_and_the_flows(reviewer, scene):
    charts = charts_for(reviewer)
    status = {row[0]: row[1] for row in chart(charts, "status").rows}
    assert status["In stock"] == 3 and status["Recycled (final disposal)"] == 1 and status["In transit"] == 1
    assert len(chart(charts, "status_by_province").rows) == 3
    flows = chart(charts, "flows")
    this_month = flows.rows[-1]
    assert this_month[0] == timezone.localdate().strftime("%Y-%m")
    assert this_month[1:6] == [4, 0, 0, 2, 1]  # produced, installed, retired, handed over, received
    assert flows.rows[-2][1] == 1  # last month's battery
    sankey = {(r[0], r[1]): r[2] for r in chart(charts, "sankey").rows}
    assert sankey[("Handed over", "Received by recyclers")] == 1
    assert sankey[("Received by recyclers", "Recycled")] == 1
    capacity = chart(charts, "capacity").rows
    assert capacity == [["粤绿回收", 0.4, 2.0, 20.0]]


def test_a_provincial_reviewer_sees_only_their_provinces(reviewer_gd, scene):
    charts = charts_for(reviewer_gd)
    assert [row[0] for row in chart(charts, "status_by_province").rows] == ["Guangdong"]
    assert chart(charts, "flows").rows[-1][1:8] == [0, 0, 0, 0, 1, 1, 0]
    page = signed_in(reviewer_gd).get("/en/review/oversight/").content.decode()
    assert "爱丽丝" not in page and "鲍勃" not in page


def test_an_enterprise_sees_only_itself(alice, scene):
    charts = charts_for(alice)
    assert [c.id for c in charts] == list(dashboard.CHARTS_ENTERPRISE)
    status = {row[0]: row[1] for row in chart(charts, "status").rows}
    assert status["In stock"] == 2 and status["In transit"] == 1 and status["Recycled (final disposal)"] == 0
    assert chart(charts, "flows").rows[-1][1] == 3  # not Bob's
    response = signed_in(alice).get("/en/oversight/")
    assert response.status_code == 200
    assert "粤绿回收" not in response.content.decode() and "鲍勃" not in response.content.decode()


def test_the_page_has_a_table_and_the_json_with_the_same_numbers(reviewer, scene):
    client = signed_in(reviewer)
    response = client.get("/en/review/oversight/")
    html = response.content.decode()
    payload = response.context["payload"]
    embedded = json.loads(html.split('<script id="dashboard-data" type="application/json">')[1].split("</script>")[0])
    assert embedded["charts"] == payload["charts"]
    assert "<script>" not in html  # no inline script: the CSP forbids it
    flows = next(c for c in payload["charts"] if c["id"] == "flows")
    assert f'<th scope="row">{flows["rows"][-1][0]}</th><td class="num">4</td>' in html
    data = client.get("/en/review/oversight/data.json").json()
    assert data["charts"] == payload["charts"]
    assert data["labels"]["csv"] == "Download CSV"


def test_each_chart_downloads_as_csv_with_its_numbers(reviewer, scene):
    client = signed_in(reviewer)
    for c in charts_for(reviewer):
        response = client.get(f"/en/review/oversight/{c.id}.csv")
        assert response.status_code == 200, c.id
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert rows[0] == [str(h) for h in c.columns]
        assert [[str(v) for v in row] for row in c.rows] == rows[1:]
    assert client.get("/en/review/oversight/nothing.csv").status_code == 404


def test_csv_cells_cannot_start_a_formula(reviewer, scene):
    now = timezone.now()
    evil = EnterpriseFactory(name="=HYPERLINK(\"http://x\")", province="35")
    Discrepancy.objects.create(enterprise=evil, kind="gone_dark", figure="no_event", expected=0, found=1,
                               severity="low", first_seen=now, last_seen=now)
    body = b"".join(signed_in(reviewer).get("/review/oversight/discrepancies_by_enterprise.csv")
                    .streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body


def test_the_enterprise_csv_is_its_own_and_a_reviewer_chart_is_not_there(alice, scene):
    client = signed_in(alice)
    assert client.get("/oversight/capacity.csv").status_code == 404
    body = b"".join(client.get("/en/oversight/flows.csv").streaming_content).decode("utf-8-sig")
    assert body.strip().splitlines()[-1].split(",")[1] == "3"


def test_pages_refuse_the_other_persona(alice, reviewer, anon):
    company = signed_in(alice)
    assert company.get("/review/oversight/").status_code == 403
    assert company.get("/review/oversight/data.json").status_code == 403
    assert signed_in(reviewer).get("/oversight/").status_code == 403
    assert anon.get("/oversight/data.json").status_code == 302


def _discrepancy(enterprise, kind="gone_dark", severity="high", codes=("0PAPE01ABCDEFG6AF0000001",), figure="f"):
    now = timezone.now()
    return Discrepancy.objects.create(enterprise=enterprise, kind=kind, figure=figure, expected=0,
                                      found=len(codes), severity=severity, codes=list(codes), code_count=len(codes),
                                      first_seen=now, last_seen=now)


def test_a_bar_drills_down_to_the_list_and_the_codes(reviewer, alice_co, bob_co, scene):
    code = Battery.objects.filter(holder=alice_co).values_list("code", flat=True).first()
    d = _discrepancy(alice_co, codes=[code])
    _discrepancy(alice_co, kind="stock_balance")
    _discrepancy(bob_co)
    client = signed_in(reviewer)
    c = chart(charts_for(reviewer), "discrepancies_by_enterprise")
    row = next(i for i, r in enumerate(c.rows) if r[0] == alice_co.name)
    col = c.columns.index("Gone dark: no event for too long")
    link = c.links[row][col - 1]
    assert link == f"/en/review/discrepancies/?enterprise={alice_co.pk}&check=gone_dark"
    listed = client.get(link)
    assert list(listed.context["page"].object_list) == [d]
    assert f"/review/discrepancies/{d.pk}/" in listed.content.decode()
    detail = client.get(f"/en/review/discrepancies/{d.pk}/").content.decode()
    assert f'href="/en/batteries/{code}/"' in detail
    assert client.get(f"/batteries/{code}/").status_code == 200


def test_discrepancy_detail_is_scoped(alice, bob, reviewer_gd, alice_co):
    d = _discrepancy(alice_co)
    company = signed_in(alice)
    assert company.get(f"/discrepancies/{d.pk}/").status_code == 200
    assert company.get(f"/review/discrepancies/{d.pk}/").status_code == 403
    assert signed_in(bob).get(f"/discrepancies/{d.pk}/").status_code == 404
    assert signed_in(reviewer_gd).get(f"/review/discrepancies/{d.pk}/").status_code == 404


def test_enterprise_dashboard_lists_its_report_deadlines(alice, alice_co):
    alice_co.created_at = alice_co.approved_at = timezone.now() - dt.timedelta(days=70)
    alice_co.save(update_fields=["created_at", "approved_at"])
    page = signed_in(alice).get("/en/oversight/")
    deadlines = page.context["deadlines"]
    assert deadlines and all(r["state"] in {"missing", "due"} for r in deadlines)
    assert any(r["state"] == "missing" for r in deadlines)
    assert "Not submitted, past due" in page.content.decode()


def test_overdue_reports_count_per_province(reviewer, alice_co):
    alice_co.created_at = alice_co.approved_at = timezone.now() - dt.timedelta(days=70)
    alice_co.save(update_fields=["created_at", "approved_at"])
    rows = chart(charts_for(reviewer), "overdue_reports").rows
    assert rows and rows[0][0] == "Fujian" and rows[0][1] >= 1


def test_overdue_reports_count_from_the_month_of_approval_not_of_registration(reviewer, alice_co):
    # Registered long ago but approved only now: it owed no report for the months it was waiting (as on the
    # deadlines pages).
    alice_co.created_at = timezone.now() - dt.timedelta(days=70)
    alice_co.approved_at = timezone.now()
    alice_co.save(update_fields=["created_at", "approved_at"])
    rows = chart(charts_for(reviewer), "overdue_reports").rows
    assert not any(row[0] == "Fujian" and row[1] for row in rows)


def test_the_dashboards_take_a_fixed_number_of_queries(reviewer, alice, alice_co, scene):
    def count(client, url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries.captured_queries)

    regulator, company = signed_in(reviewer), signed_in(alice)
    few = count(regulator, "/review/oversight/"), count(company, "/oversight/")
    for n in range(5):
        other = EnterpriseFactory(province="35")
        _discrepancy(other)
        LicenceFactory(enterprise=EnterpriseFactory(roles=["recycler"], province="44"))
        _discrepancy(alice_co, kind="stock_balance", severity="low", codes=[f"X{n}"], figure=f"f{n}")
    dashboard_aggregates_refresh()
    assert (count(regulator, "/review/oversight/"), count(company, "/oversight/")) == few


def test_the_dashboards_speak_chinese_by_default_and_english_at_en(reviewer, alice, scene):
    client = signed_in(reviewer)
    zh = client.get("/review/oversight/")
    assert "监管统计看板" in zh.content.decode()
    charts = {c["id"]: c for c in zh.context["payload"]["charts"]}
    assert charts["flows"]["columns"][:2] == ["月份", "生产"] or charts["flows"]["columns"][0] == "月份"
    assert zh.context["payload"]["labels"]["csv"] == "下载 CSV"
    assert "Oversight dashboard" in client.get("/en/review/oversight/").content.decode()
    company = signed_in(alice).get("/oversight/").content.decode()
    assert "本企业统计" in company and "月度报告报送期限" in company


def test_the_enterprise_dashboard_links_to_its_deadlines_page(alice, scene):
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("deadlines:due")
    except NoReverseMatch:
        pytest.skip("apps.deadlines is not installed")
    assert f'href="{url}"' in signed_in(alice).get("/oversight/").content.decode()


def test_the_sankey_skips_stages_an_enterprise_has_no_batteries_in(alice, scene):
    rows = chart(charts_for(alice), "sankey").rows
    assert rows == [["Produced", "Handed over", 2]]  # Alice installs nothing: produced → handed over


def test_the_refresh_task_and_command_record_when_the_figures_were_computed(alice_co):
    from django.core.management import call_command

    from apps.reconciliation.models import AggregateRefresh
    from apps.reconciliation.tasks import dashboard_aggregates_refresh as task

    events(battery(alice_co), ("produced", alice_co))
    assert not FlowMonth.objects.exists()  # the view holds what the last refresh saw
    result = task.apply().get()
    assert result["skipped"] is False and AggregateRefresh.objects.filter(pk=result["refresh"]).exists()
    assert FlowMonth.objects.get(enterprise=alice_co, kind="produced").events == 1
    out = io.StringIO()
    call_command("dashboard_refresh", stdout=out)
    assert "refreshed" in out.getvalue() and AggregateRefresh.objects.count() == 2


def test_a_second_refresh_while_one_runs_is_a_no_op(alice_co):
    import psycopg

    from apps.reconciliation.services import AGGREGATES_LOCK

    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"], dbname=db["NAME"],
                         password=db["PASSWORD"] or None, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", AGGREGATES_LOCK)
        try:
            assert dashboard_aggregates_refresh() is None
        finally:
            other.execute("SELECT pg_advisory_unlock(%s, %s)", AGGREGATES_LOCK)
    assert dashboard_aggregates_refresh() is not None  # once the other one is done, it runs
