"""Shape checks shared by forms and services (no rules here, just hygiene)."""
from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, ErrorCode

_MARKUP = re.compile(r"[<>]")


def reject_markup(value: str, *, field: str) -> str:
    """Company names, addresses and the like are plain text: refuse `<` and `>` outright.

    Templates escape everything anyway; refusing markup keeps it out of PDFs, exports and other systems.
    """
    match = _MARKUP.search(value or "")
    if match:
        raise DomainError(
            code=ErrorCode.MARKUP_NOT_ALLOWED,
            message=_("Character %(char)s at position %(pos)d is not allowed: HTML markup is not accepted here.")
            % {"char": match.group(0), "pos": match.start() + 1},
            field=field,
        )
    return value.strip()


PDF_MAGIC = b"%PDF-"


def check_pdf_upload(upload, *, field: str, max_bytes: int) -> None:
    """A business licence is a PDF: checked by its first bytes, not by its name, and by size."""
    if upload.size > max_bytes:
        raise DomainError(
            code=ErrorCode.FILE_TOO_LARGE,
            message=_("The file is %(size).1f MB; the limit is %(limit).0f MB.")
            % {"size": upload.size / 1048576, "limit": max_bytes / 1048576},
            field=field,
        )
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    # At the very start: "%PDF-" anywhere in the first KB let an HTML page with that text pass as a PDF.
    if head != PDF_MAGIC:
        raise DomainError(
            code=ErrorCode.FILE_NOT_PDF,
            message=_("The file is not a PDF document (it does not start with %%PDF-)."),
            field=field,
        )


JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_image_upload(upload, *, field: str, max_bytes: int) -> str:
    """A photo is a JPEG or a PNG, recognised by its first bytes (not its name or the client's content type), of
    at most `max_bytes`, and readable as an image. Returns the suffix to store it under (.jpg or .png)."""
    if upload.size > max_bytes:
        raise DomainError(
            code=ErrorCode.FILE_TOO_LARGE,
            message=_("The file is %(size).1f MB; the limit is %(limit).0f MB.")
            % {"size": upload.size / 1048576, "limit": max_bytes / 1048576},
            field=field,
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(JPEG_MAGIC):
        suffix, image_format = ".jpg", "JPEG"
    elif head.startswith(PNG_MAGIC):
        suffix, image_format = ".png", "PNG"
    else:
        raise DomainError(code=ErrorCode.FILE_NOT_IMAGE,
                          message=_("The file is not a JPEG or PNG photo (judged by its content, not its name)."),
                          field=field)
    from PIL import Image

    try:
        with Image.open(upload) as image:
            readable = image.format == image_format
            image.verify()
    except Exception:  # noqa: BLE001 — Pillow raises many kinds of error for a broken file
        readable = False
    finally:
        upload.seek(0)
    if not readable:
        raise DomainError(code=ErrorCode.FILE_NOT_IMAGE,
                          message=_("The photo is damaged or incomplete; take or export it again."), field=field)
    return suffix
