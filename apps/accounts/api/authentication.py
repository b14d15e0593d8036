"""`Authorization: Api-Key <key>` for enterprise systems."""
from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from apps.accounts.models import APIKey
from apps.accounts.services import api_key_digest


class APIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        raw = header[len(self.keyword) + 1:].strip()
        key = (
            APIKey.objects.select_related("enterprise", "created_by__membership_record__enterprise")
            .filter(digest=api_key_digest(raw))
            .first()
        )
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
        # The membership came in the same query: User.membership then needs no query of its own.
        try:
            user._membership_cache = user.membership_record
        except ObjectDoesNotExist:
            user._membership_cache = None
        user._api_key = key
        return user, key

    def authenticate_header(self, request):
        return self.keyword
