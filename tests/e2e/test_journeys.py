"""The portal's main journeys in a real browser (see conftest.py): each in Chinese, the default language, and some
also in English at /en/. Set-ups go through services and factories; the decisive steps through the pages."""
from __future__ import annotations

import pytest

from apps.batteries.models import Battery, BulkImport
from tests.batteries.conftest import make_code
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_battery_maker_uploads_a_gbk_csv_and_watches_it_finish(journey, celery_worker, maker, lang):
    codes = [make_code() for _ in range(3)]
    rows = ["电池编码,额定容量kWh,重量kg"] + [f"{code},75.5,420" for code in codes]
    j = journey("upload", lang)
    csv_path = j.folder / "codes-gbk.csv"
    csv_path.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    j.sign_in(maker)
    j.goto("/batteries/uploads/")
    j.page.select_option("select[name=kind]", "register")
    j.page.set_input_files("input[name=file]", str(csv_path))
    j.shot("file-chosen")
    j.submit()
    assert "/batteries/uploads/" in j.page.url and j.page.locator("#import-progress").count() == 1
    j.shot("queued")
    # The page polls its progress fragment every second (htmx); when the worker is done, it reloads itself.
    record = BulkImport.objects.get()
    wait_until(lambda: BulkImport.objects.get(pk=record.pk).is_finished, "the import", worker=celery_worker)
    j.page.locator("#import-progress .ok").wait_for()
    j.page.wait_for_load_state("networkidle")
    j.check()
    assert j.page.locator("#import-progress progress").get_attribute("value") == "100"
    assert j.t("所有数据行均已生效", "All rows were applied.") in j.text("#import-progress")
    j.shot("finished")
    record.refresh_from_db()
    assert (record.status, record.applied_rows, record.error_count) == ("succeeded", 3, 0)
    j.goto("/batteries/")
    listed = j.text()
    assert all(code in listed for code in codes)
    j.shot("batteries-listed")
    assert set(Battery.objects.values_list("code", flat=True)) == set(codes)
