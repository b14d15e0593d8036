"""Discrepancies over /api/v1/: an enterprise reads its own, a reviewer those of the provinces they review.

Read-only here: an enterprise explains one through the filings API (/api/v1/filings/explanations/), a reviewer
resolves or escalates it through the enforcement API. Another enterprise's discrepancy never appears: the list
starts from Discrepancy.objects.visible_to.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Province
from apps.core.errors import DomainError, ErrorCode
from apps.core.pagination import CursorPagination
from apps.enterprises.api.views import ErrorSerializer
from apps.reconciliation import selectors
from apps.reconciliation.models import Check, DiscrepancyStatus, Severity


class DiscrepancyEnterpriseRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    province = serializers.ChoiceField(choices=Province.choices)


class DiscrepancyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    enterprise = DiscrepancyEnterpriseRef()
    period = serializers.DateField(allow_null=True, help_text="First day of the month concerned; null if not monthly.")
    check = serializers.ChoiceField(source="kind", choices=Check.choices)
    figure = serializers.CharField()
    subject = serializers.CharField()
    expected = serializers.IntegerField()
    found = serializers.IntegerField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    status = serializers.ChoiceField(choices=DiscrepancyStatus.choices)
    codes = serializers.ListField(child=serializers.CharField(), help_text="The first battery codes behind it.")
    code_count = serializers.IntegerField(help_text="How many batteries are behind it in all.")
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


FILTERS = [
    OpenApiParameter("check", OpenApiTypes.STR, enum=Check.values),
    OpenApiParameter("severity", OpenApiTypes.STR, enum=Severity.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=DiscrepancyStatus.values, description="Default: open."),
]


class _DiscrepancyList(IdempotentAPIView):
    pagination_class = CursorPagination
    side = ""

    def _respond(self, request, **filters):
        user = request.user
        regulator = user.kind in ("reviewer", "admin")
        if (self.side == "reviewer") != regulator or (self.side == "company" and user.membership is None):
            raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403,
                              message=_("Only reviewers use this endpoint.") if self.side == "reviewer"
                              else _("Only enterprise staff use this endpoint."))
        get = request.query_params
        status = get.get("status") if get.get("status") in DiscrepancyStatus.values else DiscrepancyStatus.OPEN
        qs = selectors.discrepancy_list(actor=user, kind=get.get("check"), severity=get.get("severity"),
                                        status=status, **filters)
        paginator = self.pagination_class()
        paginator.ordering = "-id"
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(DiscrepancyOutput(page, many=True).data)


class DiscrepancyListAPI(_DiscrepancyList):
    side = "company"

    @extend_schema(parameters=FILTERS, responses={200: DiscrepancyOutput(many=True), 403: ErrorSerializer},
                   summary="Your enterprise's discrepancies, newest first")
    def get(self, request):
        return self._respond(request)


class DiscrepancyReviewListAPI(_DiscrepancyList):
    side = "reviewer"

    @extend_schema(parameters=[*FILTERS, OpenApiParameter("enterprise", OpenApiTypes.INT),
                               OpenApiParameter("province", OpenApiTypes.STR, enum=Province.values)],
                   responses={200: DiscrepancyOutput(many=True), 403: ErrorSerializer},
                   summary="Discrepancies of the enterprises in your provinces, newest first")
    def get(self, request):
        get = request.query_params
        enterprise = get.get("enterprise", "")
        return self._respond(request, enterprise=int(enterprise) if enterprise.isdigit() and len(enterprise) < 12
                             else None, province=get.get("province") if get.get("province") in Province.values
                             else None)


class DiscrepancyDetailAPI(IdempotentAPIView):
    @extend_schema(responses={200: DiscrepancyOutput, 404: ErrorSerializer},
                   summary="One discrepancy (yours, or in your provinces)")
    def get(self, request, pk: int):
        from rest_framework.response import Response

        return Response(DiscrepancyOutput(selectors.discrepancy_get(actor=request.user, pk=pk)).data)
