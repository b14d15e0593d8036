"""Tenant scoping of discrepancies: company staff see their enterprise's, reviewers their provinces', admins all."""
from __future__ import annotations

from django.db import models


class DiscrepancyQuerySet(models.QuerySet):
    def visible_to(self, user) -> "DiscrepancyQuerySet":
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.kind == "admin":
            return self
        if user.kind == "reviewer":
            return self.filter(enterprise__province__in=user.reviewer_provinces) if user.reviewer_provinces else self
        membership = user.membership
        return self.filter(enterprise_id=membership.enterprise_id) if membership else self.none()
