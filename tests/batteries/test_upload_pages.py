"""Bulk uploads: the upload form, the same file recognised, one import's page with its htmx progress fragment,
errors and error file — all for the uploading enterprise only."""
from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.batteries.models import BulkImport
from tests.batteries.conftest import make_code
from tests.conftest import signed_in
from tests.web import assert_redirects_to_login, body, field_errors, page_text, redirect_path

pytestmark = pytest.mark.django_db

UPLOADS = "/batteries/uploads/"


def csv_file(rows: int = 2, name: str = "batch.csv") -> SimpleUploadedFile:
    lines = ["电池编码,额定容量(kWh)"] + [f"{make_code()},75.5" for _ in range(rows)]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def an_import(user, **fields) -> BulkImport:
    data = {"enterprise": user.enterprise, "created_by": user, "kind": "register", "file": "imports/x.upload",
            "original_name": "batch.csv", "size": 1000, "sha256": f"{BulkImport.objects.count():064d}"}
    data.update(fields)
    return BulkImport.objects.create(**data)


def detail(record, suffix="") -> str:
    return f"{UPLOADS}{record.pk}/{suffix}"


def test_uploading_a_file_queues_an_import_and_shows_it(maker):
    client = signed_in(maker)
    response = client.post(UPLOADS, {"kind": "register", "file": csv_file()})
    record = BulkImport.objects.get()
    assert redirect_path(response) == detail(record)
    assert (record.enterprise, record.created_by, record.kind, record.status) == (maker.enterprise, maker, "register",
                                                                                  "queued")
    listing = client.get("/en" + UPLOADS)
    assert [r.pk for r in listing.context["page"].object_list] == [record.pk]
    assert "batch.csv" in page_text(listing) and "Queued" in page_text(listing)


def test_the_same_file_again_names_the_earlier_import_with_a_link(maker):
    client = signed_in(maker)
    upload = csv_file()
    content = upload.read()
    client.post(UPLOADS, {"kind": "register", "file": SimpleUploadedFile("a.csv", content)})
    first = BulkImport.objects.get()
    response = client.post("/en" + UPLOADS, {"kind": "register", "file": SimpleUploadedFile("again.csv", content)})
    assert response.status_code == 200
    assert BulkImport.objects.count() == 1
    assert any(f"#{first.pk}" in e for e in field_errors(response, "file"))
    assert f'href="/en/batteries/uploads/{first.pk}/"' in body(response)
    assert f"Open import #{first.pk}" in page_text(response)


def test_a_file_of_the_wrong_type_is_refused_on_the_file_field(maker):
    response = signed_in(maker).post("/en" + UPLOADS, {"kind": "register",
                                                       "file": SimpleUploadedFile("batch.pdf", b"%PDF-1.4")})
    assert any(".xlsx" in e for e in field_errors(response, "file"))
    assert not BulkImport.objects.exists()


def test_the_kind_must_suit_the_enterprises_roles(carmaker):
    response = signed_in(carmaker).post("/en" + UPLOADS, {"kind": "register", "file": csv_file()})
    assert response.status_code == 200
    assert "do not allow" in page_text(response)
    assert not BulkImport.objects.exists()


def test_the_upload_form_accepts_csv_and_xlsx(maker):
    html = body(signed_in(maker).get(UPLOADS))
    assert 'accept=".csv,.xlsx"' in html and 'enctype="multipart/form-data"' in html
    for kind in ("register", "install", "hand_over"):
        assert f'href="/batteries/uploads/template/{kind}.csv"' in html


def test_an_unfinished_import_polls_its_progress_every_second(maker):
    record = an_import(maker, status="validating", bytes_read=500, total_rows=40_000, error_count=3)
    response = signed_in(maker).get("/en" + detail(record))
    html = body(response)
    assert f'hx-get="/en/batteries/uploads/{record.pk}/progress/"' in html
    assert 'hx-trigger="every 1s"' in html
    assert '<progress max="100" value="45"' in html
    assert "Checking rows" in page_text(response) and "40000" in page_text(response)


def test_the_progress_fragment_is_just_the_fragment_and_stops_polling_when_finished(maker):
    record = an_import(maker, status="applying", total_rows=10)
    client = signed_in(maker)
    running = client.get(detail(record, "progress/"), HTTP_HX_REQUEST="true")
    assert running.status_code == 200
    html = body(running)
    assert html.lstrip().startswith('<div id="import-progress"') and "<html" not in html
    assert 'hx-trigger="every 1s"' in html and "HX-Refresh" not in running

    BulkImport.objects.filter(pk=record.pk).update(status="succeeded", applied_rows=10)
    finished = client.get(detail(record, "progress/"), HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in body(finished) and "hx-get" not in body(finished)
    assert '<progress max="100" value="100"' in body(finished)
    assert finished["HX-Refresh"] == "true"  # the page reloads once, to show the result and the errors


def test_a_failed_import_lists_its_errors_and_offers_the_error_file(maker):
    errors = [{"row": i + 2, "column": "code", "code": "battery_code_invalid", "message": f"坏编码 {i}"}
              for i in range(1000)]
    record = an_import(maker, status="failed", total_rows=5000, error_count=2500, errors=errors)
    record.errors_file.save("errors.csv", ContentFile("row,column,value,code,message\n2,code,X,battery_code_invalid,坏\n"
                                                      .encode("utf-8-sig")))
    client = signed_in(maker)
    response = client.get("/en" + detail(record))
    text = page_text(response)
    assert "hx-trigger" not in body(response)
    assert "Failed — nothing was changed" in text
    assert len(re.findall(r"<td><code>battery_code_invalid</code></td>", body(response))) == 1000
    assert "坏编码 999" in text and "2500 errors" in text
    assert f'href="/en/batteries/uploads/{record.pk}/errors/"' in body(response)

    download = client.get(detail(record, "errors/"))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert "battery_code_invalid" in b"".join(download.streaming_content).decode("utf-8-sig")


def test_a_succeeded_import_without_errors_says_so(maker):
    record = an_import(maker, status="succeeded", total_rows=2, applied_rows=2)
    text = page_text(signed_in(maker).get("/en" + detail(record)))
    assert "All rows were applied" in text and "No errors" in text


def test_no_error_file_is_a_404(maker):
    record = an_import(maker, status="succeeded")
    assert signed_in(maker).get(detail(record, "errors/")).status_code == 404


def test_csv_templates_per_kind(maker):
    client = signed_in(maker)
    response = client.get("/batteries/uploads/template/install.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff") and "车辆识别代号" in text.splitlines()[0]
    assert client.get("/batteries/uploads/template/nonsense.csv").status_code == 404


def test_another_enterprises_import_is_not_found(maker, carmaker):
    record = an_import(maker, status="failed", errors=[{"row": 2, "column": "code", "code": "x", "message": "秘密"}])
    record.errors_file.save("errors.csv", ContentFile(b"secret"))
    client = signed_in(carmaker)
    for suffix in ("", "progress/", "errors/"):
        assert client.get(detail(record, suffix)).status_code == 404, suffix
    listing = client.get(UPLOADS)
    assert list(listing.context["page"].object_list) == []
    assert "batch.csv" not in body(listing)


def test_uploads_are_for_company_staff(maker, reviewer, anon):
    record = an_import(maker)
    assert_redirects_to_login(anon.get(UPLOADS))
    assert_redirects_to_login(anon.get(detail(record, "progress/")))
    client = signed_in(reviewer)
    assert client.get(UPLOADS).status_code == 403
    assert client.get(detail(record)).status_code == 403


def test_the_upload_list_queries_do_not_grow_with_the_rows(maker, django_assert_max_num_queries):
    an_import(maker)
    client = signed_in(maker)
    with django_assert_max_num_queries(12) as few:
        client.get(UPLOADS)
    for i in range(30):
        an_import(maker, original_name=f"b{i}.csv")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(UPLOADS)
    assert len(response.context["page"].object_list) == 25
