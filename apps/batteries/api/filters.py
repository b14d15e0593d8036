"""Filters of GET /api/v1/batteries/, applied after tenant scoping (Battery.objects.visible_to).

The help texts document the API schema, which is in English like the rest of the schema.
"""
from __future__ import annotations

import datetime as dt

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from apps.batteries.models import BatteryStatus, ProductType, Vehicle
from apps.core.choices import Chemistry
from apps.core.text import ascii_upper


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 time compared in UTC. Python accepts UTC offsets up to ±23:59 but PostgreSQL only up to ±15:59,
    so a time like 2026-01-01T00:00-17:00 would otherwise fail in the database (a 500) instead of filtering."""

    def filter(self, qs, value):
        if value is not None and value.tzinfo is not None:
            try:
                value = value.astimezone(dt.timezone.utc)
            except OverflowError:  # beyond year 1 or 9999 once in UTC
                from rest_framework.exceptions import ValidationError

                raise ValidationError({self.field_name: "Out of range."}) from None
        return super().filter(qs, value)


class BatteryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=BatteryStatus.choices, help_text="Lifecycle status.")
    chemistry = filters.ChoiceFilter(choices=Chemistry.choices, help_text="Battery type (code position 5).")
    product_type = filters.ChoiceFilter(choices=ProductType.choices,
                                        help_text="P pack, M module, C cell (code position 4).")
    is_waste = filters.BooleanFilter(help_text="true: declared waste; false: not declared waste.")
    holder = filters.NumberFilter(field_name="holder_id", help_text="Id of the holding enterprise.")
    vin = filters.CharFilter(method="filter_vin", max_length=17,
                             help_text="The batteries installed in the vehicle with this VIN.")
    code_prefix = filters.CharFilter(method="filter_code_prefix", max_length=24,
                                     help_text="Battery codes starting with this (e.g. a manufacturer code).")
    registered_after = UtcIsoDateTimeFilter(field_name="registered_at", lookup_expr="gte",
                                                 help_text="Registered at or after this time (ISO 8601).")
    registered_before = UtcIsoDateTimeFilter(field_name="registered_at", lookup_expr="lt",
                                                  help_text="Registered before this time (ISO 8601).")

    def filter_vin(self, queryset, name, value):
        # A subquery rather than a join keeps each side on its own index.
        return queryset.filter(vehicle_id__in=Vehicle.objects.filter(vin=ascii_upper(value)).values("pk"))

    def filter_code_prefix(self, queryset, name, value):
        return queryset.filter(code__startswith=ascii_upper(value))


_TYPES = {
    filters.BooleanFilter: OpenApiTypes.BOOL,
    filters.NumberFilter: OpenApiTypes.INT,
    filters.IsoDateTimeFilter: OpenApiTypes.DATETIME,
    UtcIsoDateTimeFilter: OpenApiTypes.DATETIME,
}


def openapi_parameters(filterset_class) -> list[OpenApiParameter]:
    """The query parameters of a FilterSet, for @extend_schema on a plain APIView."""
    parameters = []
    for name, field in filterset_class.base_filters.items():
        choices = field.extra.get("choices")
        parameters.append(OpenApiParameter(
            name, _TYPES.get(type(field), OpenApiTypes.STR), OpenApiParameter.QUERY, required=False,
            enum=[value for value, _label in choices] if choices else None,
            description=str(field.extra.get("help_text", "")),
        ))
    return parameters
