from celery import shared_task


@shared_task(bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def certificate_pdf_render(self, certificate_id: int) -> str:
    """Render and store a certificate's PDF (after issue, voiding or re-issue). Idempotent: rendering again
    replaces the file with one that reflects the certificate as it is now."""
    from apps.scrapping.services import scrapping_certificate_pdf_store

    return scrapping_certificate_pdf_store(certificate_id=certificate_id).pdf.name


@shared_task(acks_late=True)
def provisional_deadlines_recount() -> int:
    """Nightly: recount handover deadlines computed over a year the working-day calendar did not know yet."""
    from apps.scrapping.services import provisional_deadlines_recount as recount

    return recount()
