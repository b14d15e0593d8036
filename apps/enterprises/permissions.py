"""Who may do what, named after the rule. Object scoping (404) is the selectors' job; this is the 403 layer."""
from __future__ import annotations

import rules
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, ErrorCode


@rules.predicate
def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.kind == "admin")


@rules.predicate
def is_reviewer(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.kind == "reviewer")


@rules.predicate
def is_enterprise_admin(user) -> bool:
    membership = getattr(user, "membership", None) if user and user.is_authenticated else None
    return bool(membership and user.is_active and membership.role == "admin" and membership.enterprise.is_active)


@rules.predicate
def is_company_staff(user) -> bool:
    membership = getattr(user, "membership", None) if user and user.is_authenticated else None
    return bool(membership and user.is_active and membership.enterprise.is_active)


@rules.predicate
def reviews_province_of(user, enterprise) -> bool:
    if enterprise is None:
        return True
    provinces = getattr(user, "reviewer_provinces", None) or []
    return not provinces or enterprise.province in provinces


is_regulator = is_admin | is_reviewer

rules.add_perm("enterprises.review_registration", is_admin | (is_reviewer & reviews_province_of))
rules.add_perm("enterprises.suspend", is_admin | (is_reviewer & reviews_province_of))
rules.add_perm("enterprises.view_history", is_admin | (is_reviewer & reviews_province_of))
rules.add_perm("enterprises.assign_manufacturer_code", is_admin)
rules.add_perm("enterprises.manage_licences", is_admin)
rules.add_perm("enterprises.manage_staff", is_enterprise_admin)
rules.add_perm("enterprises.manage_api_keys", is_enterprise_admin)
rules.add_perm("enterprises.view_own", is_company_staff)


def require(user, perm: str, obj=None) -> None:
    if not user.has_perm(perm, obj):
        raise DomainError(
            code=ErrorCode.PERMISSION_DENIED,
            message=_("Your role does not allow this action."),
            status=403,
        )
