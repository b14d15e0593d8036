"""The transactional outbox: how a service queues a follow-up job (ARCHITECTURE: side effects after commit).

    from apps.core.outbox import enqueue
    enqueue(notification_email_send, notification.pk)          # instead of on_commit(lambda: task.delay(...))

`enqueue` writes an OutboxMessage row in the caller's transaction, so the job exists exactly when the business
write committed — a rollback takes it away, and a broker that is down loses nothing. On commit the row is
published at once (task `apps.core.tasks.outbox_deliver`, task id `outbox-<id>`); if the broker is unreachable the
row stays pending and the relay publishes it later: `apps.core.tasks.outbox_relay` (beat, every minute) or
`manage.py outbox_relay --loop` (independent of any worker). Publishing twice is harmless: a delivery runs the
task's body under a per-row advisory lock and only while the row is not processed, then marks it processed.
Arguments must be JSON (ids, strings), as for any Celery task.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.models import OutboxMessage

log = logging.getLogger("batterytrace.outbox")
LOCK_NAMESPACE = 0x0B0C  # pg_advisory_lock(namespace, row id): one delivery of a row at a time


def _setting(name: str, default):
    return getattr(settings, name, default)


def enqueue(task, *args, **kwargs) -> OutboxMessage:
    """Queue `task(*args, **kwargs)` to run after the current transaction commits (at once if there is none)."""
    name = task if isinstance(task, str) else task.name
    message = OutboxMessage.objects.create(task=name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: publish(message.pk, on_commit=True))
    return message


def _broker_errors() -> tuple:
    from kombu.exceptions import KombuError

    return (KombuError, OSError, ConnectionError, TimeoutError)


# After a failed publication, on-commit publishing is skipped for a while in this process: a request that queues
# several jobs while the broker is down waits for one connection attempt, not one per job. The relay always tries.
_BROKER_DOWN_FOR = 30.0
_broker_down_until = 0.0


def publish(pk: int, *, on_commit: bool = False) -> bool:
    """Hand one row to the broker; False (and the row stays pending) when the broker cannot be reached."""
    import time

    from apps.core.tasks import outbox_deliver

    global _broker_down_until
    if current_app.conf.task_always_eager:  # unit tests: run inline, let errors surface
        outbox_deliver.apply_async((pk,), task_id=f"outbox-{pk}")
        OutboxMessage.objects.filter(pk=pk).update(published_at=timezone.now())
        return True
    if on_commit and time.monotonic() < _broker_down_until:
        return False
    try:
        outbox_deliver.apply_async((pk,), task_id=f"outbox-{pk}", retry=False)
    except _broker_errors() as exc:
        _broker_down_until = time.monotonic() + _BROKER_DOWN_FOR
        log.warning("outbox #%s not published (broker unreachable; the relay retries): %s", pk, exc)
        OutboxMessage.objects.filter(pk=pk).update(attempts=F("attempts") + 1, last_error=str(exc)[:2000])
        return False
    _broker_down_until = 0.0
    OutboxMessage.objects.filter(pk=pk).update(published_at=timezone.now())
    return True


def pending(now=None):
    """Rows to (re)publish: never published (a little after their commit, to leave the on-commit publish its
    chance), or published long ago and still not processed (the broker lost them, or every delivery failed)."""
    now = now or timezone.now()
    fresh = timedelta(seconds=_setting("OUTBOX_RELAY_GRACE_SECONDS", 5))
    stale = timedelta(seconds=_setting("OUTBOX_REPUBLISH_AFTER_SECONDS", 15 * 60))
    return (OutboxMessage.objects.filter(processed_at__isnull=True, attempts__lt=_setting("OUTBOX_MAX_ATTEMPTS", 50))
            .filter(Q(published_at__isnull=True, created_at__lt=now - fresh) | Q(published_at__lt=now - stale))
            .order_by("pk"))


def relay(*, limit: int = 1000) -> int:
    """Publish pending rows, oldest first; stop at the first broker failure. Returns how many were published."""
    published = 0
    for pk in pending().values_list("pk", flat=True)[:limit]:
        if not publish(pk):
            break
        published += 1
    retention = timedelta(days=_setting("OUTBOX_RETENTION_DAYS", 7))
    OutboxMessage.objects.filter(processed_at__lt=timezone.now() - retention).delete()
    return published


def deliver(pk: int) -> str:
    """Run one row's task body here, once: under an advisory lock on the row, only if not yet processed.

    Returns "done", "duplicate" (already processed or gone) or "busy" (another delivery holds the row: the caller
    retries later). An exception from the task propagates (the row stays pending; the caller retries)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, pk])
        if not cursor.fetchone()[0]:
            return "busy"
    try:
        message = OutboxMessage.objects.filter(pk=pk, processed_at__isnull=True).first()
        if message is None:
            return "duplicate"
        task = current_app.tasks[message.task]
        try:
            task.run(*message.args, **message.kwargs)
        except Exception as exc:
            OutboxMessage.objects.filter(pk=pk).update(attempts=F("attempts") + 1, last_error=repr(exc)[:2000])
            raise
        OutboxMessage.objects.filter(pk=pk).update(processed_at=timezone.now())
        return "done"
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, pk])
