"""Licence applications over /api/v1/ (a filing of kind licence_application, ADR 0016): a recycler creates and
corrects its application here; submitting, resubmitting, the thread and the reviewers' decisions are the shared
filing endpoints (/api/v1/filings/<id>/…), whose detail carries the application. Thin: the services decide."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser

from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Chemistry
from apps.enterprises import services
from apps.enterprises.models import LicenceApplication, LicenceScope
from apps.filings import rules, selectors
from apps.filings.api.views import ERRORS, FilingDetailOutput, _detail, _require, _valid


class LicenceApplicationInput(serializers.Serializer):
    number = serializers.CharField(max_length=64, help_text="As printed on the licence document.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=LicenceScope.choices), allow_empty=False)
    chemistries = serializers.ListField(child=serializers.ChoiceField(choices=Chemistry.choices), allow_empty=False)
    # Text: the service says why a value is not a capacity (not a number, zero or less).
    annual_capacity_tonnes = serializers.CharField(max_length=30, help_text="Tonnes per year, greater than zero.")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    address = serializers.CharField(max_length=300, help_text="The plant's address.")
    document = serializers.FileField(help_text="The licence document, a PDF (judged by its first bytes).")


class LicenceApplicationUpdateInput(LicenceApplicationInput):
    document = serializers.FileField(required=False, help_text="A new PDF; omit to keep the one attached.")


def _data(validated: dict) -> dict:
    return {k: validated[k] for k in LicenceApplication.TERMS}


class LicenceApplicationCreateAPI(IdempotentAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": LicenceApplicationInput},
                   responses={201: FilingDetailOutput, **ERRORS},
                   summary="Create a draft recycler licence application (recyclers)")
    def post(self, request):
        _require(request, rules.COMPANY)
        data = _valid(LicenceApplicationInput, request.data)
        filing = services.licence_application_create(actor=request.user, data=_data(data), document=data["document"])
        return _detail(filing, status.HTTP_201_CREATED)


class LicenceApplicationUpdateAPI(IdempotentAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": LicenceApplicationUpdateInput},
                   responses={200: FilingDetailOutput, **ERRORS},
                   operation_id="licence_applications_update",
                   summary="Correct a draft licence application or one returned for correction")
    def post(self, request, pk: int):
        _require(request, rules.COMPANY)
        filing = selectors.filing_get(actor=request.user, pk=pk)
        data = _valid(LicenceApplicationUpdateInput, request.data)
        return _detail(services.licence_application_update(actor=request.user, filing_id=filing.pk, data=_data(data),
                                                           document=data.get("document")))
