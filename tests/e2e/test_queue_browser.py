"""The reviewer queue in a browser: badges, a bulk assignment with the username suggested as one types (htmx), the
confirmation page, the per-filing results, the side-by-side review page and the CSV export — with no CSP violation."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.filings.models import Filing
from tests.conftest import totp_device
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reviewer_assigns_two_filings_in_bulk_and_reads_one_beside_the_ledger(journey, alice, reviewer, lang):
    from apps.filings import services

    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    report = services.monthly_report_create(actor=alice, month=month, counts={"produced": 3})
    services.filing_submit(actor=alice, filing_id=report.pk)  # differs from the (empty) ledger: flagged
    other = Filing.objects.create(kind="explanation", enterprise=report.enterprise, province="35",
                                  status="submitted", submitted_at=timezone.now(),
                                  first_submitted_at=timezone.now())
    UserFactory(username="fj_colleague", kind="reviewer", reviewer_provinces=["35"], password="x")

    j = journey("queue", lang)
    j.sign_in(reviewer, device=totp_device(reviewer))
    j.goto("/review/filings/")
    assert j.t("申报数量与台账不符", "Counts differ from the ledger") in j.text()
    j.shot("queue")
    for pk in (report.pk, other.pk):
        j.page.check(f"input[name=ids][value='{pk}']")
    j.page.select_option("#id_action", "assign")
    j.page.fill("#id_reviewer", "colle")
    j.page.locator("#reviewer-options option").first.wait_for(state="attached")  # htmx filled the datalist
    assert j.page.locator("#reviewer-options option").first.get_attribute("value") == "fj_colleague"
    j.page.fill("#id_reviewer", "fj_colleague")
    j.submit(j.page.locator("#bulk-form"))
    assert j.t("确认批量操作", "Confirm the bulk action") in j.text()
    assert Filing.objects.get(pk=report.pk).assigned_to is None  # nothing before the confirmation
    j.shot("confirm")
    j.submit()
    assert j.t("成功 2 份，失败 0 份。", "2 done, 0 failed.") in j.text()
    assert set(Filing.objects.filter(pk__in=[report.pk, other.pk]).values_list("assigned_to__username", flat=True)) \
        == {"fj_colleague"}
    j.shot("results")

    j.goto(f"/review/filings/{report.pk}/")
    left = j.page.locator(".review-columns .review-filing").bounding_box()
    right = j.page.locator(".review-columns .review-ledger").bounding_box()
    assert left["x"] < right["x"] and abs(left["y"] - right["y"]) < 5  # side by side
    j.shot("side-by-side")

    j.goto("/review/filings/?kind=monthly_report")
    with j.page.expect_download() as download:
        j.page.locator(".export-links a").first.click()
    content = open(download.value.path(), "rb").read()
    assert content.startswith(b"\xef\xbb\xbf") and str(report.pk).encode() in content
    assert str(other.pk).encode() + b"," not in content.split(b"\n", 1)[1]  # the kind filter held
