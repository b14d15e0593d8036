"""The certificate's public verification address, printed as a QR code: an ASCII URL holding a signed token.

The token is the certificate's id signed with django.core.signing under its own salt, without a timestamp: it
cannot be forged or guessed, says nothing by itself, and is the same every time it is made. It never expires — a
certificate stays checkable for as long as the vehicle's deregistration may be questioned — and a voided
certificate's token keeps working, so the page can say *voided*. Rotating SECRET_KEY invalidates printed codes
unless the old key stays in SECRET_KEY_FALLBACKS.
"""
from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import iri_to_uri

SALT = "batterytrace.scrapping.certificate.verify"


def _signer() -> signing.Signer:
    # Not TimestampSigner (signing.dumps): the same certificate always gets the same token, so the QR printed on
    # the PDF and the address shown on the pages are one and the same.
    return signing.Signer(salt=SALT)


def certificate_token(certificate_id: int) -> str:
    return _signer().sign_object(certificate_id)


def certificate_id_from_token(token: str) -> int | None:
    """The certificate id, or None for a token that is malformed, tampered with or signed with another salt."""
    try:
        value = _signer().unsign_object(token or "")
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def verification_path(certificate_id: int) -> str:
    """Language-neutral (Chinese, no prefix): the reader's phone opens the page in the portal's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("scrapping:verify", kwargs={"token": certificate_token(certificate_id)})


def verification_url(certificate_id: int) -> str:
    """Absolute and ASCII, from PORTAL_BASE_URL (documents are rendered without a request, e.g. by a task)."""
    return iri_to_uri(settings.PORTAL_BASE_URL.rstrip("/") + verification_path(certificate_id))
