"""In a real browser (Playwright driving Debian's chromium, never a downloaded one), as a new reviewer would: open the
oversight dashboard, see every chart drawn with no Content-Security-Policy violation, click the bar of one
enterprise's "gone dark" discrepancies, land on the filtered list, open the discrepancy, and follow a battery code to
the battery's identity card. Skipped when Playwright or chromium is not installed (pip install playwright; the
browser is /usr/bin/chromium or $CHROMIUM)."""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from apps.batteries.models import Battery, BatteryEvent
from apps.reconciliation.models import Discrepancy
from apps.reconciliation.services import dashboard_aggregates_refresh
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium")]


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
            maker=maker, holder=recycler if recycled else maker, status="recycled" if recycled else "in_stock",
            weight_kg=Decimal(350), registered_at=now, updated_at=now)
        kinds = [("produced", maker)] + ([("handed_over", maker), ("received", recycler), ("recycled", recycler)]
                                         if recycled else [])
        BatteryEvent.objects.bulk_create([
            BatteryEvent(battery=b, seq=i + 1, kind=k, actor=a, occurred_at=now - dt.timedelta(days=20 * n),
                         recorded_at=now, prev_hash="0" * 64, hash=f"{n:032d}{i:032d}")
            for i, (k, a) in enumerate(kinds)])
        codes.append(b.code)
    Discrepancy.objects.create(enterprise=maker, kind="stock_balance", figure="in_stock", expected=3, found=4,
                               severity="medium", first_seen=now, last_seen=now)
    gone = Discrepancy.objects.create(enterprise=maker, kind="gone_dark", figure="no_event", expected=0, found=2,
                                      severity="high", codes=codes[:2], code_count=2, first_seen=now, last_seen=now)
    dashboard_aggregates_refresh()
    return maker, gone, codes


def test_a_reviewer_drills_from_a_bar_down_to_the_battery(live_server, reviewer, alice):
    maker, gone, codes = _scene()
    problems = []
    # Sessions first: the ORM refuses to run inside Playwright's event loop.
    sessions = [(signed_in(user).cookies["sessionid"].value, url)
                for user, url in ((alice, "/en/oversight/"), (reviewer, "/en/review/oversight/"))]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for session, url in sessions:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "favicon" not in m.text
                    and "404" not in m.text else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                                 "console.error('CSP ' + e.violatedDirective + ' ' + e.sourceFile))")
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            undrawn = page.eval_on_selector_all("[data-chart]", "els => els.filter(e => !e.dataset.drawn && "
                                                "!e.classList.contains('chart-empty')).map(e => e.dataset.chart)")
            assert undrawn == []
        box = page.locator('[data-chart="discrepancies_by_enterprise"]')
        box.scroll_into_view_if_needed()
        x, y = box.evaluate("""el => {
            const chart = echarts.getInstanceByDom(el), option = chart.getOption();
            const s = option.series.findIndex(x => x.name.startsWith('Gone dark'));
            let end = 0; for (let i = 0; i <= s; i++) end += option.series[i].data[0];
            const a = chart.convertToPixel({seriesIndex: s}, [end - option.series[s].data[0], 0]);
            const b = chart.convertToPixel({seriesIndex: s}, [end, 0]);
            const r = el.getBoundingClientRect();
            return [r.x + (a[0] + b[0]) / 2, r.y + b[1]]; }""")
        with page.expect_navigation():
            page.mouse.click(x, y)
        assert page.url.endswith(f"/en/review/discrepancies/?enterprise={maker.pk}&check=gone_dark")
        page.locator(f"a[href='/en/review/discrepancies/{gone.pk}/']").click()
        page.wait_for_load_state()
        assert page.locator(".codes-list a").all_inner_texts() == codes[:2]
        page.locator(".codes-list a").first.click()
        page.wait_for_load_state()
        assert codes[0] in page.locator("h1").inner_text()
        browser.close()
    assert problems == []
