"""`Authorization: Api-Key <key>` for enterprise systems."""
from __future__ import annotations

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from apps.accounts.models import APIKey
from apps.accounts.services import api_key_digest


# Every API call by an enterprise system starts here, so the key, its enterprise, the person who created it and
# their membership come back in one indexed query, built into model instances without the ORM's per-query
# compilation (which cost more than the query itself). Fields not listed are loaded on first access.
_KEY = ("id", "enterprise_id", "name", "prefix", "created_by_id", "created_at", "last_used_at", "revoked_at",
        "revoked_by_id")
# No timestamps among the user, enterprise and membership fields: they come back as JSON (see below).
_USER = ("id", "username", "email", "full_name", "kind", "is_active", "is_staff", "is_superuser",
         "reviewer_provinces")
_ENTERPRISE = ("id", "name", "uscc", "province", "roles", "status", "status_reason", "contact_email")
_MEMBERSHIP = ("id", "user_id", "enterprise_id", "role")


def _ordered(model, wanted) -> tuple[str, ...]:
    """Model.from_db wants the loaded attnames in the model's own field order."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


def _columns(model, names, alias) -> str:
    by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
    return ", ".join(f'{alias}."{by_attname[n]}"' for n in names)


_LOAD_KEY: tuple | None = None


def _load_key_statement() -> tuple:
    """The query and field lists, built once per process (they depend only on the models)."""
    global _LOAD_KEY
    if _LOAD_KEY is None:
        from apps.accounts.models import User
        from apps.enterprises.models import Enterprise, Membership

        k, u, e, m = (_ordered(APIKey, _KEY), _ordered(User, _USER), _ordered(Enterprise, _ENTERPRISE),
                      _ordered(Membership, _MEMBERSHIP))
        # Scalar subqueries rather than joins: the planner's join search cost more than the execution.
        sql = (f"SELECT {_columns(APIKey, k, 'k')},"
               f" (SELECT json_build_array({_columns(User, u, 'u')}) FROM accounts_user u WHERE u.id = k.created_by_id),"
               f" (SELECT json_build_array({_columns(Enterprise, e, 'e')}) FROM enterprises_enterprise e"
               f"   WHERE e.id = k.enterprise_id),"
               f" (SELECT json_build_array({_columns(Membership, m, 'm')}) FROM enterprises_membership m"
               f"   WHERE m.user_id = k.created_by_id)"
               " FROM accounts_apikey k WHERE k.digest = %s")
        _LOAD_KEY = (sql, k, u, e, m)
    return _LOAD_KEY


def load_key(digest: str) -> APIKey | None:
    from apps.accounts.models import User
    from apps.enterprises.models import Enterprise, Membership

    sql, k, u, e, m = _load_key_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    a = len(k)
    db = connection.alias
    key = APIKey.from_db(db, k, row[:a])
    user_values, enterprise_values, membership_values = row[a:a + 3]
    user = User.from_db(db, u, user_values)
    enterprise = Enterprise.from_db(db, e, enterprise_values)
    membership = Membership.from_db(db, m, membership_values) if membership_values is not None else None
    key.created_by, key.enterprise = user, enterprise
    if membership is not None:
        membership.user = user
        if membership.enterprise_id == enterprise.pk:
            membership.enterprise = enterprise
    user._membership_cache = membership
    return key


class APIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        raw = header[len(self.keyword) + 1:].strip()
        key = load_key(api_key_digest(raw))
        if key is None:
            raise exceptions.AuthenticationFailed(_("Unknown API key."), code="api_key_invalid")
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API key was revoked."), code="api_key_revoked")
        if not key.created_by.is_active:
            # A key belongs to the person who created it: when they leave, their integrations stop too.
            raise exceptions.AuthenticationFailed(
                _("The account that created this API key is deactivated; create a new key."), code="api_key_owner_inactive"
            )
        if key.enterprise.status == "suspended":
            raise exceptions.PermissionDenied(
                _("Your enterprise is suspended: %(reason)s") % {"reason": key.enterprise.status_reason or "-"},
                code="enterprise_suspended",
            )
        if key.enterprise.status != "active":
            raise exceptions.PermissionDenied(_("Your enterprise is not active."), code="enterprise_not_active")
        # Record use at most once a minute: a busy integration should not write on every call.
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            APIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        user = key.created_by
        user._api_key = key
        return user, key

    def authenticate_header(self, request):
        return self.keyword
