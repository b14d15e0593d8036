"""Monthly pack-count reports by file (CSV in UTF-8 or GBK, XLSX): each row creates its month's report or corrects
the live one through the same services as the form and the API; any bad row refuses the whole file, every
problem listed by row, column and rule, nothing saved."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.filings import services as filing_services
from apps.filings.models import Filing, MonthlyReport
from apps.filings.report_file import ReportFileRejected, monthly_report_file_apply
from tests.web import page_text
from tests.xlsx import xlsx_bytes

pytestmark = pytest.mark.django_db
D = dt.date
API = "/api/v1"
EN = ["month", "produced", "installed", "swapped_in", "swapped_out", "replaced", "removed", "handed_over", "received",
      "recycled", "remanufactured", "in_stock"]
ZH = ["月份", "生产", "装车", "换入", "换出", "维修更换", "拆解拆卸", "移交", "接收", "再生利用", "再制造", "月末库存"]


def csv_file(rows, header=EN, encoding="utf-8", name="reports.csv") -> SimpleUploadedFile:
    text = "\n".join(",".join(str(v) for v in row) for row in [header, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def row(month, produced=10, **counts):
    values = {"produced": produced, **counts}
    return [month] + [values.get(name, 0) for name in EN[1:]]


def future_month() -> str:
    today = timezone.localdate()
    return f"{today.year + (today.month == 12)}-{today.month % 12 + 1:02d}"


def apply(alice, upload):
    return monthly_report_file_apply(actor=alice, upload=upload)


def test_a_good_csv_creates_one_draft_per_month(alice):
    results = apply(alice, csv_file([row("2026-08", 120, installed=80), row("2026-09", 90, in_stock=5)]))
    assert [(r["month"], r["action"]) for r in results] == [(D(2026, 8, 1), "created"), (D(2026, 9, 1), "created")]
    report = MonthlyReport.objects.get(filing__period=D(2026, 8, 1))
    assert (report.produced, report.installed, report.filing.status) == (120, 80, "draft")


def test_a_second_report_for_a_month_corrects_the_first_never_a_duplicate(alice, reviewer):
    apply(alice, csv_file([row("2026-08", 120)]))
    results = apply(alice, csv_file([row("2026-08", 121)]))
    assert results[0]["action"] == "corrected"
    assert Filing.objects.filter(period=D(2026, 8, 1)).count() == 1
    assert MonthlyReport.objects.get().produced == 121
    # Returned for correction: the file corrects it in place too.
    filing = Filing.objects.get()
    filing_services.filing_submit(actor=alice, filing_id=filing.pk)
    filing_services.filing_claim(actor=reviewer, filing_id=filing.pk)
    filing_services.filing_return(actor=reviewer, filing_id=filing.pk, comment="请核对")
    assert apply(alice, csv_file([row("2026-08", 122)]))[0]["action"] == "corrected"
    assert MonthlyReport.objects.get().produced == 122 and Filing.objects.count() == 1


def test_gbk_csv_with_chinese_headers(alice):
    results = apply(alice, csv_file([row("2026年7月", 7)], header=ZH, encoding="gbk"))
    assert results[0]["month"] == D(2026, 7, 1)
    assert MonthlyReport.objects.get().produced == 7


def test_xlsx_with_numbers_and_a_date_cell(alice):
    content = xlsx_bytes([ZH, ["2026-06", 12, 3, 0, 0, 0, 0, 0, 0, 0, 0, 4.0]])
    results = apply(alice, SimpleUploadedFile("r.xlsx", content))
    assert results[0]["month"] == D(2026, 6, 1)
    assert MonthlyReport.objects.get().in_stock == 4


def _refused(alice, upload) -> list[tuple]:
    with pytest.raises(ReportFileRejected) as exc:
        apply(alice, upload)
    return [(e.row, e.column, e.rule) for e in exc.value.errors]


def test_every_bad_row_is_listed_and_nothing_is_saved(alice):
    upload = csv_file([
        row("2026-08", -1),  # row 2: negative
        row("2026-09", "2.5"),  # row 3: not whole
        row(future_month()),  # row 4: future month
        row("2026-08"),  # row 5: duplicate month in the file
        row("2026-13"),  # row 6: not a month
        row("2026-10", "abc"),  # row 7: not a number
    ])
    errors = _refused(alice, upload)
    assert errors == [(2, "produced", "negative"), (3, "produced", "not_whole"), (4, "month", "month_in_future"),
                      (5, "month", "month_duplicate"), (6, "month", "month_invalid"), (7, "produced", "not_whole")]
    assert not Filing.objects.exists()


def test_an_approved_month_refuses_the_file_and_the_good_rows_are_not_saved(alice, reviewer):
    filing = filing_services.monthly_report_create(actor=alice, month=D(2026, 5, 1), counts={"produced": 1})
    filing_services.filing_submit(actor=alice, filing_id=filing.pk)
    filing_services.filing_claim(actor=reviewer, filing_id=filing.pk)
    filing_services.filing_approve(actor=reviewer, filing_id=filing.pk)
    errors = _refused(alice, csv_file([row("2026-04"), row("2026-05", 9)]))
    assert errors == [(3, "month", "month_approved")]
    assert not Filing.objects.filter(period=D(2026, 4, 1)).exists()
    assert MonthlyReport.objects.get(filing=filing).produced == 1


def test_a_month_under_review_is_refused(alice):
    filing = filing_services.monthly_report_create(actor=alice, month=D(2026, 5, 1), counts={})
    filing_services.filing_submit(actor=alice, filing_id=filing.pk)
    assert _refused(alice, csv_file([row("2026-05")])) == [(2, "month", "month_under_review")]


def test_an_unknown_column_refuses_the_file(alice):
    errors = _refused(alice, csv_file([row("2026-08") + [1]], header=EN + ["bonus"]))
    assert errors == [(1, "bonus", "file")]


def test_a_missing_count_column_and_an_empty_file_are_refused(alice):
    assert _refused(alice, csv_file([["2026-08", 1]], header=["month", "produced"]))[0][2] == "file"
    assert _refused(alice, csv_file([]))[0][2] == "file"


def test_the_upload_page(alice, client_for):
    client = client_for(alice)
    assert client.get("/filings/monthly-reports/upload/").status_code == 200
    response = client.post("/filings/monthly-reports/upload/", {"file": csv_file([row("2026-08", -5)])})
    text = page_text(response)
    assert response.status_code == 200 and "-5" in text and not Filing.objects.exists()
    response = client.post("/filings/monthly-reports/upload/", {"file": csv_file([row("2026-08", 5)])})
    assert response.status_code == 200 and Filing.objects.count() == 1


def test_the_api(alice, reviewer, bob, api_for):
    api = api_for(alice)
    bad = api.post(f"{API}/filings/monthly-reports/file/", {"file": csv_file([row("2026-08", -5), row("2026-13")])},
                   format="multipart")
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "report_file_invalid" and [(e["row"], e["rule"]) for e in body["errors"]] == [
        (2, "negative"), (3, "month_invalid")]
    good = api.post(f"{API}/filings/monthly-reports/file/", {"file": csv_file([row("2026-08", 5)])},
                    format="multipart")
    assert good.status_code == 201 and good.json()["results"][0]["action"] == "created"
    refused = api_for(reviewer).post(f"{API}/filings/monthly-reports/file/", {"file": csv_file([row("2026-08")])},
                                     format="multipart")
    assert refused.status_code == 403
    # Bob's file makes Bob's report, never touches Alice's.
    api_for(bob).post(f"{API}/filings/monthly-reports/file/", {"file": csv_file([row("2026-08", 7)])},
                      format="multipart")
    assert MonthlyReport.objects.get(filing__enterprise__name="爱丽丝动力电池有限公司").produced == 5
