"""`{% export_url "csv" %}`: the current list's URL with its filters, asking for the export (apps.core.exports)."""
from django import template

from apps.core.exports import PARAM

register = template.Library()


@register.simple_tag(takes_context=True)
def export_url(context, fmt: str) -> str:
    request = context["request"]
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("cursor", None)
    params[PARAM] = fmt
    return f"{request.path}?{params.urlencode()}"
