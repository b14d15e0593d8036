"""Tenant scoping lives here, in one place: every read of enterprise data starts with `visible_to`."""
from __future__ import annotations

from datetime import date

from django.db import models


class EnterpriseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EnterpriseQuerySet":
        """Company staff see their own enterprise; reviewers their provinces (or all); admins all."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.kind == "admin":
            return self
        if user.kind == "reviewer":
            return self.filter(province__in=user.reviewer_provinces) if user.reviewer_provinces else self
        membership = user.membership
        return self.filter(pk=membership.enterprise_id) if membership else self.none()

    def active(self) -> "EnterpriseQuerySet":
        return self.filter(status="active")


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MembershipQuerySet":
        from apps.enterprises.models import Enterprise

        return self.filter(enterprise__in=Enterprise.objects.visible_to(user))


class RecyclerLicenceQuerySet(models.QuerySet):
    def in_force_on(self, on_date: date) -> "RecyclerLicenceQuerySet":
        """Active status, the date inside [valid_from, valid_to], and the holder not suspended."""
        return self.filter(
            status="active", valid_from__lte=on_date, valid_to__gte=on_date, enterprise__status="active"
        )

    def covering(self, *, chemistry: str, scope: str) -> "RecyclerLicenceQuerySet":
        return self.filter(chemistries__contains=[chemistry], scopes__contains=[scope])
