"""Turning identifier problems into messages a clerk can act on: what, where (position, character) and which rule."""
from __future__ import annotations

from django.utils.translation import gettext as _

from apps.batteries.codes import CodeProblem
from apps.batteries.vin import VinProblem


def battery_code_message(code: str, problem: CodeProblem) -> str:
    rule = {
        "length": _("a GB/T 34014 code has 24 characters"),
        "character": _("only digits 0-9 and upper-case letters A-Z are allowed"),
        "product_type": _("position 4 is the product type: P (pack), M (module) or C (cell)"),
        "battery_type": _("position 5 is the battery type: B, E, A, C, D, F, G or Z"),
        "year_code": _("position 15 is the production year code"),
        "month_code": _("position 16 is the production month: 1-9, A (10), B (11), C (12)"),
        "day_code": _("position 17 is the production day code"),
        "impossible_date": _("positions 15-17 must give a real date"),
        "future_date": _("the production date cannot be in the future"),
        "serial": _("positions 18-24 are the serial number 0000001-9999999"),
    }.get(problem.rule, problem.rule)
    if problem.rule == "length":
        return _("Battery code %(code)s has %(n)d characters: %(rule)s (GB/T 34014).") % {
            "code": code, "n": len(code), "rule": rule}
    if problem.rule in ("impossible_date", "future_date"):
        return _("Battery code %(code)s: %(detail)s — %(rule)s (GB/T 34014).") % {
            "code": code, "detail": problem.detail, "rule": rule}
    return _("Battery code %(code)s: character %(char)s at position %(pos)d is not allowed — %(rule)s (GB/T 34014).") % {
        "code": code, "char": repr(problem.character), "pos": problem.position, "rule": rule}


def vin_message(vin: str, problem: VinProblem) -> str:
    if problem.rule == "length":
        return _("VIN %(vin)s has %(n)d characters; a VIN has 17 (GB 16735).") % {"vin": vin, "n": len(vin)}
    if problem.rule == "character":
        return _("VIN %(vin)s: character %(char)s at position %(pos)d is not allowed (digits and capital letters "
                 "except I, O, Q; GB 16735).") % {"vin": vin, "char": repr(problem.character), "pos": problem.position}
    return _("VIN %(vin)s: check digit at position 9 is %(found)s but should be %(expected)s (GB 16735).") % {
        "vin": vin, "found": problem.character, "expected": problem.expected}
