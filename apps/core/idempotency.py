"""`Idempotency-Key` on every POST of the API: a retried write gets the first answer instead of a second write.

An enterprise system that timed out registering a battery cannot know whether the battery was registered. It sends
the same request again with the same `Idempotency-Key` header and receives the answer to the first one, replayed
(header `Idempotent-Replayed: true`), while nothing is written a second time.

- Keys belong to the calling user (an API key acts as its creator), so two enterprises cannot collide.
- The key's record is inserted in the same transaction as the view's work: a concurrent duplicate blocks on the
  unique index until the first commits, then replays its answer. One battery, one ledger event.
- Error answers (4xx) are stored too, so a retry gets the same refusal; the view's writes are undone for them.
  Server errors (5xx) are not stored: the whole attempt is rolled back and may be retried with the same key.
- The request is recognised by a SHA-256 fingerprint of method, path and body. The body is taken as parsed
  (JSON with its keys sorted; form fields with each uploaded file's name, size and SHA-256), so a client that
  re-serialises the same request differently is still recognised. The same key with another request is refused
  with 422 `idempotency_key_reused`.
- Anonymous POSTs (company registration) have no user to keep keys apart; the header is ignored there, as it is
  where an answer must never be stored (a new API key's secret, ADR 0004: `idempotent = False` on the view).
- Records are kept 24 hours (`RETENTION`); apps.core.tasks.purge_idempotency_records deletes older ones and an
  expired key may be used again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apps.core.errors import DomainError, ErrorCode
from apps.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
RETENTION = dt.timedelta(hours=24)


def idempotency_key(request) -> str | None:
    """The key of an authenticated POST, or None when the mechanism does not apply to this request."""
    if request.method != "POST":
        return None
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise DomainError(
            code=ErrorCode.IDEMPOTENCY_KEY_INVALID,
            message=_("The Idempotency-Key header must be 1 to %(max)d printable ASCII characters, e.g. a UUID.")
            % {"max": MAX_KEY_LENGTH},
            field=HEADER)
    return key


def _file_digest(upload: UploadedFile) -> dict:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(1024 * 1024):
        digest.update(chunk)
    upload.seek(0)
    return {"file": upload.name, "size": upload.size, "sha256": digest.hexdigest()}


def _canonical_body(request) -> bytes:
    data = request.data  # a malformed body raises ParseError here, exactly as it would in the view
    if hasattr(data, "lists"):  # form or multipart: a QueryDict, files included
        data = {name: [_file_digest(v) if isinstance(v, UploadedFile) else v for v in values]
                for name, values in data.lists()}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=JSONEncoder).encode()


def request_fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    digest.update(_canonical_body(request))
    return digest.hexdigest()


def _body_text(data) -> str:
    return "" if data is None else json.dumps(data, cls=JSONEncoder, ensure_ascii=False)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if not hmac.compare_digest(record.request_fingerprint, fingerprint):
        raise DomainError(
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            message=_("This Idempotency-Key was already used for a different request (%(method)s %(path)s); send a "
                      "new key with a new request.") % {"method": record.method, "path": record.path},
            field=HEADER, status=422)
    data = json.loads(record.response_body) if record.response_body else None  # json keeps the key order
    return Response(data, status=record.status_code, headers={REPLAYED_HEADER: "true"})


def respond_idempotently(*, request, key: str, run: Callable[[], Response]) -> Response:
    """Answer `request` once per key: replay a stored answer, or call `run` (the view, returning its answer even
    for errors) in one transaction with the key's record."""
    user = request.user
    fingerprint = request_fingerprint(request)
    cutoff = timezone.now() - RETENTION
    found = IdempotencyRecord.objects.filter(user=user, key=key, created_at__gte=cutoff).first()
    if found is not None:
        return _replay(found, fingerprint)

    inserted = False
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=cutoff).delete()
            # A concurrent request with the same key waits here until this transaction ends.
            record = IdempotencyRecord.objects.create(
                key=key, user=user, method=request.method, path=request.get_full_path()[:2000],
                request_fingerprint=fingerprint, status_code=0)  # the status is set below, in this transaction
            inserted = True
            with transaction.atomic():
                response = run()
                if response.status_code >= 400:
                    transaction.set_rollback(True)  # a refusal changes nothing, whatever the view did first
            if response.status_code >= 500:
                transaction.set_rollback(True)  # not stored: the client may retry with the same key
                return response
            record.status_code = response.status_code
            record.response_body = _body_text(getattr(response, "data", None))
            record.save(update_fields=["status_code", "response_body"])
            return response
    except IntegrityError:
        if inserted:  # the view's own integrity error, not our key's
            raise
    # The same key was being answered concurrently; that answer is committed now.
    found = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if found is None:  # pragma: no cover - the other attempt failed with a server error and rolled back
        return respond_idempotently(request=request, key=key, run=run)
    return _replay(found, fingerprint)


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Delete records older than RETENTION; returns how many."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
