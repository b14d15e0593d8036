from celery import shared_task


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def bulk_import_run(self, import_id: int) -> str:
    """Idempotent: a finished import is left alone; an interrupted one (worker killed) starts again from the file,
    and because the apply step is one transaction, its rows land exactly once."""
    from apps.batteries.imports.pipeline import run_import

    return run_import(import_id)


@shared_task(acks_late=True)
def ledger_verify_all() -> int:
    """Nightly: recompute every chain; log and return the number of breaks (0: ledger intact)."""
    import logging

    from apps.batteries.ledger import ledger_verify

    breaks = ledger_verify()
    for b in breaks:
        logging.getLogger("batterytrace.ledger").error("ledger chain break: %s #%s %s", b.code, b.seq, b.problem)
    return len(breaks)
