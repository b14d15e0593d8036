"""Hostile files on every upload that is not a sheet — comment attachments (PDF/JPEG/PNG), business licences
(PDF), intake photos (JPEG/PNG) — and the sheet uploads added since (monthly reports by file): judged by content,
never by name or declared type; a refusal names the rule and changes nothing."""
from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.filings import services as filing_services
from tests.filings.conftest import COUNTS, last_month
from tests.hostile.corpus import JPEG, PDF, PNG, zip_bomb
from tests.hostile.files import xlsx_cases
from tests.xlsx import xlsx_bytes

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    return buffer.getvalue()


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
# name → (file name, content). Every one of them is neither a real PDF nor a real JPEG/PNG.
NOT_DOCUMENTS = {
    "html-named-pdf": ("licence.pdf", HTML),
    "html-then-pdf-magic": ("licence.pdf", HTML + b"\n%PDF-1.4\n%%EOF\n"),
    "svg-named-png": ("photo.png", SVG),
    "exe-named-pdf": ("licence.pdf", b"MZ\x90\x00" + b"\x00" * 200),
    "zip-named-pdf": ("licence.pdf", _zip()),
    "xlsx-named-jpg": ("photo.jpg", xlsx_bytes([["a"], ["b"]])),
    "zip-bomb-named-pdf": ("licence.pdf", zip_bomb()),
    "empty": ("licence.pdf", b""),
    "text": ("notes.txt", "说明：电池完好".encode()),
    "gif": ("photo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
    "nul-bytes": ("licence.pdf", b"\x00" * 512),
    "pdf-magic-late": ("licence.pdf", b" " * 2000 + PDF),
}
IMAGE_ONLY = {  # valid for documents, not for photos
    "pdf-named-jpg": ("photo.jpg", PDF),
    "jpeg-header-only": ("photo.jpg", JPEG[:4]),
    "png-truncated": ("photo.png", PNG[:30]),
}


@pytest.fixture
def filing(alice):
    return filing_services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)


@pytest.mark.parametrize("case", list(NOT_DOCUMENTS), ids=list(NOT_DOCUMENTS))
def test_comment_attachment_is_judged_by_content(alice, filing, unchanged, case):
    name, content = NOT_DOCUMENTS[case]
    with unchanged():
        response = _api(alice).post(f"{API}/filings/{filing.pk}/comments/",
                                    {"body": "见附件", "attachment": SimpleUploadedFile(name, content)},
                                    format="multipart")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["field"] == "attachment", body
    assert body["code"] in {"attachment_invalid", "empty", "invalid"}, body
    assert body["message"]


def test_comment_attachment_over_the_limit(alice, filing, unchanged, settings):
    settings.FILINGS_ATTACHMENT_MAX_BYTES = 1024
    with unchanged():
        response = _api(alice).post(f"{API}/filings/{filing.pk}/comments/",
                                    {"body": "见附件", "attachment": SimpleUploadedFile("a.pdf", PDF + b"0" * 2048)},
                                    format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "file_too_large", response.content
    assert "MB" in response.json()["message"]


def test_comment_attachment_named_with_markup_or_a_path_is_refused_or_stored_safely(alice, filing, client_for):
    response = _api(alice).post(f"{API}/filings/{filing.pk}/comments/",
                                {"body": "见附件", "attachment": SimpleUploadedFile('"><img src=x onerror=1>.pdf', PDF)},
                                format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "markup_not_allowed", response.content
    response = _api(alice).post(f"{API}/filings/{filing.pk}/comments/",
                                {"body": "见附件", "attachment": SimpleUploadedFile("../../../etc/passwd.pdf", PDF)},
                                format="multipart")
    assert response.status_code in (200, 201), response.content
    stored = filing.comments.get().attachment.name
    assert ".." not in stored and stored.endswith(".pdf"), stored


def _licence_application(content: bytes, name: str = "licence.pdf") -> dict:
    from tests.enterprises.test_registration_api import application

    return application(business_licence=SimpleUploadedFile(name, content))


@pytest.mark.parametrize("case", list(NOT_DOCUMENTS), ids=list(NOT_DOCUMENTS))
def test_business_licence_must_be_a_pdf(db, unchanged, settings, case):
    name, content = NOT_DOCUMENTS[case]
    with unchanged():
        response = APIClient().post(f"{API}/registrations/", _licence_application(content, name), format="multipart",
                                    HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["field"] == "business_licence", body
    assert "PDF" in body["message"] or body["code"] in ("empty", "invalid"), body


def test_business_licence_over_the_limit(db, unchanged, settings):
    settings.BUSINESS_LICENCE_MAX_BYTES = 1024
    with unchanged():
        response = APIClient().post(f"{API}/registrations/", _licence_application(PDF + b"0" * 4096),
                                    format="multipart", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and response.json()["code"] == "file_too_large", response.content


@pytest.fixture
def intake(dismantler, maker, carmaker):
    from tests.scrapping.conftest import CONVENTIONAL_VIN, take_in

    return take_in(dismantler, vin=CONVENTIONAL_VIN, is_nev=False, photo_front=None, photo_vin=None)


PHOTO_CASES = {**NOT_DOCUMENTS, **IMAGE_ONLY}


@pytest.mark.parametrize("case", list(PHOTO_CASES), ids=list(PHOTO_CASES))
def test_intake_photo_must_be_a_jpeg_or_png(dismantler, intake, unchanged, case):
    name, content = PHOTO_CASES[case]
    with unchanged():
        response = _api(dismantler).post(f"{API}/scrapping/intakes/{intake.pk}/photos/",
                                         {"kind": "front", "file": SimpleUploadedFile(name, content)},
                                         format="multipart")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] in {"file_not_image", "empty", "invalid"}, body
    intake.refresh_from_db()
    assert not intake.photo_front


def test_intake_photo_over_the_limit(dismantler, intake, unchanged, settings):
    settings.SCRAPPING_PHOTO_MAX_BYTES = 10
    with unchanged():
        response = _api(dismantler).post(f"{API}/scrapping/intakes/{intake.pk}/photos/",
                                         {"kind": "front", "file": SimpleUploadedFile("a.png", PNG)},
                                         format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "file_too_large", response.content


REPORT_FILE_CASES = [c for c in xlsx_cases() if c[3][0] == "fail" and c[3][2] in (None, "XFD", "CZ", "GR")
                     and c[0] != "xlsx-header-only"]


@pytest.mark.parametrize("case,name,content,expect", REPORT_FILE_CASES, ids=[c[0] for c in REPORT_FILE_CASES])
def test_monthly_report_file(alice, unchanged, case, name, content, expect):
    with unchanged():
        response = _api(alice).post(f"{API}/filings/monthly-reports/file/", {"file": SimpleUploadedFile(name, content)},
                                    format="multipart")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    text = body["message"] + " ".join(str(e.get("message")) for e in body.get("errors", []))
    assert any(f in text for f in expect[3]), (expect, body)


@pytest.mark.parametrize("case", list(NOT_DOCUMENTS), ids=list(NOT_DOCUMENTS))
def test_licence_application_document_must_be_a_pdf(db, unchanged, case):
    from tests.enterprises.test_licence_application import form_data
    from tests.factories import EnterpriseFactory, MembershipFactory

    co = EnterpriseFactory(name="闽东再生资源有限公司", province="35", roles=["recycler"])
    user = MembershipFactory(enterprise=co, role="admin", user__username="recycler_admin").user
    name, content = NOT_DOCUMENTS[case]
    with unchanged():
        response = _api(user).post(f"{API}/licence-applications/",
                                   {**form_data(), "document": SimpleUploadedFile(name, content)}, format="multipart")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["field"] == "document", body
    assert "PDF" in body["message"] or body["code"] in ("empty", "invalid"), body
