"""Scrapping over /api/v1/scrapping/: thin views over apps.scrapping.services and selectors, the same as the pages.

Input serializers check shape only; the services decide. Another dismantler's intake or certificate answers 404,
exactly like one that does not exist; reviewers see the dismantlers of their provinces.
"""
from __future__ import annotations

import json
from pathlib import PurePath

from django.db import transaction
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, renderers, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.batteries.api.views import BulkErrorSerializer, EnterpriseRef, EventOutput
from apps.core.api import _flatten
from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Province
from apps.core.errors import DomainError, ErrorCode
from apps.core.pagination import CursorPagination
from apps.core.workdays import WorkdayCalendar
from apps.enterprises.api.views import ErrorSerializer
from apps.scrapping import intake_file, rules, selectors, services
from apps.scrapping.models import (
    BatteryRole,
    CertificateChange,
    CertificateStatus,
    CheckOutcome,
    Decision,
    IntakeStatus,
    OwnerIdKind,
    ScrappingCertificate,
    ScrappingIntake,
)
from apps.scrapping.verification import verification_url

BULK_MAX_ITEMS = 500
CODES_MAX = 50
ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer,
          422: ErrorSerializer}
ID_PARAMETER = OpenApiParameter("pk", OpenApiTypes.INT, OpenApiParameter.PATH)
KIND_PARAMETER = OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["front", "vin"],
                                  description="front: the vehicle's front; vin: its VIN plate.")
TOKEN_PARAMETER = OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH,
                                   description="The signed token of the certificate's verification URL (its QR code).")


class BinaryRenderer(renderers.BaseRenderer):
    """Files pass through; an error answer (a dict) is still the JSON error shape."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | bytearray):
            return bytes(data)
        return json.dumps(data, ensure_ascii=False).encode()


class PDFRenderer(BinaryRenderer):
    media_type, format = "application/pdf", "pdf"


class JPEGRenderer(BinaryRenderer):
    media_type, format = "image/jpeg", "jpg"


class PNGRenderer(BinaryRenderer):
    media_type, format = "image/png", "png"


# --- output -------------------------------------------------------------------------------------------------------


class IntakeBatteryOutput(serializers.Serializer):
    code = serializers.CharField()
    result = serializers.ChoiceField(source="role", choices=BatteryRole.choices,
                                   help_text="present: in the vehicle per the ledger and found; missing: per the "
                                             "ledger in the vehicle, not found; unexpected: found, not in the vehicle "
                                             "per the ledger.")
    expected = serializers.BooleanField(help_text="The ledger showed it installed in this vehicle at intake.")
    found = serializers.BooleanField(help_text="The dismantler found it in the vehicle.")
    removed = serializers.BooleanField(help_text="Removed in the ledger when the certificate was issued.")
    status_at_intake = serializers.CharField(help_text="The battery's ledger status at intake.")


class LeadBatteryOutput(serializers.Serializer):
    """A missing or unexpected battery as a reviewer sees it: its last known holder, where it is now, its events."""

    code = serializers.CharField(source="row.code")
    result = serializers.ChoiceField(source="row.role", choices=BatteryRole.choices)
    holder_at_intake = EnterpriseRef(source="row.holder_at_intake")
    vin_at_intake = serializers.CharField(source="row.vin_at_intake")
    status_now = serializers.CharField(source="battery.status")
    holder_now = EnterpriseRef(source="battery.holder")
    vin_now = serializers.CharField(source="battery.vehicle.vin", allow_null=True)
    events = EventOutput(many=True)


class IntakeOutput(serializers.ModelSerializer):
    dismantler = EnterpriseRef()
    has_photo_front = serializers.SerializerMethodField()
    has_photo_vin = serializers.SerializerMethodField()
    certificate = serializers.SerializerMethodField(help_text="The intake's current certificate, if any.")

    class Meta:
        model = ScrappingIntake
        fields = ["id", "vin", "is_nev", "is_swap_model", "model_name", "plate_number", "engine_number",
                  "owner_id_kind", "owner_id_masked", "declared_not_mortgaged", "declared_not_stolen",
                  "has_photo_front", "has_photo_vin", "received_on", "outcome", "status", "explanation", "decision",
                  "decision_reason", "decided_at", "dismantler", "certificate", "created_at"]

    def get_has_photo_front(self, intake) -> bool:
        return bool(intake.photo_front)

    def get_has_photo_vin(self, intake) -> bool:
        return bool(intake.photo_vin)

    @extend_schema_field(serializers.DictField(allow_null=True, help_text="{id, number, status}"))
    def get_certificate(self, intake):
        if intake.status != IntakeStatus.ISSUED:
            return None
        # all(): the list prefetches the certificates; the latest is the current one (a re-issue is newer)
        current = max(intake.certificates.all(), key=lambda c: c.pk, default=None)
        return {"id": current.pk, "number": current.number, "status": current.status} if current else None


class IntakeDetailOutput(IntakeOutput):
    batteries = serializers.SerializerMethodField()
    lead_batteries = serializers.SerializerMethodField(
        help_text="Regulators only (empty for company staff): the missing or unexpected batteries with their last "
                  "known holder and ledger events.")

    class Meta(IntakeOutput.Meta):
        fields = IntakeOutput.Meta.fields + ["batteries", "lead_batteries"]

    @extend_schema_field(IntakeBatteryOutput(many=True))
    def get_batteries(self, intake):
        return IntakeBatteryOutput(selectors.intake_batteries(intake), many=True).data

    @extend_schema_field(LeadBatteryOutput(many=True))
    def get_lead_batteries(self, intake):
        return LeadBatteryOutput(selectors.lead_batteries(intake, actor=self.context["request"].user), many=True).data


class CertificateOutput(serializers.ModelSerializer):
    dismantler = EnterpriseRef()
    intake_id = serializers.IntegerField()
    battery_codes = serializers.SerializerMethodField(help_text="The batteries taken in with the vehicle.")
    handover_state = serializers.SerializerMethodField(
        help_text="none (no battery taken in), open, due_soon, overdue, or met (every battery handed on).")
    replaces = serializers.CharField(source="replaces.number", allow_null=True,
                                     help_text="For a re-issue: the number of the certificate it replaces.")
    replaced_by = serializers.SerializerMethodField(help_text="The number of the certificate re-issued in its place.")
    verification_url = serializers.SerializerMethodField(help_text="The public verification address (its QR code).")

    class Meta:
        model = ScrappingCertificate
        fields = ["id", "number", "status", "issued_on", "dismantler", "vin", "intake_id", "swap_exemption",
                  "battery_codes", "handover_deadline", "deadline_provisional", "handover_state", "replaces",
                  "replaced_by", "voided_at", "void_reason", "verification_url"]

    def get_battery_codes(self, certificate) -> list[str]:
        return sorted(b.code for b in certificate.intake.batteries.all() if b.found)

    def get_handover_state(self, certificate) -> str:
        if not hasattr(certificate, "handover_open"):
            certificate = ScrappingCertificate.objects.with_handover_open().get(pk=certificate.pk)
        return selectors.deadline_state(certificate, calendar=self.context.get("calendar"))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_replaced_by(self, certificate):
        replaced_by = getattr(certificate, "replaced_by", None)
        return replaced_by.number if replaced_by else None

    def get_verification_url(self, certificate) -> str:
        return verification_url(certificate.pk)


class CertificateChangeOutput(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")

    class Meta:
        model = CertificateChange
        fields = ["action", "reason", "actor", "created_at"]


class CertificateDetailOutput(CertificateOutput):
    history = CertificateChangeOutput(source="changes", many=True)

    class Meta(CertificateOutput.Meta):
        fields = CertificateOutput.Meta.fields + ["history"]


class CountRow(serializers.Serializer):
    blocked = serializers.IntegerField()
    mismatched = serializers.IntegerField()


class ProvinceCount(CountRow):
    province = serializers.CharField(source="dismantler__province")


class DismantlerCount(CountRow):
    dismantler_id = serializers.IntegerField()
    name = serializers.CharField(source="dismantler__name")
    province = serializers.CharField(source="dismantler__province")


class LeadSummaryOutput(serializers.Serializer):
    totals = CountRow()
    by_province = ProvinceCount(many=True)
    by_dismantler = DismantlerCount(many=True, help_text="The 50 dismantlers with the most open leads.")


class PublicCertificateOutput(serializers.Serializer):
    """Only non-personal facts (ADR 0008): no owner, no plate, the VIN masked."""

    status = serializers.ChoiceField(choices=CertificateStatus.choices)
    number = serializers.CharField()
    issued_on = serializers.DateField()
    dismantler_name = serializers.CharField(source="dismantler.name")
    dismantler_province = serializers.CharField(source="dismantler.province")
    vin_masked = serializers.SerializerMethodField()
    model_name = serializers.CharField(source="intake.model_name")
    is_nev = serializers.BooleanField(source="intake.is_nev")
    swap_exemption = serializers.BooleanField()
    battery_count = serializers.SerializerMethodField()
    voided_on = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField(help_text="For a voided certificate re-issued: the new number.")

    def get_vin_masked(self, certificate) -> str:
        return rules.mask_vin(certificate.vin)

    def get_battery_count(self, certificate) -> int:
        return certificate.intake.batteries.filter(found=True).count()

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_voided_on(self, certificate):
        return certificate.voided_at.date().isoformat() if certificate.voided_at else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_replaced_by(self, certificate):
        replaced_by = getattr(certificate, "replaced_by", None)
        return replaced_by.number if replaced_by else None


class BulkIntakeOutput(serializers.Serializer):
    count = serializers.IntegerField()
    results = IntakeOutput(many=True)


class IntakeFileInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True,
                                 help_text="CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX, one vehicle per row, with the "
                                           "header row of the template (Chinese or English column names).")


class IntakeFileRowError(serializers.Serializer):
    # row and column are absent (and field given) for an error about the request as a whole, e.g. no file
    row = serializers.IntegerField(allow_null=True, required=False,
                                   help_text="The line of the file (the header is line 1).")
    column = serializers.CharField(allow_null=True, required=False,
                                   help_text="The column's key, e.g. vin, battery_codes.")
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True, required=False)


class IntakeFileOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["succeeded", "failed"])
    already_applied = serializers.BooleanField(help_text="The same file was applied before; nothing was done now.")
    total_rows = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Intakes created by the file.")
    message = serializers.CharField()
    results = IntakeOutput(many=True)


class IntakeFileErrorOutput(ErrorSerializer):
    # id, error_count and errors are absent when the request is refused before the file is read (no file, a bad
    # Idempotency-Key)
    id = serializers.IntegerField(required=False, help_text="The refused upload, shown on its result page.")
    error_count = serializers.IntegerField(required=False)
    errors = IntakeFileRowError(many=True, required=False, help_text="The first 1,000 errors.")


# --- input -------------------------------------------------------------------------------------------------------


class IntakeBase(serializers.Serializer):
    vin = serializers.CharField(max_length=64)
    plate_number = serializers.CharField(max_length=40)
    engine_number = serializers.CharField(max_length=60, help_text="Engine number, or motor number of an NEV.")
    is_nev = serializers.BooleanField(help_text="A new-energy vehicle (with a power battery).")
    owner_id_kind = serializers.ChoiceField(choices=OwnerIdKind.choices)
    owner_id_number = serializers.CharField(
        max_length=40, write_only=True,
        help_text="Checked, then stored only masked and as a keyed hash; never returned or stored in full.")
    declared_not_mortgaged = serializers.BooleanField(help_text="Must be true: no certificate while mortgaged.")
    declared_not_stolen = serializers.BooleanField(help_text="Must be true: no certificate if reported stolen.")
    battery_codes = serializers.ListField(child=serializers.CharField(max_length=64), required=False,
                                          max_length=CODES_MAX, help_text="Codes of the packs found in the vehicle.")
    explanation = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                        help_text="Why the batteries differ from the ledger, if they do.")
    received_on = serializers.DateField(required=False, allow_null=True, help_text="Today if omitted.")


class IntakeInput(IntakeBase):
    photo_front = serializers.FileField(required=False, help_text="JPEG or PNG (multipart only).")
    photo_vin = serializers.FileField(required=False, help_text="JPEG or PNG (multipart only).")


class PhotoInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["front", "vin"])
    file = serializers.FileField(help_text="JPEG or PNG.")


class ExplanationInput(serializers.Serializer):
    explanation = serializers.CharField(max_length=2000)


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class IssueInput(serializers.Serializer):
    number = serializers.CharField(max_length=100, help_text="The commerce ministry's certificate number.")


class VoidInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class ReissueInput(serializers.Serializer):
    number = serializers.CharField(max_length=100, help_text="The new number from the commerce ministry's system.")
    reason = serializers.CharField(max_length=2000, allow_blank=True)


# --- helpers -------------------------------------------------------------------------------------------------------


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _dismantlers_only(request) -> None:
    """Company endpoints of this app are for dismantlers; another role, or a regulator, is a 403."""
    user = request.user
    enterprise = user.enterprise if user.kind == "company" else None
    if enterprise is None or not enterprise.has_role("dismantler"):
        raise exceptions.PermissionDenied(_("This endpoint is for dismantlers."))


def _readers_only(request) -> None:
    user = request.user
    if user.kind == "company":
        _dismantlers_only(request)


def _intake_data(intake, request, status_code=status.HTTP_200_OK) -> Response:
    fresh = selectors.intake_get(actor=request.user, pk=intake.pk)
    return Response(IntakeDetailOutput(fresh, context={"request": request}).data, status=status_code)


def _certificate_data(certificate, request, status_code=status.HTTP_200_OK) -> Response:
    fresh = selectors.certificate_get(actor=request.user, pk=certificate.pk)
    return Response(CertificateDetailOutput(fresh, context={"request": request}).data, status=status_code)


def _paginate(view, queryset, request, serializer_class, ordering: str, **context):
    paginator = view.pagination_class()
    paginator.ordering = ordering
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context={"request": request, **context}).data
    return paginator.get_paginated_response(data)


def _filter_parameters(**choices) -> list[OpenApiParameter]:
    parameters = [OpenApiParameter("q", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                                   description="The start of a VIN, or part of a plate or certificate number.")]
    for name, values in choices.items():
        parameters.append(OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                                           enum=values))
    return parameters


def _choice(request, name: str, allowed) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in allowed:
        raise exceptions.ValidationError({name: [exceptions.ErrorDetail(
            _("Choose one of: %(values)s.") % {"values": ", ".join(allowed)}, code="invalid_choice")]})
    return value


# --- intakes -----------------------------------------------------------------------------------------------------


class IntakeListAPI(IdempotentAPIView):
    pagination_class = CursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(parameters=_filter_parameters(status=IntakeStatus.values, outcome=CheckOutcome.values,
                                                 province=Province.values),
                   responses={200: IntakeOutput(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
                   summary="Intakes you may see, newest first (your own; reviewers: their provinces)")
    def get(self, request):
        _readers_only(request)
        qs = selectors.intake_list(
            actor=request.user, q=request.query_params.get("q"),
            status=_choice(request, "status", IntakeStatus.values),
            outcome=_choice(request, "outcome", CheckOutcome.values),
            province=_choice(request, "province", Province.values))
        return _paginate(self, qs.prefetch_related("certificates"), request, IntakeOutput, "-id")

    @extend_schema(request={"application/json": IntakeBase, "multipart/form-data": IntakeInput},
                   responses={201: IntakeDetailOutput, **ERRORS},
                   summary="Take in a scrapped vehicle (dismantlers); the vehicle-and-battery check runs at once")
    def post(self, request):
        _dismantlers_only(request)
        data = _valid(IntakeInput, request.data)
        intake = services.scrapping_intake_create(actor=request.user, **data)
        return _intake_data(intake, request, status.HTTP_201_CREATED)


class IntakeBulkAPI(IdempotentAPIView):
    """A JSON array of up to 500 vehicles, all or nothing: each item goes through the same service as a single
    intake, in one transaction with a savepoint per item, so that every refused item is reported at once. Photos
    are attached afterwards (POST …/photos/); a certificate needs both."""

    parser_classes = [JSONParser]

    @extend_schema(request=IntakeBase(many=True),
                   responses={201: BulkIntakeOutput, 400: BulkErrorSerializer, 403: ErrorSerializer},
                   summary="Take in up to 500 scrapped vehicles, all or nothing (dismantlers)")
    def post(self, request):
        _dismantlers_only(request)
        items = request.data
        if not isinstance(items, list):
            raise exceptions.ValidationError({"non_field_errors": [_("Send a JSON array of items.")]})
        if not items or len(items) > BULK_MAX_ITEMS:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Send between 1 and %(max)d items; this request has %(n)d.")
                                      % {"max": BULK_MAX_ITEMS, "n": len(items)}]})
        errors: list[dict] = []
        done: list[ScrappingIntake] = []
        with transaction.atomic():
            for index, item in enumerate(items):
                shape = IntakeBase(data=item)
                if not shape.is_valid():
                    errors.extend({"index": index, **e} for e in _flatten(shape.errors))
                    continue
                try:
                    done.append(services.scrapping_intake_create(actor=request.user, **shape.validated_data))
                except DomainError as exc:
                    errors.append({"index": index, "code": exc.code, "message": str(exc.message), "field": exc.field})
            if errors:
                transaction.set_rollback(True)
        if errors:
            bad = len({e["index"] for e in errors})
            return Response({"code": ErrorCode.BULK_REJECTED,
                             "message": _("%(bad)d of %(n)d items were refused; nothing was recorded. Correct them "
                                          "and send the whole request again.") % {"bad": bad, "n": len(items)},
                             "field": None, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        rows = ScrappingIntake.objects.select_related(*selectors.INTAKE_RELATED).in_bulk([i.pk for i in done])
        return Response({"count": len(done), "results": IntakeOutput([rows[i.pk] for i in done], many=True).data},
                        status=status.HTTP_201_CREATED)


class IntakeFileAPI(IdempotentAPIView):
    """A CSV or XLSX file of up to 5,000 vehicles, all or nothing, through the same service as a single intake (the
    same semantics as the page). The same file twice is recognised and not applied again. Photos are attached
    afterwards (POST …/photos/); a certificate needs both."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": IntakeFileInput},
                   responses={201: IntakeFileOutput, 200: IntakeFileOutput, 400: IntakeFileErrorOutput,
                              403: ErrorSerializer},
                   summary="Take in scrapped vehicles from a CSV or XLSX file, all or nothing (dismantlers)")
    def post(self, request):
        _dismantlers_only(request)
        data = _valid(IntakeFileInput, request.data)
        record, already = intake_file.intake_file_apply(actor=request.user, upload=data["file"])
        if record.status == record.Status.FAILED:
            return Response({"code": ErrorCode.BULK_REJECTED, "message": record.message, "field": None,
                             "id": record.pk, "error_count": record.error_count,
                             "errors": [{k: e.get(k) for k in ("row", "column", "code", "message")}
                                        for e in record.errors]},
                            status=status.HTTP_400_BAD_REQUEST)
        intakes = record.intakes.select_related(*selectors.INTAKE_RELATED).prefetch_related("certificates")\
            .order_by("pk")
        return Response({"id": record.pk, "status": record.status, "already_applied": already,
                         "total_rows": record.total_rows, "count": len(intakes), "message": record.message,
                         "results": IntakeOutput(intakes, many=True).data},
                        status=status.HTTP_200_OK if already else status.HTTP_201_CREATED)


class IntakeDetailAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], responses={200: IntakeDetailOutput, 403: ErrorSerializer,
                                                         404: ErrorSerializer},
                   summary="One intake: the check, the batteries; for reviewers the lead's batteries and events")
    def get(self, request, pk: int):
        _readers_only(request)
        return _intake_data(selectors.intake_get(actor=request.user, pk=pk), request)


class IntakePhotoAPI(IdempotentAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[ID_PARAMETER], request={"multipart/form-data": PhotoInput},
                   responses={200: IntakeDetailOutput, **ERRORS},
                   summary="Attach or replace the front or VIN-plate photo (dismantlers, before the certificate)")
    def post(self, request, pk: int):
        _dismantlers_only(request)
        intake = selectors.intake_get(actor=request.user, pk=pk)
        data = _valid(PhotoInput, request.data)
        services.scrapping_intake_photo_attach(actor=request.user, intake_id=intake.pk, kind=data["kind"],
                                               upload=data["file"])
        return _intake_data(intake, request)


class IntakePhotoFileAPI(IdempotentAPIView):
    renderer_classes = [renderers.JSONRenderer, JPEGRenderer, PNGRenderer]

    @extend_schema(parameters=[ID_PARAMETER, KIND_PARAMETER],
                   responses={(200, "image/jpeg"): OpenApiTypes.BINARY, (200, "image/png"): OpenApiTypes.BINARY,
                              404: ErrorSerializer, 403: ErrorSerializer},
                   summary="An intake photo (only for those who may see the intake)")
    def get(self, request, pk: int, kind: str):
        _readers_only(request)
        intake = selectors.intake_get(actor=request.user, pk=pk)
        field = services.PHOTO_FIELDS.get(kind)
        photo = getattr(intake, field) if field else None
        if not photo:
            raise Http404
        suffix = PurePath(photo.name).suffix
        return FileResponse(photo.open("rb"), content_type="image/png" if suffix == ".png" else "image/jpeg",
                            filename=f"intake-{intake.pk}-{kind}{suffix}")


class IntakeExplanationAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], request=ExplanationInput,
                   responses={200: IntakeDetailOutput, **ERRORS},
                   summary="Explain a mismatch for the reviewer (dismantlers)")
    def post(self, request, pk: int):
        _dismantlers_only(request)
        intake = selectors.intake_get(actor=request.user, pk=pk)
        data = _valid(ExplanationInput, request.data)
        services.scrapping_intake_explain(actor=request.user, intake_id=intake.pk, **data)
        return _intake_data(intake, request)


class IntakeWithdrawAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], request=None, responses={200: IntakeDetailOutput, **ERRORS},
                   summary="Withdraw an intake without a certificate, freeing the VIN (dismantlers)")
    def post(self, request, pk: int):
        _dismantlers_only(request)
        intake = selectors.intake_get(actor=request.user, pk=pk)
        services.scrapping_intake_withdraw(actor=request.user, intake_id=intake.pk)
        return _intake_data(intake, request)


class IntakeDecisionAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], request=DecisionInput, responses={200: IntakeDetailOutput, **ERRORS},
                   summary="Decide on a mismatch (reviewers for their provinces, administrators)")
    def post(self, request, pk: int):
        data = _valid(DecisionInput, request.data)
        intake = services.scrapping_intake_decide(actor=request.user, intake_id=pk, **data)
        return _intake_data(intake, request)


class IntakeCertificateAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], request=IssueInput, responses={201: CertificateDetailOutput, **ERRORS},
                   summary="Issue the scrapping certificate: vehicle scrapped, batteries removed, deadline set")
    def post(self, request, pk: int):
        _dismantlers_only(request)
        intake = selectors.intake_get(actor=request.user, pk=pk)
        data = _valid(IssueInput, request.data)
        certificate = services.scrapping_certificate_issue(actor=request.user, intake_id=intake.pk, **data)
        return _certificate_data(certificate, request, status.HTTP_201_CREATED)


class LeadSummaryAPI(IdempotentAPIView):
    @extend_schema(responses={200: LeadSummaryOutput, 403: ErrorSerializer},
                   summary="Blocked and mismatched intakes by province and dismantler (reviewers, administrators)")
    def get(self, request):
        if request.user.kind not in ("reviewer", "admin"):
            raise exceptions.PermissionDenied(_("This endpoint is for regulators."))
        return Response(LeadSummaryOutput(selectors.lead_counts(actor=request.user)).data)


# --- certificates ------------------------------------------------------------------------------------------------


class CertificateListAPI(IdempotentAPIView):
    pagination_class = CursorPagination

    @extend_schema(parameters=_filter_parameters(status=CertificateStatus.values, deadline=["open", "overdue"],
                                                 province=Province.values),
                   responses={200: CertificateOutput(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
                   summary="Certificates you may see, newest first, with their handover deadlines")
    def get(self, request):
        _readers_only(request)
        qs = selectors.certificate_list(
            actor=request.user, q=request.query_params.get("q"),
            status=_choice(request, "status", CertificateStatus.values),
            deadline=_choice(request, "deadline", ["open", "overdue"]),
            province=_choice(request, "province", Province.values))
        return _paginate(self, qs.prefetch_related("intake__batteries").select_related("replaced_by"), request,
                         CertificateOutput, "-id", calendar=WorkdayCalendar())


class CertificateDetailAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], responses={200: CertificateDetailOutput, 403: ErrorSerializer,
                                                         404: ErrorSerializer},
                   summary="One certificate with its history")
    def get(self, request, pk: int):
        _readers_only(request)
        return _certificate_data(selectors.certificate_get(actor=request.user, pk=pk), request)


class CertificatePdfAPI(IdempotentAPIView):
    renderer_classes = [renderers.JSONRenderer, PDFRenderer]

    @extend_schema(parameters=[ID_PARAMETER],
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
                              403: ErrorSerializer, 404: ErrorSerializer},
                   summary="The certificate as a PDF (rendered now if not yet)")
    def get(self, request, pk: int):
        _readers_only(request)
        certificate = selectors.certificate_get(actor=request.user, pk=pk)
        if not certificate.pdf or not certificate.pdf.storage.exists(certificate.pdf.name):
            certificate = services.scrapping_certificate_pdf_store(certificate_id=certificate.pk, actor=request.user)
        return FileResponse(certificate.pdf.open("rb"), content_type="application/pdf",
                            filename=f"scrapping-certificate-{certificate.number}.pdf")


class CertificateVoidAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], request=VoidInput, responses={200: CertificateDetailOutput, **ERRORS},
                   summary="Void a certificate with the reason (reviewers for their provinces, administrators)")
    def post(self, request, pk: int):
        data = _valid(VoidInput, request.data)
        certificate = services.scrapping_certificate_void(actor=request.user, certificate_id=pk, **data)
        return _certificate_data(certificate, request)


class CertificateReissueAPI(IdempotentAPIView):
    @extend_schema(parameters=[ID_PARAMETER], request=ReissueInput, responses={201: CertificateDetailOutput, **ERRORS},
                   summary="Re-issue a certificate under a new number; the old one is voided (reviewers, admins)")
    def post(self, request, pk: int):
        data = _valid(ReissueInput, request.data)
        certificate = services.scrapping_certificate_reissue(actor=request.user, certificate_id=pk, **data)
        return _certificate_data(certificate, request, status.HTTP_201_CREATED)


class PublicVerifyAPI(IdempotentAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(parameters=[TOKEN_PARAMETER], responses={200: PublicCertificateOutput, 404: ErrorSerializer},
                   summary="Check a certificate by the token of its QR code: valid or voided (public)")
    def get(self, request, token: str):
        certificate = selectors.certificate_public_get(token=token)
        if certificate is None:
            raise DomainError(code=ErrorCode.NOT_FOUND, status=404,
                              message=_("No certificate matches this verification code: it is unknown."))
        return Response(PublicCertificateOutput(certificate).data)

