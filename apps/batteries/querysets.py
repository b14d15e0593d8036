"""Tenant scoping for batteries and vehicles, in one place."""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class BatteryQuerySet(models.QuerySet):
    def visible_to(self, user) -> "BatteryQuerySet":
        """Company staff see the batteries their enterprise holds, made, or has in transit to it, and those
        installed in vehicles it made. Reviewers see their provinces' holders (or all); admins all."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.kind == "admin":
            return self
        if user.kind == "reviewer":
            if user.reviewer_provinces:
                return self.filter(holder__province__in=user.reviewer_provinces)
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        ent = membership.enterprise_id
        return self.filter(Q(holder_id=ent) | Q(maker_id=ent) | Q(transit_to_id=ent))


class VehicleQuerySet(models.QuerySet):
    def visible_to(self, user) -> "VehicleQuerySet":
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.kind in ("admin", "reviewer"):
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        from apps.batteries.models import Battery

        ent = membership.enterprise_id
        return self.filter(Q(maker_id=ent) | Q(pk__in=Battery.objects.filter(holder_id=ent, vehicle__isnull=False)
                                                  .values("vehicle_id")))
