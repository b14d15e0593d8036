"""The certificate PDF: Chinese text with the embedded Noto Sans CJK SC font, and a QR code that decodes to the
verification URL. Checked with the real tools, as a reader would: poppler's pdftotext and pdffonts read the PDF,
pdftoppm renders the page and zbarimg (zbar) decodes the QR code from the rendered pixels. scripts/bootstrap
installs poppler-utils and zbar-tools."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from apps.scrapping import services
from apps.scrapping.documents import certificate_html, certificate_qr, render_certificate_pdf
from apps.scrapping.models import ScrappingCertificate
from apps.scrapping.verification import verification_url
from tests.conftest import signed_in
from tests.scrapping.conftest import VIN, take_in

pytestmark = pytest.mark.django_db

TOOLS = ("pdftotext", "pdffonts", "pdftoppm", "zbarimg")


@pytest.fixture(autouse=True)
def _tools():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed; scripts/bootstrap installs poppler-utils and zbar-tools")


@pytest.fixture
def certificate(dismantler, nev, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = services.scrapping_certificate_issue(actor=dismantler, intake_id=take_in(dismantler, VIN, [nev]).pk,
                                                      number="ZB-2026-000123")
    issued.refresh_from_db()
    return issued


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def qr_payloads(path, tmp_path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True, capture_output=True)
    image = next(tmp_path.glob("page*.png"))
    found = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
                           capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if line]


def test_the_pdf_is_rendered_by_the_task_on_issue(certificate):
    assert certificate.pdf and certificate.pdf.name.endswith(".pdf")
    assert certificate.pdf_rendered_at is not None
    with certificate.pdf.open("rb") as f:
        assert f.read(5) == b"%PDF-"


def test_the_pdf_text_is_chinese(certificate):
    text = pdf_text(certificate.pdf.path)
    assert "报废机动车回收证明" in text
    assert "车电一体报废" in text
    assert "ZB-2026-000123" in text and VIN in text
    assert certificate.handover_deadline.isoformat() in text
    assert certificate.dismantler.name in text  # 江城拆解


def test_the_cjk_font_is_embedded(certificate):
    fonts = subprocess.run(["pdffonts", certificate.pdf.path], check=True, capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk), fonts  # the "emb" column


def test_the_qr_code_decodes_to_the_verification_url(certificate, tmp_path):
    url = verification_url(certificate.pk)
    assert url.isascii() and "/verify/" in url
    assert qr_payloads(certificate.pdf.path, tmp_path) == [url]
    # and it is a regular QR code, never Micro QR
    assert not certificate_qr(url).is_micro


def test_the_verification_url_in_the_qr_opens_the_public_page(certificate, anon, settings):
    path = verification_url(certificate.pk).removeprefix(settings.PORTAL_BASE_URL.rstrip("/"))
    response = anon.get(path)
    assert response.status_code == 200 and response.context["state"] == "valid"


def test_a_voided_certificate_pdf_says_so(certificate, reviewer_hb, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.scrapping_certificate_void(actor=reviewer_hb, certificate_id=certificate.pk, reason="车辆被报盗抢")
    certificate.refresh_from_db()
    text = pdf_text(certificate.pdf.path)
    assert "作废" in text and "车辆被报盗抢" in text


def test_a_missing_pdf_is_rendered_on_demand(certificate, dismantler):
    certificate.pdf.storage.delete(certificate.pdf.name)
    ScrappingCertificate.objects.filter(pk=certificate.pk).update(pdf="")
    response = signed_in(dismantler).get(f"/scrapping/certificates/{certificate.pk}/certificate.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    certificate.refresh_from_db()
    assert certificate.pdf


def test_a_pdf_request_for_someone_elses_certificate_is_404(certificate, dismantler2, reviewer_gd, api_for):
    url = f"/scrapping/certificates/{certificate.pk}/certificate.pdf"
    assert signed_in(dismantler2).get(url).status_code == 404
    assert signed_in(reviewer_gd).get(url).status_code == 404
    assert api_for(dismantler2).get(f"/api/v1/scrapping/certificates/{certificate.pk}/pdf/").status_code == 404


def test_rendering_takes_well_under_a_few_seconds(certificate):
    start = time.perf_counter()
    render_certificate_pdf(certificate)
    elapsed = time.perf_counter() - start
    assert elapsed < 5, elapsed


def test_the_certificate_html_names_the_embedded_font(certificate):
    assert "Noto Sans CJK SC" in certificate_html(certificate)
