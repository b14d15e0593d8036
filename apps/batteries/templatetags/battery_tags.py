from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def quantity(value) -> str:
    """A stored decimal without its padding zeros: 75.500 → 75.5, 100.000 → 100 (never 1E+2)."""
    if value is None or value == "":
        return ""
    return format(Decimal(value).normalize(), "f")
