"""Recovery (utilization) reports and explanations over /api/v1/filings/: create, read, correct. Submitting,
reviewing and commenting use the workflow's endpoints (/filings/{id}/submit/ …), like every kind of filing.

Thin views over apps.filings.recovery_services and explanation_services: weights are passed through as given so
that the service names the rule a bad one breaks, on its own field (input_<chemistry>, output_<metal>). A filing
the caller may not see is a 404; POSTs honour Idempotency-Key (a retried create never files a second report)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Chemistry
from apps.core.errors import NotFound
from apps.enterprises.api.views import ErrorSerializer
from apps.filings import explanation_services, kind_selectors, recovery_services, rules, selectors
from apps.filings.api.views import ERRORS, CommentOutput, FilingListOutput, TransitionOutput, _require, _valid
from apps.filings.models import Filing, FilingKind, Metal

# --- output ---------------------------------------------------------------------------------------------------


class MetalRateOutput(serializers.Serializer):
    metal = serializers.ChoiceField(choices=Metal.choices)
    expected_kg = serializers.DecimalField(max_digits=20, decimal_places=3, source="expected",
                                           help_text="Σ input weight × the chemistry's share of the metal.")
    output_kg = serializers.DecimalField(max_digits=20, decimal_places=3, source="output")
    rate_percent = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True,
                                            help_text="Null when the inputs contain none of the metal.")
    threshold_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    below_threshold = serializers.BooleanField()
    impossible = serializers.BooleanField(help_text="More recovered than the inputs can contain.")


class RecoveryReportOutput(FilingListOutput):
    flags = serializers.ListField(child=serializers.CharField(), help_text="below_threshold, impossible_yield")
    inputs = serializers.SerializerMethodField()
    outputs = serializers.SerializerMethodField()
    rates = serializers.SerializerMethodField()
    transitions = TransitionOutput(many=True)
    comments = CommentOutput(many=True)

    def get_inputs(self, filing) -> dict[str, str]:
        return {chem: str(kg) for chem, kg in filing.recovery_report.inputs().items()}

    def get_outputs(self, filing) -> dict[str, str]:
        return {metal: str(kg) for metal, kg in filing.recovery_report.outputs().items()}

    @extend_schema(responses=MetalRateOutput(many=True))
    def get_rates(self, filing) -> list[dict]:
        return MetalRateOutput(kind_selectors.recovery_assessment(filing), many=True).data


class FilingExplanationOutput(FilingListOutput):
    discrepancy = serializers.IntegerField(source="explanation.discrepancy_id", allow_null=True)
    intake = serializers.IntegerField(source="explanation.intake_id", allow_null=True)
    text = serializers.CharField(source="explanation.text")
    transitions = TransitionOutput(many=True)
    comments = CommentOutput(many=True)


class ChemistryCompositionOutput(serializers.Serializer):
    chemistry = serializers.ChoiceField(choices=Chemistry.choices)
    nickel = serializers.DecimalField(max_digits=5, decimal_places=4)
    cobalt = serializers.DecimalField(max_digits=5, decimal_places=4)
    manganese = serializers.DecimalField(max_digits=5, decimal_places=4)
    lithium = serializers.DecimalField(max_digits=5, decimal_places=4)
    copper = serializers.DecimalField(max_digits=5, decimal_places=4)
    aluminium = serializers.DecimalField(max_digits=5, decimal_places=4)
    note = serializers.CharField()


def _fresh(pk: int):
    return (Filing.objects.select_related("enterprise", "assigned_to", "recovery_report", "explanation")
            .prefetch_related("transitions__actor", "comments__author").get(pk=pk))


def _recovery(filing: Filing, code=status.HTTP_200_OK) -> Response:
    return Response(RecoveryReportOutput(_fresh(filing.pk)).data, status=code)


def _explanation(filing: Filing, code=status.HTTP_200_OK) -> Response:
    return Response(FilingExplanationOutput(_fresh(filing.pk)).data, status=code)


def _own_kind(request, pk: int, kind: str) -> Filing:
    filing = selectors.filing_get(actor=request.user, pk=pk)
    if filing.kind != kind:
        raise NotFound()
    return filing


# --- input ----------------------------------------------------------------------------------------------------

WEIGHTS_HELP = "Kilograms, zero or more, at most three decimals; a number or a numeric string. Missing = 0."


class RecoveryContentInput(serializers.Serializer):
    # Any JSON values: the service says which weight is wrong and why.
    inputs = serializers.DictField(child=serializers.JSONField(), required=False, default=dict, help_text=(
        "Input weight by battery chemistry (" + ", ".join(Chemistry.values) + "). " + WEIGHTS_HELP))
    outputs = serializers.DictField(child=serializers.JSONField(), required=False, default=dict, help_text=(
        "Mass recovered by metal (" + ", ".join(Metal.values) + "). " + WEIGHTS_HELP))


class RecoveryReportInput(RecoveryContentInput):
    month = serializers.CharField(help_text="YYYY-MM: the month the report covers.")


class FilingExplanationInput(serializers.Serializer):
    discrepancy = serializers.IntegerField(required=False, allow_null=True, default=None,
                                           help_text="Your discrepancy's id (or give `intake`).")
    intake = serializers.IntegerField(required=False, allow_null=True, default=None,
                                      help_text="Your blocked scrapping intake's id (or give `discrepancy`).")
    text = serializers.CharField(max_length=8000, allow_blank=True)


class FilingExplanationTextInput(serializers.Serializer):
    text = serializers.CharField(max_length=8000, allow_blank=True)


# --- endpoints ------------------------------------------------------------------------------------------------


class RecoveryReportCreateAPI(IdempotentAPIView):
    @extend_schema(request=RecoveryReportInput, responses={201: RecoveryReportOutput, **ERRORS},
                   summary="Create a draft recovery (utilization) report (licensed recyclers)")
    def post(self, request):
        _require(request, rules.COMPANY)
        data = _valid(RecoveryReportInput, request.data)
        filing = recovery_services.recovery_report_create(actor=request.user, month=data["month"],
                                                          inputs=data["inputs"], outputs=data["outputs"])
        return _recovery(filing, status.HTTP_201_CREATED)


class RecoveryReportDetailAPI(IdempotentAPIView):
    @extend_schema(responses={200: RecoveryReportOutput, 404: ErrorSerializer},
                   summary="One recovery report with its rates, flags and history")
    def get(self, request, pk: int):
        return _recovery(_own_kind(request, pk, FilingKind.RECOVERY_REPORT))

    @extend_schema(request=RecoveryContentInput, responses={200: RecoveryReportOutput, **ERRORS},
                   summary="Correct the weights of a draft or of a report returned for correction")
    def patch(self, request, pk: int):
        filing = _own_kind(request, pk, FilingKind.RECOVERY_REPORT)
        data = _valid(RecoveryContentInput, request.data)
        return _recovery(recovery_services.recovery_report_update(
            actor=request.user, filing_id=filing.pk, inputs=data["inputs"], outputs=data["outputs"]))


class CompositionListAPI(IdempotentAPIView):
    @extend_schema(responses={200: ChemistryCompositionOutput(many=True)},
                   summary="The composition table: typical share of each metal in a pack, by chemistry")
    def get(self, request):
        return Response(ChemistryCompositionOutput(kind_selectors.compositions(), many=True).data)


class ExplanationCreateAPI(IdempotentAPIView):
    @extend_schema(request=FilingExplanationInput, responses={201: FilingExplanationOutput, **ERRORS},
                   summary="Create a draft explanation of your discrepancy or blocked scrapping intake")
    def post(self, request):
        _require(request, rules.COMPANY)
        data = _valid(FilingExplanationInput, request.data)
        filing = explanation_services.explanation_create(actor=request.user, discrepancy_id=data["discrepancy"],
                                                         intake_id=data["intake"], text=data["text"])
        return _explanation(filing, status.HTTP_201_CREATED)


class ExplanationDetailAPI(IdempotentAPIView):
    @extend_schema(responses={200: FilingExplanationOutput, 404: ErrorSerializer},
                   summary="One explanation with its history")
    def get(self, request, pk: int):
        return _explanation(_own_kind(request, pk, FilingKind.EXPLANATION))

    @extend_schema(request=FilingExplanationTextInput, responses={200: FilingExplanationOutput, **ERRORS},
                   summary="Correct the text of a draft or of an explanation returned for correction")
    def patch(self, request, pk: int):
        filing = _own_kind(request, pk, FilingKind.EXPLANATION)
        data = _valid(FilingExplanationTextInput, request.data)
        return _explanation(explanation_services.explanation_update(actor=request.user, filing_id=filing.pk,
                                                                    text=data["text"]))
