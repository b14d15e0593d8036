"""Core tasks, and the rule for every app's follow-up jobs:

**Queue a job from a service with `apps.core.outbox.enqueue(task, *args)`**, never `transaction.on_commit(lambda:
task.delay(...))`: the outbox row is written in the service's transaction, so the job is not lost when the broker
is down at commit time, and it runs once even if it is delivered twice (see apps/core/outbox.py).
"""
from celery import shared_task


@shared_task(acks_late=True)
def purge_idempotency_records() -> int:
    """Hourly: forget Idempotency-Key answers older than 24 hours (apps.core.idempotency.RETENTION)."""
    from apps.core.idempotency import idempotency_records_purge

    return idempotency_records_purge()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def outbox_deliver(self, outbox_id: int) -> str:
    """Run an outbox row's task once. Acknowledged late: a worker killed in the middle leaves the message to be
    delivered again, and the advisory lock it held dies with its database session."""
    from apps.core.outbox import deliver

    try:
        outcome = deliver(outbox_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(600, 10 * 2 ** min(self.request.retries, 6)), max_retries=8)
    if outcome == "busy":  # another delivery is running it; come back to see that it finished
        raise self.retry(countdown=5, max_retries=None)
    return outcome


@shared_task(acks_late=True)
def outbox_relay() -> int:
    """Every minute (beat): publish outbox rows the broker did not take at commit time."""
    from apps.core.outbox import relay

    return relay()
