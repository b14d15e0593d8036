"""Accepting a bulk file. The work itself is done by the Celery job (apps.batteries.imports.pipeline)."""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.batteries.models import BulkImport
from apps.batteries.services.lifecycle import acting_enterprise, require_role
from apps.core.errors import DomainError, ErrorCode
from apps.core.services import service

KIND_OPERATION = {BulkImport.Kind.REGISTER: "register", BulkImport.Kind.INSTALL: "install",
                  BulkImport.Kind.HAND_OVER: "hand_over"}


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(1024 * 1024):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


class DuplicateImport(DomainError):
    def __init__(self, existing: BulkImport):
        super().__init__(
            code=ErrorCode.IMPORT_DUPLICATE_FILE,
            message=_("This file was already uploaded on %(when)s (import #%(id)d, %(status)s); it is not applied twice.")
            % {"when": existing.created_at.strftime("%Y-%m-%d %H:%M"), "id": existing.pk,
               "status": existing.get_status_display()},
            field="file", status=409)
        self.existing = existing


@service
def bulk_import_create(*, actor, kind: str, upload) -> BulkImport:
    """Store the file and queue its job. The same bytes for the same enterprise and kind are recognised: the
    earlier import is named and nothing new happens (unless the earlier one failed)."""
    enterprise = acting_enterprise(actor)
    if kind not in BulkImport.Kind.values:
        raise DomainError(code=ErrorCode.INVALID, message=_("Unknown import kind."), field="kind")
    require_role(enterprise, KIND_OPERATION[kind])
    if upload is None or upload.size == 0:
        raise DomainError(code=ErrorCode.IMPORT_FILE_INVALID, message=_("The file is empty."), field="file")
    if upload.size > settings.BULK_IMPORT_MAX_BYTES:
        raise DomainError(code=ErrorCode.FILE_TOO_LARGE,
                          message=_("The file is %(size).1f MB; the limit is %(limit).0f MB.")
                          % {"size": upload.size / 1048576, "limit": settings.BULK_IMPORT_MAX_BYTES / 1048576},
                          field="file")
    name = (getattr(upload, "name", "") or "upload")[-255:]
    if not name.lower().endswith((".csv", ".txt", ".xlsx")):
        raise DomainError(code=ErrorCode.IMPORT_FILE_INVALID,
                          message=_("Upload a CSV (.csv) or Excel workbook (.xlsx) file."), field="file")
    digest = _sha256(upload)
    existing = BulkImport.objects.filter(enterprise=enterprise, kind=kind, sha256=digest).exclude(
        status=BulkImport.Status.FAILED).first()
    if existing is not None:
        raise DuplicateImport(existing)
    record = BulkImport(enterprise=enterprise, created_by=actor, kind=kind, original_name=name, size=upload.size,
                        sha256=digest)
    record.file.save("upload", upload, save=False)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:  # the same file uploaded twice at the same moment
        raise DuplicateImport(BulkImport.objects.get(enterprise=enterprise, kind=kind, sha256=digest,
                                                     status__in=["queued", "validating", "applying", "succeeded"]))
    from apps.batteries.tasks import bulk_import_run

    from apps.core.outbox import enqueue

    enqueue(bulk_import_run, record.pk)
    return record
