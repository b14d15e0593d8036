"""The certificate as a PDF: an HTML template rendered by WeasyPrint in Simplified Chinese, with the OS font
"Noto Sans CJK SC" (Debian's fonts-noto-cjk; WeasyPrint embeds the subset it uses) and a QR code (segno, never
Micro QR) holding the ASCII verification URL.

Rendering takes a few tenths of a second, so a task renders it after the certificate is issued
(apps.scrapping.tasks); the download view renders on demand when the file is missing.
"""
from __future__ import annotations

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from apps.scrapping.models import CertificateStatus, ScrappingCertificate
from apps.scrapping.selectors import certificate_handover_days
from apps.scrapping.verification import verification_url

FONT_FAMILY = "Noto Sans CJK SC"


def certificate_qr(url: str) -> segno.QRCode:
    """The QR code printed on the certificate: a regular QR code (never Micro QR), error correction M."""
    return segno.make_qr(url, error="m")


def certificate_context(certificate: ScrappingCertificate) -> dict:
    intake = certificate.intake
    url = verification_url(certificate.pk)
    return {
        "certificate": certificate, "intake": intake, "url": url,
        "qr": certificate_qr(url).svg_data_uri(scale=4, border=2),
        "batteries": [b for b in intake.batteries.all() if b.found],
        "voided": certificate.status == CertificateStatus.VOIDED,
        "replaces": certificate.replaces, "font_family": FONT_FAMILY,
        "handover_days": certificate_handover_days(certificate),
    }


def certificate_html(certificate: ScrappingCertificate) -> str:
    # The certificate is an official Chinese document, whatever language the person who asked for it reads.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("scrapping/certificate_pdf.html", certificate_context(certificate))


def render_certificate_pdf(certificate: ScrappingCertificate) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=certificate_html(certificate), base_url=str(settings.BASE_DIR)).write_pdf()
