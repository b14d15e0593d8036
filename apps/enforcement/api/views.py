"""Enforcement actions over /api/v1/: reviewers draft, approve (four eyes), return and close; the enterprise reads
its issued actions and answers them; reviewers resolve or escalate a discrepancy.

Thin views over apps.enforcement.services and selectors. Input serializers check shape; amounts and evidence
numbers are passed through as given so that the service names the rule they break. An action the caller may not
see (another enterprise's, a draft for an enterprise, outside a reviewer's provinces) is a 404.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Province
from apps.core.errors import DomainError, ErrorCode
from apps.core.pagination import CursorPagination
from apps.enforcement import rules, selectors, services
from apps.enforcement.models import ActionKind, ActionStatus, EnforcementAction, Outcome
from apps.enterprises.api.views import ErrorSerializer
from apps.reconciliation.api.views import DiscrepancyOutput

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _require(request, side: str) -> None:
    user = request.user
    is_regulator = user.kind in ("reviewer", "admin")
    if (side == rules.REVIEWER) != is_regulator or (side == rules.COMPANY and user.membership is None):
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403,
                          message=_("Only reviewers use this endpoint.") if side == rules.REVIEWER
                          else _("Only enterprise staff use this endpoint."))


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- output ---------------------------------------------------------------------------------------------------


class ActionEnterpriseRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ActionListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ActionKind.choices)
    status = serializers.ChoiceField(choices=ActionStatus.choices)
    enterprise = ActionEnterpriseRef()
    province = serializers.ChoiceField(choices=Province.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True,
                                      help_text="Yuan; only for a fine.")
    deadline = serializers.DateField()
    issued_at = serializers.DateTimeField(allow_null=True)
    is_overdue = serializers.BooleanField(help_text="Issued, not answered, and the deadline has passed.")
    outcome = serializers.CharField(help_text="Once closed: complied or not_complied; empty before.")


class ActionTransitionOutput(serializers.Serializer):
    step = serializers.CharField(source="verb")
    from_status = serializers.ChoiceField(choices=ActionStatus.choices)
    to_status = serializers.ChoiceField(choices=ActionStatus.choices)
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewerTransitionOutput(ActionTransitionOutput):
    actor = serializers.CharField(source="actor.username")


class EvidenceEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    battery_code = serializers.CharField(source="battery.code")
    kind = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class EvidenceRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    period = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class EvidenceOutput(serializers.Serializer):
    events = EvidenceEventOutput(many=True)
    filings = EvidenceRefOutput(many=True)
    discrepancies = EvidenceRefOutput(many=True, help_text="kind: the reconciliation check.")


class ActionDetailOutput(ActionListOutput):
    facts = serializers.CharField()
    legal_basis = serializers.CharField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    has_answer_attachment = serializers.SerializerMethodField()
    closing_comment = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    evidence = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField()

    def get_has_answer_attachment(self, action) -> bool:
        return bool(action.answer_attachment)

    @extend_schema_field(EvidenceOutput)
    def get_evidence(self, action) -> dict:
        return EvidenceOutput(selectors.action_evidence(action)).data

    @extend_schema_field(ActionTransitionOutput(many=True))
    def get_transitions(self, action) -> list:
        """From the issue on: the drafting and the second review stay between reviewers."""
        return ActionTransitionOutput(selectors.action_history(action, for_enterprise=True), many=True).data


class ReviewerActionDetailOutput(ActionDetailOutput):
    drafted_by = serializers.CharField(source="created_by.username", allow_null=True)
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True)
    # Reviewers read the whole history, with who took each step (the enterprise's is filtered, above).
    transitions = ReviewerTransitionOutput(many=True, source="transitions.all")


def _detail(request, action: EnforcementAction, code=status.HTTP_200_OK) -> Response:
    action = (EnforcementAction.objects.select_related("enterprise", "created_by", "approved_by")
              .prefetch_related("transitions__actor").get(pk=action.pk))
    output = ReviewerActionDetailOutput if request.user.kind in ("reviewer", "admin") else ActionDetailOutput
    return Response(output(action).data, status=code)


# --- input ----------------------------------------------------------------------------------------------------

IDS_HELP = "Numbers: a JSON list, or a string separated by commas or spaces."


class ActionInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActionKind.choices)
    amount = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                   help_text="Yuan, as a decimal string (e.g. \"50000.00\"); only for a fine, "
                                             "where it is required and more than 0.")
    facts = serializers.CharField(max_length=10000)
    legal_basis = serializers.CharField(max_length=10000)
    deadline = serializers.CharField(help_text="YYYY-MM-DD: the date by which the enterprise must comply.")
    event_ids = serializers.JSONField(required=False, default=list, help_text="Ledger event ids. " + IDS_HELP)
    battery_codes = serializers.JSONField(required=False, default=list,
                                          help_text="Battery codes: their events recorded by the enterprise.")
    filing_ids = serializers.JSONField(required=False, default=list, help_text=IDS_HELP)
    discrepancy_ids = serializers.JSONField(required=False, default=list, help_text=IDS_HELP)


class ActionCreateInput(ActionInput):
    enterprise = serializers.IntegerField(min_value=1)


class ActionOptionalCommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class ActionRequiredCommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="",
                                    help_text="Required: say why.")


class ActionCloseInput(ActionRequiredCommentInput):
    outcome = serializers.ChoiceField(choices=Outcome.choices)


class ActionAnswerInput(serializers.Serializer):
    text = serializers.CharField(max_length=10000, allow_blank=True)
    attachment = serializers.FileField(required=False, help_text="A PDF document.")


class ActionListFilterInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActionKind.choices, required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    province = serializers.ChoiceField(choices=Province.choices, required=False)
    enterprise = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(required=False, max_length=100, help_text="Number, enterprise name or credit code, "
                                                                         "words of the facts.")
    overdue = serializers.BooleanField(required=False, default=False,
                                       help_text="Only issued actions not answered by their deadline.")


class DiscrepancyEscalateInput(ActionOptionalCommentInput):
    kind = serializers.ChoiceField(choices=ActionKind.choices, required=False, default="order_to_correct")


def _arguments(data: dict) -> dict:
    return {name: data[name] for name in ("kind", "amount", "facts", "legal_basis", "deadline", "event_ids",
                                          "battery_codes", "filing_ids", "discrepancy_ids")}


def _evidence_lists(data: dict) -> dict:
    """JSON lists or strings go to the service as they are; anything else is refused here, on its field."""
    for name in ("event_ids", "battery_codes", "filing_ids", "discrepancy_ids"):
        value = data.get(name)
        if value is None:
            data[name] = []
        elif not isinstance(value, (list, str)):
            raise DomainError(code=ErrorCode.EVIDENCE_INVALID, field=name,
                              message=_("Give a list of numbers (or codes), or a string separated by commas."))
    return data


def _paginate(view, queryset, request):
    paginator = CursorPagination()
    paginator.ordering = ("-created_at", "-id")
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(ActionListOutput(page, many=True).data)


# --- the reviewers' endpoints -------------------------------------------------------------------------------------


class ReviewActionListAPI(IdempotentAPIView):
    pagination_class = CursorPagination  # the schema then shows the paginated envelope _paginate returns
    @extend_schema(parameters=[ActionListFilterInput], responses={200: ActionListOutput(many=True), **ERRORS},
                   summary="Enforcement actions against enterprises in your provinces, newest first")
    def get(self, request):
        _require(request, rules.REVIEWER)
        filters = _valid(ActionListFilterInput, request.query_params)
        return _paginate(self, selectors.action_list(actor=request.user, **filters), request)

    @extend_schema(request=ActionCreateInput, responses={201: ReviewerActionDetailOutput, **ERRORS},
                   summary="Draft an enforcement action with its evidence")
    def post(self, request):
        _require(request, rules.REVIEWER)
        data = _evidence_lists(_valid(ActionCreateInput, request.data))
        action = services.enforcement_action_create(actor=request.user, enterprise_id=data["enterprise"],
                                                    **_arguments(data))
        return _detail(request, action, status.HTTP_201_CREATED)


class ReviewActionDetailAPI(IdempotentAPIView):
    @extend_schema(responses={200: ReviewerActionDetailOutput, 404: ErrorSerializer},
                   summary="One enforcement action with its evidence and history")
    def get(self, request, pk: int):
        _require(request, rules.REVIEWER)
        return _detail(request, selectors.action_get(actor=request.user, pk=pk))

    @extend_schema(request=ActionInput, responses={200: ReviewerActionDetailOutput, **ERRORS},
                   summary="The drafter corrects a draft or a returned action (evidence replaced)")
    def put(self, request, pk: int):
        _require(request, rules.REVIEWER)
        action = selectors.action_get(actor=request.user, pk=pk)
        data = _evidence_lists(_valid(ActionInput, request.data))
        return _detail(request, services.enforcement_action_update(actor=request.user, action_id=action.pk,
                                                                   **_arguments(data)))


class ReviewActionSubmitAPI(IdempotentAPIView):
    @extend_schema(request=ActionOptionalCommentInput, responses={200: ReviewerActionDetailOutput, **ERRORS},
                   summary="Submit a draft for a second reviewer's approval")
    def post(self, request, pk: int):
        _require(request, rules.REVIEWER)
        action = selectors.action_get(actor=request.user, pk=pk)
        data = _valid(ActionOptionalCommentInput, request.data)
        return _detail(request, services.enforcement_action_submit(actor=request.user, action_id=action.pk,
                                                                   comment=data["comment"]))


class ReviewActionApproveAPI(IdempotentAPIView):
    @extend_schema(request=ActionOptionalCommentInput, responses={200: ReviewerActionDetailOutput, **ERRORS},
                   summary="Approve and issue an action drafted by another reviewer (four eyes)")
    def post(self, request, pk: int):
        _require(request, rules.REVIEWER)
        action = selectors.action_get(actor=request.user, pk=pk)
        data = _valid(ActionOptionalCommentInput, request.data)
        return _detail(request, services.enforcement_action_approve(actor=request.user, action_id=action.pk,
                                                                    comment=data["comment"]))


class ReviewActionRefuseAPI(IdempotentAPIView):
    @extend_schema(request=ActionRequiredCommentInput, responses={200: ReviewerActionDetailOutput, **ERRORS},
                   summary="Return an action to its drafter (comment required; not the drafter)")
    def post(self, request, pk: int):
        _require(request, rules.REVIEWER)
        action = selectors.action_get(actor=request.user, pk=pk)
        data = _valid(ActionRequiredCommentInput, request.data)
        return _detail(request, services.enforcement_action_refuse(actor=request.user, action_id=action.pk,
                                                                   comment=data["comment"]))


class ReviewActionCloseAPI(IdempotentAPIView):
    @extend_schema(request=ActionCloseInput, responses={200: ReviewerActionDetailOutput, **ERRORS},
                   summary="Close an issued or answered action: complied or not complied, with a comment")
    def post(self, request, pk: int):
        _require(request, rules.REVIEWER)
        action = selectors.action_get(actor=request.user, pk=pk)
        data = _valid(ActionCloseInput, request.data)
        return _detail(request, services.enforcement_action_close(actor=request.user, action_id=action.pk,
                                                                  outcome=data["outcome"], comment=data["comment"]))


class DiscrepancyResolveAPI(IdempotentAPIView):
    @extend_schema(request=ActionRequiredCommentInput, responses={200: DiscrepancyOutput, **ERRORS},
                   summary="Resolve an open or explained discrepancy (comment required)")
    def post(self, request, pk: int):
        from apps.reconciliation.services import discrepancy_review_resolve

        _require(request, rules.REVIEWER)
        data = _valid(ActionRequiredCommentInput, request.data)
        discrepancy = discrepancy_review_resolve(actor=request.user, discrepancy_id=pk, comment=data["comment"])
        return Response(DiscrepancyOutput(discrepancy).data)


class DiscrepancyEscalateAPI(IdempotentAPIView):
    @extend_schema(request=DiscrepancyEscalateInput, responses={201: ReviewerActionDetailOutput, **ERRORS},
                   summary="Escalate a discrepancy: a draft enforcement action with it as evidence")
    def post(self, request, pk: int):
        from apps.reconciliation.services import discrepancy_escalate

        _require(request, rules.REVIEWER)
        data = _valid(DiscrepancyEscalateInput, request.data)
        action = discrepancy_escalate(actor=request.user, discrepancy_id=pk, comment=data["comment"],
                                      kind=data["kind"])
        return _detail(request, action, status.HTTP_201_CREATED)


# --- the enterprise's endpoints -----------------------------------------------------------------------------------


class ActionListAPI(IdempotentAPIView):
    pagination_class = CursorPagination
    @extend_schema(responses={200: ActionListOutput(many=True), 403: ErrorSerializer},
                   summary="Enforcement actions issued to your enterprise, newest first")
    def get(self, request):
        _require(request, rules.COMPANY)
        return _paginate(self, selectors.action_list(actor=request.user), request)


class ActionDetailAPI(IdempotentAPIView):
    @extend_schema(responses={200: ActionDetailOutput, 403: ErrorSerializer, 404: ErrorSerializer},
                   summary="One enforcement action issued to your enterprise, with its evidence")
    def get(self, request, pk: int):
        _require(request, rules.COMPANY)
        return _detail(request, selectors.action_get(actor=request.user, pk=pk))


class ActionAnswerAPI(IdempotentAPIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=ActionAnswerInput, responses={200: ActionDetailOutput, **ERRORS},
                   summary="Answer an issued action (text, optional PDF)")
    def post(self, request, pk: int):
        _require(request, rules.COMPANY)
        action = selectors.action_get(actor=request.user, pk=pk)
        data = _valid(ActionAnswerInput, request.data)
        return _detail(request, services.enforcement_action_answer(actor=request.user, action_id=action.pk,
                                                                   text=data["text"],
                                                                   attachment=data.get("attachment")))
