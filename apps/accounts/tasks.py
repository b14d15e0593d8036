from celery import shared_task
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def staff_invitation_send(user_id: int, inviter_id: int) -> None:
    from apps.accounts.models import User
    from apps.accounts.services import invitation_link

    user = User.objects.get(pk=user_id)
    inviter = User.objects.get(pk=inviter_id)
    link = invitation_link(user)
    where = user.enterprise if user.kind == "company" else user.get_kind_display()
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            texts.append(_("%(inviter)s invited you to %(enterprise)s on the power-battery traceability portal. "
                           "Choose your password here: %(link)s")
                         % {"inviter": inviter, "enterprise": where, "link": link})
    zh, en = texts
    send_mail("动力电池溯源平台邀请 / batterytrace invitation", f"{zh}\n\n{en}\n", None, [user.email])
