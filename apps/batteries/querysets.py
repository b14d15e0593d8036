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
        if user.kind == "admin" or (user.kind == "reviewer" and not user.reviewer_provinces):
            return self
        if user.kind == "reviewer":
            # A provincial reviewer sees the vehicles made by, or carrying batteries held by, enterprises of its
            # provinces (as BatteryQuerySet.visible_to limits batteries to their holders' provinces).
            from apps.batteries.models import Battery

            provinces = user.reviewer_provinces
            return self.filter(Q(maker__province__in=provinces) | Q(pk__in=Battery.objects.filter(
                holder__province__in=provinces, vehicle__isnull=False).values("vehicle_id")))
        membership = user.membership
        if membership is None:
            return self.none()
        from apps.batteries.models import Battery

        ent = membership.enterprise_id
        return self.filter(Q(maker_id=ent) | Q(pk__in=Battery.objects.filter(holder_id=ent, vehicle__isnull=False)
                                                  .values("vehicle_id")))


# The card lookup by code runs all day for every integrator; compiling the visible_to queryset each time cost
# more than running it. Its SQL depends only on who asks (kind, enterprise, provinces), not on the code, so it is
# compiled once per such scope and the code is put into its parameters.
_LOOKUP_SQL: dict[tuple, tuple[str, tuple, int]] = {}
_MARKER = "\x00battery-code\x00"


def _scope(user) -> tuple:
    if user is None or not user.is_authenticated:
        return ("anonymous",)
    membership = user.membership if user.kind == "company" else None
    return (user.kind, user.is_active, tuple(user.reviewer_provinces or ()),
            membership.enterprise_id if membership is not None else None)


def visible_battery_id_sql(user, code: str) -> tuple[str, tuple]:
    """SQL selecting the id of the battery `code` if `user` may see it (Battery.objects.visible_to decides)."""
    from apps.batteries.models import Battery

    scope = _scope(user)
    cached = _LOOKUP_SQL.get(scope)
    if cached is None:
        from django.core.exceptions import EmptyResultSet

        query = Battery.objects.visible_to(user).filter(code=_MARKER).values("pk")[:1].query
        try:
            sql, params = query.sql_with_params()
            cached = (sql, tuple(params), list(params).index(_MARKER))
        except EmptyResultSet:  # visible_to(user) is empty: this person may see no battery at all
            cached = ("SELECT NULL::bigint WHERE %s IS NULL AND false", (_MARKER,), 0)
        if len(_LOOKUP_SQL) > 10_000:
            _LOOKUP_SQL.clear()
        _LOOKUP_SQL[scope] = cached
    sql, params, index = cached
    return sql, params[:index] + (code,) + params[index + 1:]


_PREDICATES: dict[tuple, tuple[str, tuple, int] | None] = {}


def visible_battery_predicate(user, code: str) -> tuple[str, tuple] | None:
    """visible_to's WHERE clause for the battery `code`, over the unaliased table batteries_battery — or None when
    that clause needs joins (a reviewer limited to provinces), for which visible_battery_id_sql serves instead.
    A plain predicate lets the planner skip a subquery on the hottest read."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    from apps.batteries.models import Battery

    scope = _scope(user)
    if scope not in _PREDICATES:
        query = Battery.objects.visible_to(user).filter(code=_MARKER).query
        compiler = query.get_compiler(connection=connection)
        try:
            compiler.pre_sql_setup()
            if len([alias for alias, count in query.alias_refcount.items() if count]) > 1:
                cached = None
            else:
                sql, params = compiler.compile(query.where)
                cached = (sql, tuple(params), list(params).index(_MARKER))
        except EmptyResultSet:
            cached = ("%s IS NULL AND false", (_MARKER,), 0)
        if len(_PREDICATES) > 10_000:
            _PREDICATES.clear()
        _PREDICATES[scope] = cached
    cached = _PREDICATES[scope]
    if cached is None:
        return None
    sql, params, index = cached
    return sql, params[:index] + (code,) + params[index + 1:]
