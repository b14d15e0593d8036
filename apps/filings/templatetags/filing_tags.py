from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notification_count(context) -> int:
    """The count shown in the navigation; one small query, only for company staff."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != "company":
        return 0
    from apps.filings.models import Notification

    return Notification.objects.for_user(user).filter(read_at__isnull=True).count()
