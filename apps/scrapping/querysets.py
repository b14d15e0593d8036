"""Tenant scoping for intakes and certificates, in one place: a dismantler's staff see their own enterprise's,
reviewers those of dismantlers in their provinces (or all), admins all."""
from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef


def _dismantler_scope(queryset, user):
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.kind == "admin":
        return queryset
    if user.kind == "reviewer":
        if user.reviewer_provinces:
            return queryset.filter(dismantler__province__in=user.reviewer_provinces)
        return queryset
    membership = user.membership
    if membership is None:
        return queryset.none()
    return queryset.filter(dismantler_id=membership.enterprise_id)


class IntakeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "IntakeQuerySet":
        return _dismantler_scope(self, user)

    def leads(self) -> "IntakeQuerySet":
        """Enforcement leads: battery missing, or a different battery present and not yet decided."""
        return self.filter(status__in=["blocked", "awaiting_decision"])


class CertificateQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CertificateQuerySet":
        return _dismantler_scope(self, user)

    def with_handover_open(self) -> "CertificateQuerySet":
        """`handover_open`: a battery taken in with this certificate is still in the dismantler's stock, so the
        handover deadline still runs (it stops once every battery is handed on)."""
        from apps.batteries.models import BatteryStatus
        from apps.scrapping.models import IntakeBattery

        still_here = IntakeBattery.objects.filter(
            intake_id=OuterRef("intake_id"), removed=True, battery__holder_id=OuterRef("dismantler_id"),
            battery__status=BatteryStatus.IN_STOCK)
        return self.annotate(handover_open=Exists(still_here))
