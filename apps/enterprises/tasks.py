from celery import shared_task
from django.core.mail import send_mail


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def enterprise_decision_notify(enterprise_id: int, subject: str) -> None:
    """Tell the applicant what the reviewer decided (e-mail; the portal shows the same on sign-in)."""
    from apps.enterprises.models import Enterprise, Membership

    enterprise = Enterprise.objects.get(pk=enterprise_id)
    recipients = [m.user.email for m in Membership.objects.filter(enterprise=enterprise, role="admin").select_related("user")
                  if m.user.email]
    recipients = recipients or [enterprise.contact_email]
    body = f"{enterprise.name}: {enterprise.get_status_display()}\n{enterprise.status_reason}\n"
    send_mail(f"batterytrace: {subject}", body, None, recipients)
