"""Reads for pages and APIs. Each starts from the actor's visible set."""
from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from apps.core.errors import NotFound
from apps.enterprises.models import Enterprise, LicenceScope, Membership, RecyclerLicence


def enterprise_get(*, actor, pk) -> Enterprise:
    try:
        return Enterprise.objects.visible_to(actor).get(pk=pk)
    except (Enterprise.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def enterprise_list(*, actor, status: str | None = None, province: str | None = None, q: str | None = None) -> QuerySet:
    qs = Enterprise.objects.visible_to(actor)
    if status:
        qs = qs.filter(status=status)
    if province:
        qs = qs.filter(province=province)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uscc__icontains=q.upper()))
    return qs.order_by("-created_at", "-id")


def staff_list(*, actor, enterprise: Enterprise) -> QuerySet:
    return (
        Membership.objects.visible_to(actor)
        .filter(enterprise=enterprise)
        .select_related("user")
        .order_by("-user__is_active", "user__username")
    )


def recycler_licence_in_force(*, enterprise, chemistry: str, scope: str, on_date: date) -> RecyclerLicence | None:
    """The licence that lets `enterprise` receive waste batteries of `chemistry` for `scope` on `on_date`.

    DOMAIN.md rule 3: only licensed recyclers receive waste batteries, only while the licence is active
    and its scope covers the work. Later issues call this at every handover of a waste battery.
    """
    enterprise_id = enterprise.pk if hasattr(enterprise, "pk") else enterprise
    return (
        RecyclerLicence.objects.in_force_on(on_date)
        .covering(chemistry=chemistry, scope=scope)
        .filter(enterprise_id=enterprise_id)
        .order_by("-valid_to")
        .first()
    )


def recycler_licence_withdrawn(*, enterprise) -> RecyclerLicence | None:
    """The enterprise's most recently changed licence that is suspended or revoked, if any: what a refusal under
    rule 3 names, so that the sender knows why a recycler it used to hand over to no longer qualifies."""
    enterprise_id = enterprise.pk if hasattr(enterprise, "pk") else enterprise
    return (RecyclerLicence.objects.filter(enterprise_id=enterprise_id, status__in=[
        RecyclerLicence.Status.SUSPENDED, RecyclerLicence.Status.REVOKED]).order_by("-updated_at", "-pk").first())


def recycler_may_receive(*, enterprise, chemistry: str, scope: str = LicenceScope.DISMANTLING, on_date: date) -> bool:
    return recycler_licence_in_force(enterprise=enterprise, chemistry=chemistry, scope=scope, on_date=on_date) is not None


def public_licensed_recyclers(*, on_date: date, province: str | None = None, scope: str | None = None,
                              q: str | None = None) -> QuerySet:
    """The published list: licences in force today, with their holders (only public fields are shown)."""
    qs = RecyclerLicence.objects.in_force_on(on_date).select_related("enterprise")
    if province:
        qs = qs.filter(enterprise__province=province)
    if scope:
        qs = qs.filter(scopes__contains=[scope])
    if q:
        qs = qs.filter(Q(enterprise__name__icontains=q) | Q(number__icontains=q))
    return qs.order_by("enterprise__province", "enterprise__name", "id")


def licence_list(*, actor, enterprise=None, status: str | None = None) -> QuerySet:
    qs = RecyclerLicence.objects.filter(enterprise__in=Enterprise.objects.visible_to(actor)).select_related("enterprise")
    if enterprise is not None:
        qs = qs.filter(enterprise=enterprise)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-valid_from", "-id")
