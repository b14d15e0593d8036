from celery import shared_task


@shared_task(acks_late=True)
def purge_idempotency_records() -> int:
    """Hourly: forget Idempotency-Key answers older than 24 hours (apps.core.idempotency.RETENTION)."""
    from apps.core.idempotency import idempotency_records_purge

    return idempotency_records_purge()
