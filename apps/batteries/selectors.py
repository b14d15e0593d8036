"""Reads for the battery pages. Each starts from the actor's visible set: another enterprise's battery or import
looks exactly like one that does not exist (tenant isolation)."""
from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from apps.batteries.models import Battery, BatteryStatus, BulkImport, Remanufacture, Vehicle
from apps.core.errors import NotFound
from apps.core.text import ascii_upper

LIST_RELATED = ("holder", "maker", "vehicle", "transit_to")
RECIPIENT_SUGGESTIONS = 10
RECIPIENT_QUERY_MIN = 2
CARD_RELATED = (*LIST_RELATED, "parent", "used_in__remanufacture__product")
VIN_LENGTH = 17
CODE_LENGTH = 24


def battery_list(*, actor, q: str | None = None, status: str | None = None, chemistry: str | None = None,
                 product_type: str | None = None, is_waste: bool | None = None, holder=None) -> QuerySet:
    """The batteries the actor may see, newest first. `q` is a battery code (24 characters: exact; shorter: the
    codes starting with it) or a VIN (the batteries installed in that vehicle); case does not matter."""
    qs = Battery.objects.visible_to(actor).select_related(*LIST_RELATED)
    q = ascii_upper(q)
    if len(q) == CODE_LENGTH:
        qs = qs.filter(code=q)
    elif len(q) == VIN_LENGTH:
        # 17 characters: a VIN, or (rarely) the start of a battery code. A subquery rather than a join keeps
        # each side on its own index.
        qs = qs.filter(Q(vehicle_id__in=Vehicle.objects.filter(vin=q).values("pk")) | Q(code__startswith=q))
    elif q:
        qs = qs.filter(code__startswith=q)
    if status:
        qs = qs.filter(status=status)
    if chemistry:
        qs = qs.filter(chemistry=chemistry)
    if product_type:
        qs = qs.filter(product_type=product_type)
    if is_waste is not None:
        qs = qs.filter(is_waste=is_waste)
    if holder is not None:
        qs = qs.filter(holder=holder)
    return qs.order_by("-pk")


CHILDREN_ON_CARD = 500
_CARD: tuple | None = None


_CARD_ENTERPRISE_FIELDS = ("id", "name", "uscc", "province", "roles", "status", "status_reason")


def _card_statement() -> tuple:
    """The card query (without its WHERE) and the battery's field list, built once per process.

    Holder, maker, remanufacturing record and children come as scalar subqueries rather than joins: with joins
    the planner's search over the four relations cost more than the whole execution (0.4 ms of 0.6 ms)."""
    global _CARD
    if _CARD is None:
        b_fields = tuple(f.attname for f in Battery._meta.concrete_fields)
        columns = ", ".join(f'batteries_battery."{Battery._meta.get_field(n[:-3] if n.endswith("_id") else n).column}"'
                            for n in b_fields)
        enterprise = lambda alias, fk: (  # noqa: E731
            f"(SELECT json_build_array({', '.join(f'{alias}.{n}' for n in _CARD_ENTERPRISE_FIELDS)})"
            f" FROM enterprises_enterprise {alias} WHERE {alias}.id = batteries_battery.{fk})")
        head = (f"SELECT {columns}, {enterprise('h', 'holder_id')}, {enterprise('m', 'maker_id')},"
                f" (SELECT r.id FROM batteries_remanufacture r WHERE r.product_id = batteries_battery.id),"
                f" CASE WHEN batteries_battery.product_type = 'C' THEN NULL ELSE ARRAY(SELECT c.code"
                f"   FROM batteries_battery c WHERE c.parent_id = batteries_battery.id ORDER BY c.id"
                f"   LIMIT {CHILDREN_ON_CARD + 1}) END"
                f" FROM batteries_battery")
        _CARD = (head, b_fields)
    return _CARD


def battery_get(*, actor, code: str) -> Battery:
    """One battery for its identity card — the API's hottest read (integrators look cards up by code all day).

    Who may see it is decided by Battery.objects.visible_to, as everywhere: its compiled WHERE clause (or, when it
    needs joins, its query as a subquery). The row, its holder and maker, its remanufacturing record and the codes
    of its first modules or cells then come back in one statement, built into model instances directly (the ORM's
    per-query compilation of a four-way select_related cost several times the query itself)."""
    from apps.enterprises.models import Enterprise

    from apps.batteries.querysets import visible_battery_id_sql, visible_battery_predicate

    head, b_fields = _card_statement()
    predicate = visible_battery_predicate(actor, ascii_upper(code))
    if predicate is not None:
        sql, params = f"{head} WHERE {predicate[0]}", predicate[1]
    else:
        visible_sql, params = visible_battery_id_sql(actor, ascii_upper(code))
        sql = f"{head} WHERE batteries_battery.id = ({visible_sql})"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise NotFound()
    db = connection.alias
    i = len(b_fields)
    battery = Battery.from_db(db, b_fields, row[:i])
    holder, maker, remanufacture_id, children = row[i:i + 4]
    battery.holder = Enterprise.from_db(db, _CARD_ENTERPRISE_FIELDS, holder)
    battery.maker = Enterprise.from_db(db, _CARD_ENTERPRISE_FIELDS, maker)
    record = Remanufacture.objects.get(pk=remanufacture_id) if remanufacture_id is not None else None
    Battery.remanufacture.related.set_cached_value(battery, record)
    battery._children_codes = list(children or [])
    attach_card_relations(battery)
    return battery


def attach_card_relations(battery: Battery) -> None:
    from apps.enterprises.models import Enterprise

    if not Battery.holder.is_cached(battery) or not Battery.maker.is_cached(battery):
        enterprises = Enterprise.objects.in_bulk({battery.holder_id, battery.maker_id})
        battery.holder, battery.maker = enterprises[battery.holder_id], enterprises[battery.maker_id]
    battery.transit_to = Enterprise.objects.get(pk=battery.transit_to_id) if battery.transit_to_id else None
    battery.vehicle = Vehicle.objects.get(pk=battery.vehicle_id) if battery.vehicle_id else None
    battery.parent = Battery.objects.get(pk=battery.parent_id) if battery.parent_id else None
    if battery.status != BatteryStatus.REMANUFACTURED:
        # Only a battery used in a remanufactured product has a `used_in` link: say so without a query.
        Battery.used_in.related.set_cached_value(battery, None)
    else:
        from apps.batteries.models import RemanufactureSource

        link = RemanufactureSource.objects.select_related("remanufacture__product").filter(source=battery).first()
        Battery.used_in.related.set_cached_value(battery, link)





def battery_public_get(*, code: str) -> Battery:
    """Any registered battery, for the public tier of its card (which shows no holder, vehicle or event)."""
    battery = Battery.objects.select_related("maker").filter(code=ascii_upper(code)).first()
    if battery is None:
        raise NotFound()
    return battery


def battery_remanufacture(battery: Battery) -> Remanufacture | None:
    """The remanufacturing record that produced `battery`, with its sources, or None (no query when the card's
    lookup already found there is none)."""
    if Battery.remanufacture.is_cached(battery):
        try:
            record = battery.remanufacture
        except Remanufacture.DoesNotExist:
            return None
        if record is None:
            return None
    return Remanufacture.objects.filter(product=battery).prefetch_related("sources__source").first()


def codes_hidden_from(*, actor, codes: list[str]) -> bool:
    """True when one of `codes` is registered but not visible to the actor: the page answers 404, as if unknown."""
    codes = [c for c in codes if c]
    if not codes:
        return False
    visible = Battery.objects.visible_to(actor).filter(code__in=codes).values("pk")
    return Battery.objects.filter(code__in=codes).exclude(pk__in=visible).exists()


def incoming_list(*, actor) -> QuerySet:
    """Batteries handed over to the actor's enterprise and waiting to be received or refused, oldest first."""
    enterprise = actor.enterprise
    if enterprise is None:
        return Battery.objects.none()
    return (Battery.objects.filter(status=BatteryStatus.IN_TRANSIT, transit_to=enterprise)
            .select_related("holder", "maker").order_by("updated_at", "pk"))


def _own_imports(actor) -> QuerySet:
    enterprise = actor.enterprise
    if enterprise is None:
        return BulkImport.objects.none()
    return BulkImport.objects.filter(enterprise=enterprise)


def bulk_import_list(*, actor) -> QuerySet:
    """The enterprise's imports, newest first (without the stored errors, which only the detail page shows)."""
    return _own_imports(actor).select_related("created_by").defer("errors").order_by("-created_at", "-pk")


def bulk_import_get(*, actor, pk) -> BulkImport:
    try:
        return _own_imports(actor).get(pk=pk)
    except (BulkImport.DoesNotExist, ValueError, TypeError):
        raise NotFound()


def recipient_suggestions(*, actor, q: str | None) -> list[dict]:
    """The handover recipients matching `q` (the start of a unified social credit code, or part of a name), at most
    RECIPIENT_SUGGESTIONS, for the hand-over page's search box. The portal's directory of active enterprises of the
    receiving roles (rules.RECEIVING_ROLES) — what anyone handing a battery on must be able to name, like the public
    list of licensed recyclers — never the actor's own enterprise; name and credit code only. Fewer than
    RECIPIENT_QUERY_MIN characters suggest nothing (no browsing of the whole directory)."""
    from apps.batteries.rules import RECEIVING_ROLES
    from apps.enterprises.models import Enterprise

    q = (q or "").strip()[:100]
    if len(q) < RECIPIENT_QUERY_MIN:
        return []
    code = ascii_upper(q)
    match = Q(name__icontains=q)
    if code.isalnum() and code.isascii():
        match |= Q(uscc__startswith=code)
    own = actor.enterprise.pk if getattr(actor, "enterprise", None) else None
    rows = (Enterprise.objects.active().filter(match, roles__overlap=sorted(RECEIVING_ROLES)).exclude(pk=own)
            .order_by("name", "pk").values("uscc", "name", "province")[:RECIPIENT_SUGGESTIONS])
    return list(rows)
