from celery import shared_task
from django.core.mail import send_mail
from django.utils import translation


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email_send(notification_id: int) -> None:
    """E-mail an in-portal notification to the enterprise's administrators (its contact address if none)."""
    from apps.enterprises.models import Membership
    from apps.filings.models import Notification

    notification = Notification.objects.select_related("enterprise", "filing").get(pk=notification_id)
    enterprise = notification.enterprise
    recipients = [m.user.email for m in Membership.objects.filter(enterprise=enterprise, role="admin",
                                                                  user__is_active=True).select_related("user")
                  if m.user.email] or [enterprise.contact_email]
    with translation.override("zh-hans"):
        subject = str(notification.get_kind_display())
        filing = notification.filing
        lines = [f"{enterprise.name}: {subject}"]
        if filing is not None:
            lines.append(f"{filing} ({filing.get_status_display()})")
        if notification.comment:
            lines.append(notification.comment)
    send_mail(f"batterytrace: {subject}", "\n".join(lines) + "\n", None, recipients)
