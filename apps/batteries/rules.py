"""Pure lifecycle rules (no ORM): which enterprise role may do what, and the remanufacturing ban.

The services load rows, lock them and call these; the same functions decide for forms, the API and bulk files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Which enterprise roles may perform each operation (DOMAIN.md, actors table).
OPERATION_ROLES: dict[str, frozenset[str]] = {
    "register": frozenset({"battery_maker"}),
    "install": frozenset({"vehicle_maker", "swap_operator", "repairer"}),
    "swap": frozenset({"swap_operator"}),
    "replace": frozenset({"repairer"}),
    "remove": frozenset({"dismantler"}),
    "declare_waste": frozenset({"battery_maker", "vehicle_maker", "swap_operator", "repairer", "collection_point",
                                "dismantler", "recycler"}),
    "hand_over": frozenset({"battery_maker", "vehicle_maker", "swap_operator", "repairer", "collection_point",
                            "dismantler", "recycler"}),
    "recycle": frozenset({"recycler"}),
    "remanufacture": frozenset({"recycler"}),
}

# The roles of the enterprises a battery may be handed to: every role that takes part in handovers (makers take
# returns, a repairer or swap operator its stock, a collection point, dismantler or recycler waste). The recipient
# search suggests only active enterprises of these roles; the service's checks (rule 3 for a waste battery) decide.
RECEIVING_ROLES = OPERATION_ROLES["hand_over"]
# A waste battery may go only to these without a licence check (DOMAIN.md rule 3: otherwise a licensed recycler).
WASTE_RECIPIENT_ROLES_WITHOUT_LICENCE = frozenset({"collection_point"})
RECYCLING_SCOPES = ("hydrometallurgy", "pyrometallurgy", "dismantling")
HANDOVER_SCOPE = "dismantling"
REMANUFACTURE_SCOPE = "repurposing"

# Fields of use where products made from waste batteries are banned (DOMAIN.md rule 2). A setting may extend it
# (BANNED_FIELDS_OF_USE) when a law or mandatory standard bans another field.
DEFAULT_BANNED_FIELDS = frozenset({"electric_bicycle"})
STANDARD_NUMBER_RE = re.compile(r"^(GB|GB/T|GB/Z|QC/T|YD/T|NB/T|T/[A-Z]+|JB/T|SJ/T|DL/T|IEC|ISO|UL)\s?[0-9][0-9.]*(-[0-9]{4})?$")


@dataclass(frozen=True)
class Refusal:
    code: str
    rule: str  # human reference to the rule broken, e.g. "DOMAIN.md rule 2"


def role_allows(operation: str, roles: list[str] | tuple[str, ...]) -> bool:
    return bool(OPERATION_ROLES[operation].intersection(roles or ()))


def banned_fields() -> frozenset[str]:
    try:
        from django.conf import settings

        extra = getattr(settings, "BANNED_FIELDS_OF_USE", ())
    except Exception:
        extra = ()
    return DEFAULT_BANNED_FIELDS | frozenset(extra)


def remanufacture_field_refusal(field_of_use: str) -> Refusal | None:
    """Rule 2 (no more cascade use): waste batteries may never go into electric bicycles or a banned field."""
    if field_of_use in banned_fields():
        return Refusal("field_of_use_banned", "Interim Measures 2026, rule 2 (DOMAIN.md): banned field of use")
    return None


def standard_number_ok(number: str) -> bool:
    """A declared quality standard looks like 'GB/T 36276-2018' or 'T/CAS 123-2024'."""
    return bool(STANDARD_NUMBER_RE.match((number or "").strip()))
