from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from apps.accounts.models import APIKey


class AccountInGoodStanding(permissions.BasePermission):
    """Signed-in, verified with 2FA if a regulator, and (for company staff) with an active enterprise.

    An API key is checked by its authentication class (revoked, creator deactivated, enterprise suspended:
    see ADR 0004); everything else is about the person signed in.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if isinstance(request.auth, APIKey):
            return True
        if not user.is_active:
            return False
        if user.requires_two_factor and not user.is_verified():
            raise exceptions.PermissionDenied(_("Two-factor verification is required."), code="two_factor_required")
        if user.kind == "company":
            enterprise = user.enterprise
            if enterprise is None:
                return False
            if enterprise.status == "suspended":
                raise exceptions.PermissionDenied(
                    _("Your enterprise is suspended: %(reason)s") % {"reason": enterprise.status_reason or "-"},
                    code="enterprise_suspended",
                )
            if enterprise.status != "active":
                raise exceptions.PermissionDenied(_("Your enterprise is not active."), code="enterprise_not_active")
        return True
