"""Tenant scoping of enforcement actions: reviewers see their provinces' (drafts included: they are the
regulators' own work), admins all, an enterprise only its own actions once issued — never a draft."""
from __future__ import annotations

from django.db import models

# What an enterprise may see: the action has been issued to it.
PUBLISHED_STATUSES = ("issued", "answered", "closed")


class EnforcementActionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EnforcementActionQuerySet":
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.kind == "admin":
            return self
        if user.kind == "reviewer":
            return self.filter(province__in=user.reviewer_provinces) if user.reviewer_provinces else self
        membership = user.membership
        if membership is None:
            return self.none()
        return self.filter(enterprise_id=membership.enterprise_id, status__in=PUBLISHED_STATUSES)
