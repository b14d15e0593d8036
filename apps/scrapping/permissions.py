"""Who may do what with intakes and certificates, named after the rule. Object scoping (404) is the selectors'
job; this is the 403 layer, as in apps.enterprises.permissions."""
from __future__ import annotations

import rules
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, ErrorCode
from apps.enterprises.permissions import is_admin, is_reviewer


@rules.predicate
def reviews_dismantler_province(user, obj) -> bool:
    """A provincial reviewer decides only on dismantlers in their provinces (an empty list: national)."""
    if obj is None:
        return True
    provinces = getattr(user, "reviewer_provinces", None) or []
    return not provinces or obj.dismantler.province in provinces


# Only the authority decides on a mismatch and voids or re-issues a certificate (DOMAIN.md, scrapping
# certificate: "re-issue or voiding goes through the authority").
rules.add_perm("scrapping.decide_mismatch", is_admin | (is_reviewer & reviews_dismantler_province))
rules.add_perm("scrapping.void_certificate", is_admin | (is_reviewer & reviews_dismantler_province))
rules.add_perm("scrapping.read_leads", is_admin | is_reviewer)


def require(user, perm: str, obj=None) -> None:
    if not user.has_perm(perm, obj):
        raise DomainError(code=ErrorCode.PERMISSION_DENIED,
                          message=_("Only ministry reviewers (for dismantlers in their provinces) and administrators "
                                    "may do this."), status=403)
