"""Writes for people and API keys."""
from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import APIKey, User
from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.services import service
from apps.core.validators import reject_markup
from apps.enterprises.models import Enterprise, Membership
from apps.enterprises.permissions import require

API_KEY_PREFIX_LEN = 8


def api_key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


MAX_LOGIN_EMAIL = 150  # the e-mail address becomes the user name


def check_login_email(email: str, *, field: str = "email") -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(code=ErrorCode.INVALID, message=_("Enter a valid e-mail address."), field=field)
    if len(email) > MAX_LOGIN_EMAIL:
        raise DomainError(code=ErrorCode.INVALID,
                          message=_("This e-mail address has %(n)d characters; sign-in addresses may have at most "
                                    "%(max)d.") % {"n": len(email), "max": MAX_LOGIN_EMAIL}, field=field)
    return email


def _acting_enterprise(actor, perm: str) -> Enterprise:
    require(actor, perm)
    return actor.membership.enterprise


@service
def staff_invite(*, actor, email: str, full_name: str = "", role: str = Membership.Role.FILER) -> Membership:
    """An enterprise admin invites a colleague: the account is created without a password and the colleague
    receives a link to choose one (valid for PASSWORD_RESET_TIMEOUT)."""
    enterprise = _acting_enterprise(actor, "enterprises.manage_staff")
    email = check_login_email(email)
    full_name = reject_markup(full_name or "", field="full_name")
    if role not in Membership.Role.values:
        raise DomainError(code=ErrorCode.INVALID, message=_("Unknown role."), field="role")
    if User.objects.annotate(e=Lower("email")).filter(e=email.lower()).exists() or \
            User.objects.filter(username__iexact=email).exists():
        raise DomainError(code=ErrorCode.USER_ALREADY_EXISTS,
                          message=_("An account with this e-mail address already exists."), field="email")
    user = User(username=email, email=email, full_name=full_name, kind=User.Kind.COMPANY)
    user.set_unusable_password()
    user.save()
    membership = Membership.objects.create(user=user, enterprise=enterprise, role=role, created_by=actor,
                                           updated_by=actor)
    from apps.accounts.tasks import staff_invitation_send

    from apps.core.outbox import enqueue

    enqueue(staff_invitation_send, user.pk, actor.pk)
    return membership


def invitation_link(user: User) -> str:
    from django.conf import settings
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.PORTAL_BASE_URL + reverse("accounts:password_reset_confirm", args=[uid, token])


def _staff_member(actor, membership_id) -> Membership:
    enterprise = _acting_enterprise(actor, "enterprises.manage_staff")
    # Lock the enterprise first: two admins deactivating each other at once serialise here, so the
    # "at least one active administrator" check below sees the other's outcome.
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
    try:
        return Membership.objects.select_related("user").select_for_update().get(pk=membership_id, enterprise=enterprise)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise NotFound()


@service
def staff_deactivate(*, actor, membership_id) -> Membership:
    membership = _staff_member(actor, membership_id)
    if membership.user_id == actor.pk:
        raise DomainError(code=ErrorCode.CANNOT_DEACTIVATE_SELF, message=_("You cannot deactivate your own account."))
    if membership.role == Membership.Role.ADMIN and not Membership.objects.filter(
        enterprise=membership.enterprise, role=Membership.Role.ADMIN, user__is_active=True
    ).exclude(pk=membership.pk).exists():
        raise DomainError(code=ErrorCode.LAST_ENTERPRISE_ADMIN,
                          message=_("The enterprise must keep at least one active administrator."))
    user = membership.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    return membership


@service
def staff_reactivate(*, actor, membership_id) -> Membership:
    membership = _staff_member(actor, membership_id)
    user = membership.user
    user.is_active = True
    user.save(update_fields=["is_active"])
    return membership


@service
def api_key_create(*, actor, name: str) -> tuple[APIKey, str]:
    """Returns the key row and the secret. The secret is shown once and never stored."""
    enterprise = _acting_enterprise(actor, "enterprises.manage_api_keys")
    name = reject_markup((name or "").strip(), field="name")
    if not name:
        raise DomainError(code=ErrorCode.INVALID, message=_("Give the key a name."), field="name")
    prefix = secrets.token_hex(API_KEY_PREFIX_LEN // 2)
    raw = f"bt_{prefix}_{secrets.token_urlsafe(32)}"
    key = APIKey.objects.create(enterprise=enterprise, name=name, prefix=prefix, digest=api_key_digest(raw),
                                created_by=actor)
    return key, raw


@service
def api_key_revoke(*, actor, key_id) -> APIKey:
    enterprise = _acting_enterprise(actor, "enterprises.manage_api_keys")
    try:
        key = APIKey.objects.select_for_update().get(pk=key_id, enterprise=enterprise)
    except (APIKey.DoesNotExist, ValueError, TypeError):
        raise NotFound()
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by"])
    return key


@service
def regulator_invite(*, actor, email: str, full_name: str = "", kind: str, provinces: list[str] | None = None) -> User:
    """An admin adds a reviewer or another admin; they choose a password through an e-mailed link and enrol
    their authenticator app at first sign-in."""
    require(actor, "enterprises.manage_licences")
    email = check_login_email(email)
    if kind not in (User.Kind.REVIEWER, User.Kind.ADMIN):
        raise DomainError(code=ErrorCode.INVALID, message=_("Choose reviewer or administrator."), field="kind")
    if User.objects.annotate(e=Lower("email")).filter(e=email.lower()).exists() or \
            User.objects.filter(username__iexact=email).exists():
        raise DomainError(code=ErrorCode.USER_ALREADY_EXISTS,
                          message=_("An account with this e-mail address already exists."), field="email")
    user = User(username=email, email=email, full_name=reject_markup(full_name or "", field="full_name"), kind=kind,
                reviewer_provinces=sorted(set(provinces or [])) if kind == User.Kind.REVIEWER else [],
                is_staff=kind == User.Kind.ADMIN, is_superuser=kind == User.Kind.ADMIN)
    user.set_unusable_password()
    user.save()
    from apps.accounts.tasks import staff_invitation_send

    from apps.core.outbox import enqueue

    enqueue(staff_invitation_send, user.pk, actor.pk)
    return user


@service
def regulator_set_active(*, actor, user_id, active: bool) -> User:
    require(actor, "enterprises.manage_licences")
    try:
        user = User.objects.select_for_update().get(pk=user_id, kind__in=[User.Kind.REVIEWER, User.Kind.ADMIN])
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound()
    if user.pk == actor.pk and not active:
        raise DomainError(code=ErrorCode.CANNOT_DEACTIVATE_SELF, message=_("You cannot deactivate your own account."))
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


@service
def regulator_create(*, actor=None, username: str, email: str, password: str, kind: str, full_name: str = "",
                     provinces: list[str] | None = None) -> User:
    """Reviewers and admins are created by an admin (or the `create_regulator` command), never by sign-up."""
    if actor is not None:
        require(actor, "enterprises.manage_licences")
    if kind not in (User.Kind.REVIEWER, User.Kind.ADMIN):
        raise DomainError(code=ErrorCode.INVALID, message=_("Unknown kind."), field="kind")
    user = User(username=username, email=email, full_name=full_name, kind=kind,
                reviewer_provinces=provinces or [] if kind == User.Kind.REVIEWER else [],
                is_staff=kind == User.Kind.ADMIN, is_superuser=kind == User.Kind.ADMIN)
    user.set_password(password)
    user.save()
    return user
