"""Reporting deadlines over /api/v1/: what is due and overdue for the caller's enterprise, the late-reported
battery codes behind a count, and (reviewers) overdue reports and late-reported events across enterprises.
Thin views over apps.deadlines.selectors; lists are paginated by page number (?page=, ?page_size= up to 500)."""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.batteries.models import EventKind
from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Province
from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.deadlines import selectors
from apps.deadlines.forms import DEADLINE_KINDS
from apps.deadlines.rules import PERIODIC_REPORTS
from apps.filings.models import FilingKind
from apps.enterprises.api.views import ErrorSerializer

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
KIND_CHOICES = [(k, label) for k, label in EventKind.choices if k in DEADLINE_KINDS]
REPORT_KIND_CHOICES = [(k, label) for k, label in FilingKind.choices if k in PERIODIC_REPORTS]


def _require_company(request):
    if request.user.kind != "company" or request.user.membership is None:
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403,
                          message=_("Only enterprise staff use this endpoint."))


def _require_regulator(request):
    if request.user.kind not in ("reviewer", "admin"):
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403, message=_("Only reviewers use this endpoint."))


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class PageInput(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)


def _page(rows, data: dict, serializer_class) -> dict:
    size, number = data["page_size"], data["page"]
    start = (number - 1) * size
    return {"count": rows.count(), "page": number, "page_size": size,
            "results": serializer_class(rows[start:start + size], many=True).data}


def _paged(name: str, item):
    return type(name, (serializers.Serializer,), {
        "count": serializers.IntegerField(), "page": serializers.IntegerField(),
        "page_size": serializers.IntegerField(), "results": item(many=True)})


def _month(value: str):
    from apps.filings.report_file import parse_month

    return parse_month(value)


class MonthField(serializers.CharField):
    def to_internal_value(self, data):
        month = _month(str(data))
        if month is None:
            raise serializers.ValidationError(_("Give the month as YYYY-MM, e.g. 2026-04."))
        return month


# --- output ---------------------------------------------------------------------------------------------------


class MonthlyReportDueOutput(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month the report covers.")
    due_date = serializers.DateField()
    state = serializers.ChoiceField(choices=["upcoming", "due", "overdue", "on_time", "late"])
    days_late = serializers.IntegerField()
    filing_id = serializers.IntegerField(source="filing.pk", allow_null=True, default=None)
    filing_status = serializers.CharField(source="filing.status", allow_null=True, default=None)


class LateEventCountOutput(serializers.Serializer):
    enterprise_id = serializers.IntegerField()
    enterprise_name = serializers.CharField()
    province = serializers.ChoiceField(choices=Province.choices)
    month = serializers.DateField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    late = serializers.IntegerField(help_text="Events recorded after their reporting deadline.")
    max_days_late = serializers.IntegerField(help_text="Calendar days past the deadline of the latest one.")


class DueOutput(serializers.Serializer):
    monthly_reports = MonthlyReportDueOutput(many=True)
    certificates_handover_open = serializers.IntegerField(
        help_text="Scrapping certificates whose batteries are still to be handed on (dismantlers).")
    certificates_handover_late = serializers.IntegerField(help_text="Of those, past the handover deadline.")
    incoming_awaiting_receipt = serializers.IntegerField(help_text="Batteries handed over to you, not yet received.")
    late_events = LateEventCountOutput(many=True, help_text="Late-reported events of the last 12 months.")


class LateEventOutput(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    deadline = serializers.DateField()
    days_late = serializers.IntegerField()


class OverdueReportOutput(serializers.Serializer):
    enterprise_id = serializers.IntegerField()
    enterprise_name = serializers.CharField()
    province = serializers.ChoiceField(choices=Province.choices)
    kind = serializers.ChoiceField(choices=REPORT_KIND_CHOICES)
    month = serializers.DateField()
    due_date = serializers.DateField()
    days_late = serializers.IntegerField()
    filing_id = serializers.IntegerField(allow_null=True, help_text="The unsubmitted draft, if any.")


LateEventPage = _paged("LateEventPage", LateEventOutput)
OverdueReportPage = _paged("OverdueReportPage", OverdueReportOutput)
LateEventCountPage = _paged("LateEventCountPage", LateEventCountOutput)


# --- input ----------------------------------------------------------------------------------------------------


class LateEventsInput(PageInput):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    month = MonthField(help_text="YYYY-MM")
    enterprise = serializers.IntegerField(required=False, min_value=1,
                                          help_text="Reviewers: the enterprise (company staff: always their own).")


class OverdueScopeInput(PageInput):
    province = serializers.ChoiceField(choices=Province.choices, required=False)
    enterprise = serializers.IntegerField(required=False, min_value=1)


class OverdueInput(OverdueScopeInput):
    kind = serializers.ChoiceField(choices=REPORT_KIND_CHOICES, required=False)


class OverdueEventsInput(OverdueScopeInput):
    kind = serializers.ChoiceField(choices=KIND_CHOICES, required=False)
    month = MonthField(required=False, help_text="YYYY-MM; default: the previous month.")


# --- views ----------------------------------------------------------------------------------------------------


class DueAPI(IdempotentAPIView):
    @extend_schema(responses={200: DueOutput, 403: ErrorSerializer},
                   summary="What is due and overdue for your enterprise")
    def get(self, request):
        from apps.batteries.selectors import incoming_list
        from apps.scrapping import selectors as scrapping_selectors

        _require_company(request)
        enterprise = request.user.enterprise
        first, end = selectors.late_window()
        is_dismantler = "dismantler" in enterprise.roles
        late = selectors.late_event_summary(actor=request.user, first_month=first, end_month=end,
                                            enterprise=enterprise.pk)
        return Response(DueOutput({
            "monthly_reports": selectors.monthly_report_schedule(enterprise=enterprise),
            "certificates_handover_open": scrapping_selectors.certificate_list(
                actor=request.user, deadline="open").count() if is_dismantler else 0,
            "certificates_handover_late": scrapping_selectors.certificate_list(
                actor=request.user, deadline="overdue").count() if is_dismantler else 0,
            "incoming_awaiting_receipt": incoming_list(actor=request.user).count(),
            "late_events": late[0:500],
        }).data)


class LateEventsAPI(IdempotentAPIView):
    @extend_schema(parameters=[LateEventsInput], responses={200: LateEventPage, **ERRORS},
                   summary="The battery codes of the events of one kind and month that were reported late")
    def get(self, request):
        from apps.enterprises.models import Enterprise

        data = _valid(LateEventsInput, request.query_params)
        if request.user.kind == "company":
            _require_company(request)
            enterprise_id = request.user.membership.enterprise_id
        else:
            enterprise_id = data.get("enterprise")
        if not enterprise_id or not Enterprise.objects.visible_to(request.user).filter(pk=enterprise_id).exists():
            raise NotFound()
        rows = selectors.late_event_list(actor=request.user, enterprise=enterprise_id, kind=data["kind"],
                                         month=data["month"])
        return Response(_page(rows, data, LateEventOutput))


class OverdueReportsAPI(IdempotentAPIView):
    @extend_schema(parameters=[OverdueInput], responses={200: OverdueReportPage, **ERRORS},
                   summary="Monthly and recovery reports past their due date in your provinces, most overdue first")
    def get(self, request):
        _require_regulator(request)
        data = _valid(OverdueInput, request.query_params)
        rows = selectors.overdue_reports(actor=request.user, province=data.get("province"),
                                         enterprise=data.get("enterprise"), kind=data.get("kind"))
        return Response(_page(rows, data, OverdueReportOutput))


class OverdueEventsAPI(IdempotentAPIView):
    @extend_schema(parameters=[OverdueEventsInput], responses={200: LateEventCountPage, **ERRORS},
                   summary="Late-reported events of one month per enterprise and kind in your provinces, latest first")
    def get(self, request):
        _require_regulator(request)
        data = _valid(OverdueEventsInput, request.query_params)
        month = data.get("month") or selectors.previous_month(timezone.localdate())
        first, end = month, selectors.next_month(month)
        rows = selectors.late_event_summary(actor=request.user, first_month=first, end_month=end,
                                            province=data.get("province"), enterprise=data.get("enterprise"),
                                            kind=data.get("kind"))
        return Response(_page(rows, data, LateEventCountOutput))
