from celery import shared_task


@shared_task
def deadline_reminders_send() -> int:
    """Daily (Celery beat): remind enterprises of monthly reports due soon or just overdue. Safe to re-run."""
    from apps.deadlines import services

    return services.deadline_reminders_send()
