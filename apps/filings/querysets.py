"""Tenant scoping of filings: company staff see their enterprise's, reviewers their provinces', admins all."""
from __future__ import annotations

from django.db import models


class FilingQuerySet(models.QuerySet):
    def visible_to(self, user) -> "FilingQuerySet":
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.kind == "admin":
            return self
        if user.kind == "reviewer":
            # A reviewer never sees an enterprise's drafts: they are not filed yet.
            qs = self.exclude(status="draft")
            return qs.filter(province__in=user.reviewer_provinces) if user.reviewer_provinces else qs
        membership = user.membership
        return self.filter(enterprise_id=membership.enterprise_id) if membership else self.none()

    def open(self) -> "FilingQuerySet":
        from apps.filings.rules import OPEN_STATUSES

        return self.filter(status__in=OPEN_STATUSES)


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> "NotificationQuerySet":
        membership = getattr(user, "membership", None) if user is not None and user.is_authenticated else None
        return self.filter(enterprise_id=membership.enterprise_id) if membership else self.none()
