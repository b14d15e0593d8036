"""Filings over /api/v1/: the enterprise files and corrects its monthly reports, the reviewer works the queue.

Thin views over apps.filings.services and selectors. Input serializers check shape; counts are passed through
as given so that the service names the rule a bad count breaks. A filing the caller may not see is a 404.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Province
from apps.core.errors import DomainError, ErrorCode
from apps.core.pagination import CursorPagination
from apps.enterprises.api.views import ErrorSerializer
from apps.filings import rules, selectors, services
from apps.filings.models import MONTHLY_COUNT_FIELDS, Filing, FilingKind, FilingStatus

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _require(request, side: str) -> None:
    user = request.user
    is_regulator = user.kind in ("reviewer", "admin")
    if (side == rules.REVIEWER) != is_regulator or (side == rules.COMPANY and user.membership is None):
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403,
                          message=_("Only reviewers use this endpoint.") if side == rules.REVIEWER
                          else _("Only enterprise staff use this endpoint."))


# --- output ---------------------------------------------------------------------------------------------------


class FilingEnterpriseRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MonthlyCountsOutput(serializers.Serializer):
    produced = serializers.IntegerField()
    installed = serializers.IntegerField()
    swapped_in = serializers.IntegerField()
    swapped_out = serializers.IntegerField()
    replaced = serializers.IntegerField()
    removed = serializers.IntegerField()
    handed_over = serializers.IntegerField()
    received = serializers.IntegerField()
    recycled = serializers.IntegerField()
    remanufactured = serializers.IntegerField()
    in_stock = serializers.IntegerField()


class FilingListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=FilingKind.choices)
    status = serializers.ChoiceField(choices=FilingStatus.choices)
    enterprise = FilingEnterpriseRef()
    province = serializers.ChoiceField(choices=Province.choices)
    period = serializers.DateField(allow_null=True, help_text="First day of the month a monthly report covers.")
    due_date = serializers.DateField(allow_null=True)
    is_overdue = serializers.BooleanField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


class TransitionOutput(serializers.Serializer):
    action = serializers.CharField()
    from_status = serializers.ChoiceField(choices=FilingStatus.choices)
    to_status = serializers.ChoiceField(choices=FilingStatus.choices)
    actor = serializers.CharField(source="actor.username")
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class CommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username")
    body = serializers.CharField()
    attachment_name = serializers.CharField()
    created_at = serializers.DateTimeField()


class LicenceApplicationOutput(serializers.Serializer):
    number = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    chemistries = serializers.ListField(child=serializers.CharField())
    annual_capacity_tonnes = serializers.DecimalField(max_digits=12, decimal_places=3)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    address = serializers.CharField()
    document_name = serializers.CharField()
    licence = serializers.IntegerField(source="licence_id", allow_null=True, help_text="The licence granted.")


class RegistrationContentOutput(serializers.Serializer):
    enterprise = serializers.IntegerField(source="enterprise_id")
    uscc = serializers.CharField(source="enterprise.uscc")
    enterprise_status = serializers.CharField(source="enterprise.status")


class MismatchDecisionOutput(serializers.Serializer):
    intake = serializers.IntegerField(source="intake_id")
    vin = serializers.CharField(source="intake.vin")
    intake_status = serializers.CharField(source="intake.status")
    explanation = serializers.CharField(source="intake.explanation")


class FilingDetailOutput(FilingListOutput):
    counts = serializers.SerializerMethodField()
    licence_application = serializers.SerializerMethodField()
    registration = serializers.SerializerMethodField()
    mismatch_decision = serializers.SerializerMethodField()
    transitions = TransitionOutput(many=True)
    comments = CommentOutput(many=True)

    @extend_schema_field(LicenceApplicationOutput(allow_null=True))
    def get_licence_application(self, filing) -> dict | None:
        if filing.kind != FilingKind.LICENCE_APPLICATION:
            return None
        return LicenceApplicationOutput(filing.licence_application).data

    @extend_schema_field(RegistrationContentOutput(allow_null=True))
    def get_registration(self, filing) -> dict | None:
        if filing.kind != FilingKind.ENTERPRISE_REGISTRATION:
            return None
        return RegistrationContentOutput(filing.registration).data

    @extend_schema_field(MismatchDecisionOutput(allow_null=True))
    def get_mismatch_decision(self, filing) -> dict | None:
        if filing.kind != FilingKind.MISMATCH_DECISION:
            return None
        return MismatchDecisionOutput(filing.mismatch_decision).data

    @extend_schema_field(MonthlyCountsOutput(allow_null=True))
    def get_counts(self, filing) -> dict | None:
        if filing.kind != FilingKind.MONTHLY_REPORT:
            return None
        return filing.monthly_report.counts()


def _detail(filing: Filing, code=status.HTTP_200_OK) -> Response:
    filing = Filing.objects.select_related("enterprise", "assigned_to", "monthly_report").prefetch_related(
        "transitions__actor", "comments__author").get(pk=filing.pk)
    return Response(FilingDetailOutput(filing).data, status=code)


def _paginate(view, queryset, request, ordering: str):
    paginator = view.pagination_class()
    paginator.ordering = ordering
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(FilingListOutput(page, many=True).data)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- input ----------------------------------------------------------------------------------------------------


class MonthlyReportInput(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM: the month the counts cover.")
    # Any JSON value: the service says which count is wrong and why (negative, not a whole number).
    counts = serializers.DictField(child=serializers.JSONField(), help_text=(
        "Non-negative whole numbers: " + ", ".join(name for name, _kind in MONTHLY_COUNT_FIELDS) + ". Missing = 0."))


class CountsInput(serializers.Serializer):
    counts = serializers.DictField(child=serializers.JSONField())


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=4000)
    attachment = serializers.FileField(required=False, help_text="PDF, JPEG or PNG.")


class OptionalCommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class RequiredCommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="",
                                    help_text="Required: say why.")


class AssignInput(serializers.Serializer):
    reviewer = serializers.IntegerField(help_text="The user id of the reviewer.")


class QueueFilterInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FilingKind.choices, required=False)
    province = serializers.ChoiceField(choices=Province.choices, required=False)
    enterprise = serializers.IntegerField(required=False, min_value=1)
    status = serializers.CharField(required=False, help_text="One of: " + ", ".join(rules.OPEN_STATUSES) + ".")
    older_than_days = serializers.IntegerField(required=False, min_value=0, max_value=3650)


# --- the enterprise's endpoints -----------------------------------------------------------------------------------


class FilingListAPI(IdempotentAPIView):
    pagination_class = CursorPagination

    @extend_schema(responses={200: FilingListOutput(many=True), 403: ErrorSerializer},
                   summary="Your enterprise's filings, newest first (reviewers: every filing they may see)")
    def get(self, request):
        return _paginate(self, selectors.filing_list(actor=request.user), request, "-id")


class MonthlyReportCreateAPI(IdempotentAPIView):
    @extend_schema(request=MonthlyReportInput, responses={201: FilingDetailOutput, **ERRORS},
                   summary="Create a draft monthly pack-count report")
    def post(self, request):
        _require(request, rules.COMPANY)
        data = _valid(MonthlyReportInput, request.data)
        return _detail(services.monthly_report_create(actor=request.user, month=data["month"],
                                                      counts=data["counts"]), status.HTTP_201_CREATED)


class FilingDetailAPI(IdempotentAPIView):
    @extend_schema(responses={200: FilingDetailOutput, 404: ErrorSerializer}, summary="One filing with its history")
    def get(self, request, pk: int):
        return _detail(selectors.filing_get(actor=request.user, pk=pk))

    @extend_schema(request=CountsInput, responses={200: FilingDetailOutput, **ERRORS},
                   summary="Correct the counts of a draft or of a report returned for correction")
    def patch(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(CountsInput, request.data)
        return _detail(services.monthly_report_update(actor=request.user, filing_id=filing.pk, counts=data["counts"]))


class FilingSubmitAPI(IdempotentAPIView):
    @extend_schema(request=None, responses={200: FilingDetailOutput, **ERRORS}, summary="Submit a draft for review")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        return _detail(services.filing_submit(actor=request.user, filing_id=filing.pk))


class FilingResubmitAPI(IdempotentAPIView):
    @extend_schema(request=OptionalCommentInput, responses={200: FilingDetailOutput, **ERRORS},
                   summary="Resubmit a filing returned for correction")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(OptionalCommentInput, request.data)
        return _detail(services.filing_resubmit(actor=request.user, filing_id=filing.pk, comment=data["comment"]))


class FilingCommentsAPI(IdempotentAPIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=CommentInput, responses={201: CommentOutput, **ERRORS},
                   summary="Add to the comment thread (enterprise or reviewer)")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(CommentInput, request.data)
        comment = services.filing_comment_add(actor=request.user, filing_id=filing.pk, body=data["body"],
                                              attachment=data.get("attachment"))
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


# --- the reviewers' endpoints -------------------------------------------------------------------------------------


class FilingQueueOutput(FilingListOutput):
    flags = serializers.ListField(child=serializers.CharField(), help_text=(
        "Why the portal flagged the filing (e.g. ledger_mismatch, below_threshold, impossible_yield)."))
    risk = serializers.IntegerField(help_text="4 × overdue + 2 × flagged + 1 × repeat offender: the default order.")
    risk_reasons = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(rules.RISK_WEIGHTS))))
    def get_risk_reasons(self, filing) -> list[str]:
        return rules.risk_reasons(filing.risk)


class FilingQueuePage(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="The URL of the next page, or null on the last.")
    previous = serializers.CharField(allow_null=True, help_text="Always null: the queue is read forwards.")
    results = FilingQueueOutput(many=True)


class QueueSortInput(QueueFilterInput):
    search = serializers.CharField(required=False, max_length=100,
                                   help_text="Enterprise name (contains) or unified social credit code (starts with).")
    sort = serializers.ChoiceField(choices=["risk", "oldest"], required=False, default="risk", help_text=(
        "risk (default): overdue, then flagged, then repeat offender, then oldest; oldest: by submission time."))
    cursor = serializers.CharField(required=False, max_length=200)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)


def _cursor_decode(cursor: str) -> tuple[int, dt.datetime, int]:
    try:
        risk, submitted_at, pk = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=="))
        return int(risk), dt.datetime.fromisoformat(submitted_at), int(pk)
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise DomainError(code=ErrorCode.INVALID, field="cursor",
                          message=_("This cursor is not one the queue gave out; start again without it."))


def _cursor_encode(filing) -> str:
    raw = json.dumps([filing.risk, filing.submitted_at.isoformat(), filing.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class FilingQueueAPI(IdempotentAPIView):
    @extend_schema(parameters=[QueueSortInput], responses={200: FilingQueuePage, **ERRORS},
                   summary="Open filings of every kind in your provinces, riskiest first")
    def get(self, request):
        _require(request, rules.REVIEWER)
        data = _valid(QueueSortInput, request.query_params)
        cursor, size, sort = data.pop("cursor", None), data.pop("page_size"), data.pop("sort")
        qs = selectors.filing_queue(actor=request.user, **data, sort=sort)
        if sort == "oldest":
            paginator = CursorPagination()
            paginator.ordering = ("submitted_at", "id")
            paginator.page_size = size
            page = paginator.paginate_queryset(qs, request, view=self)
            return paginator.get_paginated_response(FilingQueueOutput(page, many=True).data)
        # rank ids only, then read the page's rows
        ids = selectors.filing_queue_keyset_ids(qs, after=_cursor_decode(cursor) if cursor else None, limit=size + 1)
        rows = selectors.filing_queue_rows(qs, ids)
        next_url = None
        if len(rows) > size:
            rows = rows[:size]
            params = request.query_params.copy()
            params["cursor"] = _cursor_encode(rows[-1])
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"next": next_url, "previous": None, "results": FilingQueueOutput(rows, many=True).data})


class FilingBulkInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(services.BULK_ACTIONS))
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1,
                                max_length=services.BULK_MAX, help_text="The filings to act on.")
    reviewer = serializers.CharField(required=False, allow_blank=True, default="", max_length=150,
                                     help_text="assign: the username of the reviewer.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                    help_text="return: required, sent to each enterprise.")


class FilingBulkResultOutput(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=["done", "unchanged", "failed"], help_text=(
        "unchanged: the filing was already where the action puts it (e.g. a retried request)."))
    status = serializers.ChoiceField(choices=FilingStatus.choices, allow_null=True)
    code = serializers.CharField(help_text="The error code when it failed, else empty.")
    message = serializers.CharField()


class FilingBulkOutput(serializers.Serializer):
    results = FilingBulkResultOutput(many=True)


class FilingQueueBulkAPI(IdempotentAPIView):
    @extend_schema(request=FilingBulkInput, responses={200: FilingBulkOutput, **ERRORS},
                   summary="Claim, assign or return several filings; each filing succeeds or fails on its own")
    def post(self, request):
        _require(request, rules.REVIEWER)
        data = _valid(FilingBulkInput, request.data)
        results = services.filings_bulk_act(actor=request.user, action=data["action"], filing_ids=data["ids"],
                                            reviewer=data["reviewer"], comment=data["comment"])
        return Response({"results": results})


class FilingClaimAPI(IdempotentAPIView):
    @extend_schema(request=None, responses={200: FilingDetailOutput, **ERRORS}, summary="Claim a filing for review")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        return _detail(services.filing_claim(actor=request.user, filing_id=filing.pk))


class FilingAssignAPI(IdempotentAPIView):
    @extend_schema(request=AssignInput, responses={200: FilingDetailOutput, **ERRORS},
                   summary="Assign a filing to a reviewer of its province")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(AssignInput, request.data)
        return _detail(services.filing_assign(actor=request.user, filing_id=filing.pk, reviewer_id=data["reviewer"]))


class FilingApproveAPI(IdempotentAPIView):
    @extend_schema(request=OptionalCommentInput, responses={200: FilingDetailOutput, **ERRORS},
                   summary="Approve a filing you review")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(OptionalCommentInput, request.data)
        return _detail(services.filing_approve(actor=request.user, filing_id=filing.pk, comment=data["comment"]))


class FilingRejectAPI(IdempotentAPIView):
    @extend_schema(request=RequiredCommentInput, responses={200: FilingDetailOutput, **ERRORS},
                   summary="Reject a filing you review (comment required)")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(RequiredCommentInput, request.data)
        return _detail(services.filing_reject(actor=request.user, filing_id=filing.pk, comment=data["comment"]))


class FilingReturnAPI(IdempotentAPIView):
    @extend_schema(request=RequiredCommentInput, responses={200: FilingDetailOutput, **ERRORS},
                   summary="Return a filing for correction (comment required)")
    def post(self, request, pk: int):
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(RequiredCommentInput, request.data)
        return _detail(services.filing_return(actor=request.user, filing_id=filing.pk, comment=data["comment"]))
