"""Journey of a reviewer with two-factor authentication (TOTP, the code computed from the device's key as an
authenticator app would): sign in, claim a filing from the queue and return it with a comment; then open the
oversight dashboard, see every chart drawn with no Content-Security-Policy violation, click the bar of
one enterprise's "gone dark" discrepancies, land on the filtered list, open the discrepancy and follow a
battery code to the battery's identity card. The enterprise's own dashboard draws without a CSP violation
too."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.batteries.models import Battery, BatteryEvent
from apps.filings import recovery_services
from apps.filings import services as filing_services
from apps.filings.models import Filing
from apps.reconciliation.models import Discrepancy
from apps.reconciliation.services import dashboard_aggregates_refresh
from tests.conftest import totp_device
from tests.factories import EnterpriseFactory, LicenceFactory
from tests.filings.recovery_setup import INPUTS, LOW_OUTPUTS, last_month

# serialized_rollback: the test database keeps a copy of the rows the migrations seed (composition table,
# deadlines); the `journey` fixture puts them back, whatever transactional test flushed them before.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _scene():
    maker = EnterpriseFactory(name="浙江示范电池", province="33")
    recycler = EnterpriseFactory(name="广东示范回收", province="44", roles=["recycler"])
    LicenceFactory(enterprise=recycler, valid_from=dt.date(2020, 1, 1))
    now = timezone.now()
    codes = []
    for n in range(1, 9):
        recycled = n % 2 == 0
        b = Battery.objects.create(
            code=f"0PAPE01ABCDEFG6AF{n:07d}", manufacturer_code="0PA", product_type="P", chemistry="E",
            spec_code="01", trace_code="ABCDEFG", production_date=dt.date(2026, 3, 15), serial=f"{n:07d}",
            maker=maker, holder=recycler if recycled else maker,
            status="recycled" if recycled else "in_stock",
            weight_kg=Decimal("350"), registered_at=now, updated_at=now)
        kinds = [("produced", maker)] + (
            [("handed_over", maker), ("received", recycler), ("recycled", recycler)] if recycled else [])
        BatteryEvent.objects.bulk_create([
            BatteryEvent(battery=b, seq=i + 1, kind=k, actor=a, occurred_at=now - dt.timedelta(days=20 * n),
                         recorded_at=now, prev_hash="0" * 64, hash=f"{n:032d}{i:032d}")
            for i, (k, a) in enumerate(kinds)])
        codes.append(b.code)
    Discrepancy.objects.create(enterprise=maker, kind="stock_balance", figure="in_stock", expected=3, found=4,
                               severity="medium", first_seen=now, last_seen=now)
    gone = Discrepancy.objects.create(enterprise=maker, kind="gone_dark", figure="no_event", expected=0,
                                      found=2, severity="high", codes=codes[:2], code_count=2, first_seen=now,
                                      last_seen=now)
    dashboard_aggregates_refresh()
    return maker, gone, codes


def _charts_drawn(j) -> None:
    undrawn = j.page.eval_on_selector_all("[data-chart]", "els => els.filter(e => !e.dataset.drawn && "
                                          "!e.classList.contains('chart-empty')).map(e => e.dataset.chart)")
    assert undrawn == []
    assert j.page.locator("[data-chart]").count() > 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reviewer_with_2fa_works_the_queue_and_drills_from_a_bar_down_to_the_battery(
        journey, recycler, reviewer, alice, lang):
    maker, gone, codes = _scene()
    filing = recovery_services.recovery_report_create(actor=recycler, month=last_month(), inputs=INPUTS,
                                                      outputs=LOW_OUTPUTS)
    filing_services.filing_submit(actor=recycler, filing_id=filing.pk)
    device = totp_device(reviewer)

    j = journey("reviewer", lang)
    j.sign_in(reviewer, device=device)
    j.goto("/review/filings/")
    row = j.page.locator("tr", has=j.page.locator(f"form[action$='/review/filings/{filing.pk}/claim/']"))
    assert recycler.enterprise.name in row.inner_text()
    j.shot("queue")
    j.submit(row.locator("form"))
    assert Filing.objects.get(pk=filing.pk).status == "in_review"
    if f"/review/filings/{filing.pk}/" not in j.page.url:
        j.goto(f"/review/filings/{filing.pk}/")
    assert "97.37 %" in j.text()
    j.page.check("input[name=decision][value=return]")
    j.page.fill("textarea[name=comment]", "镍回收率不足98%，请核对产出重量。")
    j.page.check("input[name=confirm]")
    j.shot("return-with-comment")
    j.submit(j.page.locator("form", has=j.page.locator("input[name=decision]")))
    filing.refresh_from_db()
    assert filing.status == "returned"
    assert "镍回收率不足98%，请核对产出重量。" in j.text()
    j.shot("returned")

    j.goto("/review/oversight/")
    _charts_drawn(j)
    j.shot("dashboard")
    box = j.page.locator('[data-chart="discrepancies_by_enterprise"]')
    box.scroll_into_view_if_needed()
    x, y = box.evaluate("""(el, [label, enterprise]) => {
        const chart = echarts.getInstanceByDom(el), option = chart.getOption();
        const row = option.yAxis[0].data.indexOf(enterprise);
        const s = option.series.findIndex(x => x.name.startsWith(label));
        let end = 0; for (let i = 0; i <= s; i++) end += option.series[i].data[row];
        const a = chart.convertToPixel({seriesIndex: s}, [end - option.series[s].data[row], row]);
        const b = chart.convertToPixel({seriesIndex: s}, [end, row]);
        const r = el.getBoundingClientRect();
        return [r.x + (a[0] + b[0]) / 2, r.y + b[1]]; }""", [j.t("失联电池", "Gone dark"), maker.name])
    with j.page.expect_navigation():
        j.page.mouse.click(x, y)
    assert j.page.url.endswith(f"{j.prefix}/review/discrepancies/?enterprise={maker.pk}&check=gone_dark")
    j.shot("discrepancies-of-the-bar")
    with j.page.expect_navigation():
        j.page.locator(f"a[href='{j.prefix}/review/discrepancies/{gone.pk}/']").click()
    assert j.page.locator(".codes-list a").all_inner_texts() == codes[:2]
    j.shot("discrepancy")
    with j.page.expect_navigation():
        j.page.locator(".codes-list a").first.click()
    assert codes[0] in j.text("h1")
    j.shot("battery")

    enterprise = journey("enterprise-dashboard", lang)
    enterprise.sign_in(alice)
    enterprise.goto("/oversight/")
    _charts_drawn(enterprise)
    enterprise.shot("dashboard")
