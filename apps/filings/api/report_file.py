"""POST /api/v1/filings/monthly-reports/file/: monthly reports from a CSV or XLSX file (apps.filings.report_file)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api_views import IdempotentAPIView
from apps.enterprises.api.views import ErrorSerializer
from apps.filings.report_file import ReportFileRejected, monthly_report_file_apply


class ReportFileInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8 or GBK) or XLSX: a header row, then one row per month: month "
                                           "(YYYY-MM) and the count columns named like the monthly report's fields.")


class ReportFileRowOutput(serializers.Serializer):
    row = serializers.IntegerField()
    month = serializers.DateField()
    filing_id = serializers.IntegerField(source="filing.pk")
    action = serializers.ChoiceField(choices=["created", "corrected"])


class ReportFileResultOutput(serializers.Serializer):
    results = ReportFileRowOutput(many=True)


class ReportFileErrorItem(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, required=False)
    column = serializers.CharField(allow_null=True, required=False, help_text="The field name, e.g. produced.")
    rule = serializers.CharField(required=False, help_text="e.g. negative, not_whole, month_in_future, "
                                                           "month_approved, month_duplicate, file")
    message = serializers.CharField()


class ReportFileErrorOutput(serializers.Serializer):
    """A refused file: `errors` lists every problem by row, column and rule (other 400s, e.g. a missing file or a
    malformed Idempotency-Key, have the API's usual error shape)."""

    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    errors = ReportFileErrorItem(many=True, required=False)


class MonthlyReportFileAPI(IdempotentAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ReportFileInput},
                   responses={201: ReportFileResultOutput, 400: ReportFileErrorOutput, 403: ErrorSerializer},
                   summary="Create or correct monthly reports from a file, all or nothing")
    def post(self, request):
        serializer = ReportFileInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            results = monthly_report_file_apply(actor=request.user, upload=serializer.validated_data["file"])
        except ReportFileRejected as exc:
            return Response({"code": exc.code, "message": str(exc.message), "field": exc.field,
                             "errors": [e.as_dict() for e in exc.errors]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ReportFileResultOutput({"results": results}).data, status=status.HTTP_201_CREATED)
