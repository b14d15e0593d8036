"""Hostile bulk files through every upload entry point that reads sheets: the battery import (registration file,
API and page) and the scrapping intake file. Each file is either read correctly (other encodings) or refused with
the row, the column and the rule; a refused file changes nothing but the record of the upload itself, its error
file neutralises formulas, and nothing of it is rendered unescaped."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.batteries.models import Battery, BulkImport
from tests.conftest import signed_in
from tests.hostile.corpus import RAW_MARKERS
from tests.hostile.files import registration_cases, xlsx_cases

pytestmark = pytest.mark.django_db
API = "/api/v1"
CASES = registration_cases()


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _matches(errors: list[dict], row, column, fragments) -> bool:
    for e in errors:
        if row is not None and e.get("row") != row:
            continue
        if column is not None and not str(e.get("column") or "").startswith(column):
            continue
        if any(f in str(e.get("message")) for f in fragments):
            return True
    return False


@pytest.mark.parametrize("case,name,content,expect", CASES, ids=[c[0] for c in CASES])
def test_registration_file(maker, unchanged, django_capture_on_commit_callbacks, settings, case, name, content,
                           expect):
    settings.LANGUAGE_CODE = "en"  # the job writes its messages in the portal's default language
    client = _api(maker)
    before = Battery.objects.count()
    # the upload is recorded and its job queued (outbox); the job refuses the file
    guard = unchanged(allow=("batteries_bulkimport", "core_outboxmessage")) if expect[0] == "fail" else None
    if guard:
        guard.__enter__()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{API}/imports/", {"kind": "register", "file": SimpleUploadedFile(name, content)},
                               format="multipart")
    assert response.status_code == 202, response.content[:500]
    detail = client.get(f"{API}/imports/{response.json()['id']}/").json()
    if expect[0] == "ok":
        assert detail["status"] == "succeeded", detail
        assert Battery.objects.count() - before == expect[1] == detail["applied_rows"]
        return
    guard.__exit__(None, None, None)
    _, row, column, fragments = expect
    assert detail["status"] == "failed", detail
    assert detail["error_count"] >= 1 and detail["message"]
    assert _matches(detail["first_errors"], row, column, fragments), (row, column, fragments, detail["first_errors"])
    record = BulkImport.objects.get(pk=detail["id"])
    if record.errors_file:
        # Every cell of the error file is safe to open in a spreadsheet: no cell starts a formula.
        rows = list(csv.reader(io.StringIO(record.errors_file.read().decode("utf-8-sig"))))
        assert rows[0] == ["row", "column", "value", "code", "message"]
        for r in rows[1:]:
            assert not r[2].startswith(("=", "+", "-", "@", "\t", "\r")), r
            assert "\x00" not in "".join(r)
    page = signed_in(maker).get(f"/batteries/uploads/{record.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for marker in RAW_MARKERS:
        assert marker not in html, marker


# The file-level cases: the intake file has other columns, so cases about a battery file's rows do not apply.
INTAKE_CASES = [c for c in xlsx_cases() if c[3][0] == "fail" and c[3][2] in (None, "XFD", "CZ", "GR")
                and c[0] != "xlsx-header-only"] + [
    c for c in CASES if c[0] in {"invalid-byte-ff", "nul-file", "bom-only", "utf16le-no-bom", "big5-header",
                                 "pdf-named-csv", "exe-named-csv", "gzip-named-csv", "header-10000-chars",
                                 "semicolon-delimited", "whitespace-only"}]


@pytest.mark.parametrize("case,name,content,expect", INTAKE_CASES, ids=[c[0] for c in INTAKE_CASES])
def test_scrapping_intake_file(dismantler, unchanged, case, name, content, expect):
    client = _api(dismantler)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with unchanged(allow=("scrapping_intakefile",)):
        response = client.post(f"{API}/scrapping/intakes/file/", {"file": SimpleUploadedFile(name, content)},
                               format="multipart")
    assert response.status_code == 400, response.content[:500]
    body = response.json()
    _, row, column, fragments = expect
    errors = body.get("errors") or [{"row": None, "column": None, "message": body["message"]}]
    column = None if column in ("code",) else column  # the intake file's columns have other names
    assert _matches(errors, row, column, fragments) or _matches(errors, None, None, fragments), (expect, body)


def test_oversized_registration_file_is_refused_before_it_is_stored(maker, unchanged, settings):
    settings.BULK_IMPORT_MAX_BYTES = 1024
    client = _api(maker)
    with unchanged():
        response = client.post(f"{API}/imports/", {"kind": "register",
                                                  "file": SimpleUploadedFile("big.csv", b"code\n" + b"A" * 2000)},
                               format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "file_too_large"
    assert "MB" in response.json()["message"]


def test_oversized_intake_file_is_refused(dismantler, unchanged):
    from apps.scrapping.intake_file import INTAKE_FILE_MAX_BYTES

    client = _api(dismantler)
    with unchanged():
        response = client.post(f"{API}/scrapping/intakes/file/",
                               {"file": SimpleUploadedFile("big.csv", b"vin\n" + b"A" * INTAKE_FILE_MAX_BYTES)},
                               format="multipart")
    assert response.status_code == 400, response.content[:300]
    assert "10" in response.json()["message"]
