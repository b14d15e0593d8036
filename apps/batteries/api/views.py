"""The battery digital identity card over /api/v1/: thin views over apps.batteries.services and selectors.

Input serializers check shape only (present, a number, one of the choices); every rule is decided by the one
service each POST calls, and its refusal reaches the client as `{code, message, field}`.

A battery named in the URL that the caller may not see answers 404, exactly like one that does not exist. A
battery named in the body that is registered but hidden from the caller answers 404 too (`not_found`), so the
API never confirms that another enterprise's code exists.
"""
from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.batteries import selectors, services
from apps.batteries.api.filters import BatteryFilter, openapi_parameters
from apps.batteries.ledger import event_list
from apps.batteries.models import (
    Battery,
    BatteryEvent,
    BatteryStatus,
    BulkImport,
    FieldOfUse,
    ProductType,
    Vehicle,
)
from apps.core.choices import Chemistry
from apps.core.api import _flatten
from apps.core.api_views import IdempotentAPIView
from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.pagination import CursorPagination
from apps.enterprises.api.views import ErrorSerializer
from apps.core.text import ascii_upper

BULK_MAX_ITEMS = 1000
CHILDREN_SHOWN = 500
IMPORT_ERRORS_SHOWN = 20

CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH,
                                  description="The 24-character GB/T 34014 battery code.")
VIN_PARAMETER = OpenApiParameter("vin", OpenApiTypes.STR, OpenApiParameter.PATH, description="The 17-character VIN.")
ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer,
          422: ErrorSerializer}


# --- output ---------------------------------------------------------------------------------------------------


class EnterpriseRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField(help_text="Unified social credit code.")


class BatteryListOutput(serializers.ModelSerializer):
    maker = EnterpriseRef()
    holder = EnterpriseRef()
    transit_to = EnterpriseRef(allow_null=True)
    vin = serializers.CharField(source="vehicle.vin", allow_null=True)

    class Meta:
        model = Battery
        fields = ["code", "product_type", "chemistry", "production_date", "capacity_kwh", "weight_kg", "status",
                  "is_waste", "maker", "holder", "transit_to", "vin", "registered_at", "updated_at"]


class RemanufactureOutput(serializers.Serializer):
    field_of_use = serializers.ChoiceField(choices=FieldOfUse.choices)
    standard_number = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField(), help_text="Codes of the waste batteries used.")


_DATE = serializers.DateField()
_DATETIME = serializers.DateTimeField()
_KWH = serializers.DecimalField(max_digits=9, decimal_places=3)
_KG = serializers.DecimalField(max_digits=10, decimal_places=3)


def _enterprise_ref(enterprise) -> dict:
    return {"id": enterprise.pk, "name": enterprise.name, "uscc": enterprise.uscc}


class BatteryCardOutput(serializers.Serializer):
    """The digital identity card: the decoded code, where the battery is and what it is made of or part of.

    A plain Serializer with explicit fields (not a ModelSerializer): the card is the hottest read of the API,
    and building ModelSerializer fields from the model on every request cost more than the database work."""

    code = serializers.CharField()
    manufacturer_code = serializers.CharField()
    product_type = serializers.ChoiceField(choices=ProductType.choices)
    chemistry = serializers.ChoiceField(choices=Chemistry.choices)
    spec_code = serializers.CharField()
    trace_code = serializers.CharField()
    production_date = serializers.DateField()
    serial = serializers.CharField()
    capacity_kwh = serializers.DecimalField(max_digits=9, decimal_places=3, allow_null=True)
    weight_kg = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    status = serializers.ChoiceField(choices=BatteryStatus.choices)
    is_waste = serializers.BooleanField()
    maker = EnterpriseRef()
    holder = EnterpriseRef()
    transit_to = EnterpriseRef(allow_null=True, help_text="The recipient while the battery is in transit.")
    vin = serializers.CharField(source="vehicle.vin", allow_null=True, help_text="The vehicle it is installed in.")
    parent = serializers.CharField(source="parent.code", allow_null=True, help_text="The pack or module containing it.")
    children = serializers.SerializerMethodField(help_text=f"Codes of its modules or cells (the first {CHILDREN_SHOWN}).")
    children_count = serializers.SerializerMethodField()
    remanufactured_from = serializers.SerializerMethodField(
        help_text="For a remanufactured product: its field of use, standard and source batteries.")
    used_in = serializers.CharField(source="used_in.remanufacture.product.code", allow_null=True,
                                    help_text="For a waste battery used in remanufacturing: the product's code.")
    ledger_seq = serializers.IntegerField()
    ledger_head = serializers.CharField()
    registered_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def _children(self, battery) -> list[str]:
        if not hasattr(battery, "_children_codes") and battery.product_type == "C":
            battery._children_codes = []  # cells contain nothing: no query
        if not hasattr(battery, "_children_codes"):
            battery._children_codes = list(battery.children.order_by("pk").values_list("code", flat=True)
                                           [:CHILDREN_SHOWN + 1])
        return battery._children_codes

    def to_representation(self, battery) -> dict:
        """The same dict the declared fields produce (a test checks it), built directly: this read is the API's
        hottest path, and walking the fields generically cost more than the database."""
        vehicle, parent, transit = battery.vehicle, battery.parent, battery.transit_to
        try:
            used_in = battery.used_in.remanufacture.product.code
        except ObjectDoesNotExist:
            used_in = None
        return {
            "code": battery.code, "manufacturer_code": battery.manufacturer_code,
            "product_type": battery.product_type, "chemistry": battery.chemistry, "spec_code": battery.spec_code,
            "trace_code": battery.trace_code, "production_date": _DATE.to_representation(battery.production_date),
            "serial": battery.serial,
            "capacity_kwh": None if battery.capacity_kwh is None else _KWH.to_representation(battery.capacity_kwh),
            "weight_kg": None if battery.weight_kg is None else _KG.to_representation(battery.weight_kg),
            "status": battery.status, "is_waste": battery.is_waste,
            "maker": _enterprise_ref(battery.maker), "holder": _enterprise_ref(battery.holder),
            "transit_to": _enterprise_ref(transit) if transit is not None else None,
            "vin": vehicle.vin if vehicle is not None else None,
            "parent": parent.code if parent is not None else None,
            "children": self.get_children(battery), "children_count": self.get_children_count(battery),
            "remanufactured_from": self.get_remanufactured_from(battery), "used_in": used_in,
            "ledger_seq": battery.ledger_seq, "ledger_head": battery.ledger_head,
            "registered_at": _DATETIME.to_representation(battery.registered_at),
            "updated_at": _DATETIME.to_representation(battery.updated_at),
        }

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_children(self, battery) -> list[str]:
        return self._children(battery)[:CHILDREN_SHOWN]

    @extend_schema_field(serializers.IntegerField())
    def get_children_count(self, battery) -> int:
        codes = self._children(battery)
        return len(codes) if len(codes) <= CHILDREN_SHOWN else battery.children.count()

    @extend_schema_field(RemanufactureOutput(allow_null=True))
    def get_remanufactured_from(self, battery):
        record = selectors.battery_remanufacture(battery)
        if record is None:
            return None
        return {"field_of_use": record.field_of_use, "standard_number": record.standard_number,
                "sources": sorted(s.source.code for s in record.sources.all())}


class SwapOutput(serializers.Serializer):
    removed = BatteryCardOutput(help_text="The battery taken out of the vehicle.")
    installed = BatteryCardOutput(help_text="The battery put in.")


class EventOutput(serializers.ModelSerializer):
    actor = EnterpriseRef()
    counterparty = EnterpriseRef(allow_null=True)
    vin = serializers.CharField(source="vehicle.vin", allow_null=True)

    class Meta:
        model = BatteryEvent
        fields = ["seq", "kind", "occurred_at", "recorded_at", "actor", "counterparty", "vin", "details",
                  "prev_hash", "hash"]


class PublicBatteryOutput(serializers.ModelSerializer):
    """What anyone holding the battery may read from its label: no holder, vehicle or history."""

    maker_name = serializers.CharField(source="maker.name")
    production_month = serializers.SerializerMethodField(help_text="Year and month of production (YYYY-MM).")

    class Meta:
        model = Battery
        fields = ["code", "maker_name", "product_type", "chemistry", "capacity_kwh", "production_month", "status",
                  "is_waste"]

    def get_production_month(self, battery) -> str:
        return battery.production_date.strftime("%Y-%m")


class InstalledBatteryOutput(serializers.ModelSerializer):
    class Meta:
        model = Battery
        fields = ["code", "product_type", "chemistry", "capacity_kwh", "weight_kg", "status", "is_waste"]


class VehicleOutput(serializers.ModelSerializer):
    maker = EnterpriseRef(allow_null=True)
    batteries = InstalledBatteryOutput(many=True, help_text="The batteries the ledger shows installed in it.")

    class Meta:
        model = Vehicle
        fields = ["vin", "model_name", "is_swap_model", "status", "maker", "batteries"]


class ImportListOutput(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField()

    class Meta:
        model = BulkImport
        fields = ["id", "kind", "status", "original_name", "size", "progress_percent", "total_rows", "applied_rows",
                  "error_count", "message", "created_at", "started_at", "finished_at"]


class ImportOutput(ImportListOutput):
    first_errors = serializers.SerializerMethodField(
        help_text=f"The first {IMPORT_ERRORS_SHOWN} errors: {{row, column, code, message}}.")

    class Meta(ImportListOutput.Meta):
        fields = ImportListOutput.Meta.fields + ["first_errors"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_first_errors(self, record) -> list[dict]:
        return list(record.errors or [])[:IMPORT_ERRORS_SHOWN]


class BulkItemError(serializers.Serializer):
    index = serializers.IntegerField(required=False, help_text="0-based position of the item in the request; "
                                     "absent for an error about the request as a whole.")
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class BulkErrorSerializer(ErrorSerializer):
    # absent when the request as a whole is refused (not a list, too long, a bad Idempotency-Key)
    errors = BulkItemError(many=True, required=False)


class BulkResultOutput(serializers.Serializer):
    count = serializers.IntegerField()
    results = BatteryListOutput(many=True)


# --- input ----------------------------------------------------------------------------------------------------


def _decimal(max_digits: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=max_digits, decimal_places=3, coerce_to_string=True, **kwargs)


def _occurred_at() -> serializers.DateTimeField:
    return serializers.DateTimeField(required=False, allow_null=True,
                                     help_text="When it happened (ISO 8601); now if omitted.")


class RegisterInput(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="The 24-character GB/T 34014 code.")
    capacity_kwh = _decimal(9, required=False, allow_null=True)
    weight_kg = _decimal(10, required=False, allow_null=True)
    parent_code = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True,
                                        help_text="Your pack (for a module or cell) or module (for a cell).")
    occurred_at = _occurred_at()


class InstallInput(serializers.Serializer):
    vin = serializers.CharField(max_length=64)
    model_name = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                       help_text="For a vehicle maker's new VIN: the vehicle model.")
    is_swap_model = serializers.BooleanField(required=False, help_text="For a vehicle maker's new VIN.")
    occurred_at = _occurred_at()


class BulkInstallItem(InstallInput):
    code = serializers.CharField(max_length=64)


class SwapInput(serializers.Serializer):
    out_code = serializers.CharField(max_length=64, help_text="The battery taken out of the vehicle.")
    in_code = serializers.CharField(max_length=64, help_text="The battery from your stock put in.")
    occurred_at = _occurred_at()


class ReplaceInput(serializers.Serializer):
    old_code = serializers.CharField(max_length=64, help_text="The battery taken out of the vehicle.")
    new_code = serializers.CharField(max_length=64, help_text="The battery from your stock put in.")
    occurred_at = _occurred_at()


class DeclareWasteInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    occurred_at = _occurred_at()


class HandOverInput(serializers.Serializer):
    recipient = serializers.CharField(max_length=40, help_text="The recipient's unified social credit code.")
    occurred_at = _occurred_at()


class BulkHandOverItem(HandOverInput):
    code = serializers.CharField(max_length=64)


class ReceiveInput(serializers.Serializer):
    occurred_at = _occurred_at()


class RefuseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True)
    occurred_at = _occurred_at()


class RecycleInput(serializers.Serializer):
    input_weight_kg = _decimal(10, help_text="Weight received for final disposal.")
    occurred_at = _occurred_at()


class RemanufactureInput(serializers.Serializer):
    source_codes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False,
                                         max_length=BULK_MAX_ITEMS, help_text="The waste batteries used.")
    new_code = serializers.CharField(max_length=64, help_text="The product's own GB/T 34014 code.")
    field_of_use = serializers.ChoiceField(choices=FieldOfUse.choices)
    standard_number = serializers.CharField(max_length=64, help_text="e.g. GB/T 36276-2018")
    capacity_kwh = _decimal(9, required=False, allow_null=True)
    weight_kg = _decimal(10, required=False, allow_null=True)
    occurred_at = _occurred_at()


class ImportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BulkImport.Kind.choices)
    file = serializers.FileField(help_text="CSV (.csv) or Excel workbook (.xlsx).")


# --- helpers ----------------------------------------------------------------------------------------------------


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _visible(request, code: str) -> Battery:
    """The battery in the URL, if the caller may see it; 404 otherwise (unknown and not yours look the same)."""
    return selectors.battery_get(actor=request.user, code=code)




def _hidden_codes(request, codes) -> set[str]:
    """Of `codes`, those registered but not visible to the caller (one query for any number of codes). Only a-z
    are upper-cased, as the services do: 'ı'.upper() is 'I', and must not turn a bad code into someone's code."""
    wanted = {ascii_upper(c) for c in codes if c}
    if not wanted:
        return set()
    visible = Battery.objects.visible_to(request.user).filter(code__in=wanted).values("pk")
    return set(Battery.objects.filter(code__in=wanted).exclude(pk__in=visible).values_list("code", flat=True))


def _not_found(field: str) -> DomainError:
    error = NotFound()
    error.field = field
    return error


def _refuse_hidden(request, **codes_by_field) -> None:
    for field, codes in codes_by_field.items():
        if _hidden_codes(request, codes if isinstance(codes, list) else [codes]):
            raise _not_found(field)


def _card_data(battery: Battery) -> dict:
    # Re-read with the card's joins: the service's instance may hold stale relations (a new holder id, say).
    return BatteryCardOutput(Battery.objects.select_related(*selectors.CARD_RELATED).get(pk=battery.pk)).data


def _card(battery: Battery, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(_card_data(battery), status=status_code)


def _paginate(view, queryset, request, serializer_class, ordering: str):
    paginator = view.pagination_class()
    paginator.ordering = ordering
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --- reads ------------------------------------------------------------------------------------------------------


class BatteryListAPI(IdempotentAPIView):
    pagination_class = CursorPagination

    @extend_schema(parameters=openapi_parameters(BatteryFilter), responses={200: BatteryListOutput(many=True),
                                                                           400: ErrorSerializer},
                   summary="Batteries you may see, newest first")
    def get(self, request):
        filterset = BatteryFilter(request.query_params, queryset=selectors.battery_list(actor=request.user))
        if not filterset.is_valid():
            raise exceptions.ValidationError({
                name: [exceptions.ErrorDetail(e["message"], code=e["code"]) for e in problems]
                for name, problems in filterset.errors.get_json_data().items()})
        return _paginate(self, filterset.qs, request, BatteryListOutput, "-id")

    @extend_schema(request=RegisterInput, responses={201: BatteryCardOutput, **ERRORS},
                   summary="Register a battery leaving your factory (battery makers)")
    def post(self, request):
        data = _valid(RegisterInput, request.data)
        _refuse_hidden(request, parent_code=data.get("parent_code"))
        return _card(services.battery_register(actor=request.user, **data), status.HTTP_201_CREATED)


class BatteryCardAPI(IdempotentAPIView):
    @extend_schema(parameters=[CODE_PARAMETER], responses={200: BatteryCardOutput, 404: ErrorSerializer},
                   summary="A battery's digital identity card")
    def get(self, request, code: str):
        return Response(BatteryCardOutput(_visible(request, code)).data)


class EventCursorPagination(CursorPagination):
    ordering = "seq"


class BatteryEventsAPI(IdempotentAPIView):
    pagination_class = EventCursorPagination

    @extend_schema(parameters=[CODE_PARAMETER], responses={200: EventOutput(many=True), 404: ErrorSerializer},
                   summary="A battery's ledger, oldest event first, each with its hash and the previous one's")
    def get(self, request, code: str):
        battery = _visible(request, code)
        return _paginate(self, event_list(battery), request, EventOutput, "seq")


class PublicBatteryAPI(IdempotentAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(parameters=[CODE_PARAMETER], responses={200: PublicBatteryOutput, 404: ErrorSerializer},
                   summary="What the label says: maker, type, chemistry, capacity, production month, status (public)")
    def get(self, request, code: str):
        return Response(PublicBatteryOutput(selectors.battery_public_get(code=code)).data)


class VehicleAPI(IdempotentAPIView):
    @extend_schema(parameters=[VIN_PARAMETER], responses={200: VehicleOutput, 404: ErrorSerializer},
                   summary="A vehicle and the batteries installed in it")
    def get(self, request, vin: str):
        vehicle = (Vehicle.objects.visible_to(request.user).select_related("maker")
                   .prefetch_related("batteries").filter(vin=ascii_upper(vin)).first())
        if vehicle is None:
            raise NotFound()
        return Response(VehicleOutput(vehicle).data)


# --- operations on one battery ------------------------------------------------------------------------------


class BatteryInstallAPI(IdempotentAPIView):
    @extend_schema(parameters=[CODE_PARAMETER], request=InstallInput, responses={200: BatteryCardOutput, **ERRORS},
                   summary="Install the battery in a vehicle (vehicle makers, swap operators, repairers)")
    def post(self, request, code: str):
        battery = _visible(request, code)
        data = _valid(InstallInput, request.data)
        return _card(services.battery_install(actor=request.user, code=battery.code, **data))


class BatteryDeclareWasteAPI(IdempotentAPIView):
    @extend_schema(parameters=[CODE_PARAMETER], request=DeclareWasteInput,
                   responses={200: BatteryCardOutput, **ERRORS}, summary="Declare the battery waste (its holder)")
    def post(self, request, code: str):
        battery = _visible(request, code)
        data = _valid(DeclareWasteInput, request.data)
        return _card(services.battery_declare_waste(actor=request.user, code=battery.code, **data))


class BatteryHandOverAPI(IdempotentAPIView):
    @extend_schema(parameters=[CODE_PARAMETER], request=HandOverInput, responses={200: BatteryCardOutput, **ERRORS},
                   summary="Hand the battery over to another enterprise (its holder); in transit until received")
    def post(self, request, code: str):
        battery = _visible(request, code)
        data = _valid(HandOverInput, request.data)
        return _card(services.battery_hand_over(actor=request.user, code=battery.code, **data))


class BatteryReceiveAPI(IdempotentAPIView):
    @extend_schema(parameters=[CODE_PARAMETER], request=ReceiveInput, responses={200: BatteryCardOutput, **ERRORS},
                   summary="Receive a battery handed over to your enterprise")
    def post(self, request, code: str):
        battery = _visible(request, code)
        data = _valid(ReceiveInput, request.data)
        return _card(services.battery_receive(actor=request.user, code=battery.code, **data))


class BatteryRefuseAPI(IdempotentAPIView):
    @extend_schema(parameters=[CODE_PARAMETER], request=RefuseInput, responses={200: BatteryCardOutput, **ERRORS},
                   summary="Refuse a battery handed over to your enterprise; it returns to the sender's stock")
    def post(self, request, code: str):
        battery = _visible(request, code)
        data = _valid(RefuseInput, request.data)
        return _card(services.battery_refuse(actor=request.user, code=battery.code, **data))


class BatteryRecycleAPI(IdempotentAPIView):
    @extend_schema(parameters=[CODE_PARAMETER], request=RecycleInput, responses={200: BatteryCardOutput, **ERRORS},
                   summary="Record final disposal of a waste battery (licensed recyclers)")
    def post(self, request, code: str):
        battery = _visible(request, code)
        data = _valid(RecycleInput, request.data)
        return _card(services.battery_recycle(actor=request.user, code=battery.code, **data))


# --- operations on a vehicle, remanufacturing ----------------------------------------------------------------------


class VehicleSwapAPI(IdempotentAPIView):
    @extend_schema(parameters=[VIN_PARAMETER], request=SwapInput, responses={200: SwapOutput, **ERRORS},
                   summary="Swap a swap-model vehicle's battery for one from your stock (swap operators)")
    def post(self, request, vin: str):
        data = _valid(SwapInput, request.data)
        # The battery taken out belongs to someone else by nature; the one put in must be one you can see.
        _refuse_hidden(request, in_code=data["in_code"])
        removed, installed = services.battery_swap(actor=request.user, vin=vin, **data)
        return Response({"removed": _card_data(removed), "installed": _card_data(installed)})


class VehicleReplaceAPI(IdempotentAPIView):
    @extend_schema(parameters=[VIN_PARAMETER], request=ReplaceInput, responses={200: SwapOutput, **ERRORS},
                   summary="Replace a vehicle's battery in a repair (repairers); you then hold the old one")
    def post(self, request, vin: str):
        data = _valid(ReplaceInput, request.data)
        _refuse_hidden(request, new_code=data["new_code"])
        removed, installed = services.battery_replace(actor=request.user, vin=vin, **data)
        return Response({"removed": _card_data(removed), "installed": _card_data(installed)})


class RemanufactureAPI(IdempotentAPIView):
    @extend_schema(request=RemanufactureInput, responses={201: BatteryCardOutput, **ERRORS},
                   summary="Make a product from waste batteries, with its own code (licensed recyclers)")
    def post(self, request):
        data = _valid(RemanufactureInput, request.data)
        _refuse_hidden(request, source_codes=data["source_codes"])
        return _card(services.battery_remanufacture(actor=request.user, **data), status.HTTP_201_CREATED)


# --- bulk JSON ------------------------------------------------------------------------------------------------------


class _BulkAPI(IdempotentAPIView):
    """A JSON array of up to 1,000 items, all or nothing: every item goes through the same service as the single
    endpoint, in one transaction with a savepoint per item, so that every bad item is reported at once."""

    parser_classes = [JSONParser]
    item_serializer: type[serializers.Serializer]
    service_name: str
    code_field = "code"  # the item's battery code that must be visible to the caller, if registered

    def post(self, request):
        items = request.data
        if not isinstance(items, list):
            raise exceptions.ValidationError({"non_field_errors": [_("Send a JSON array of items.")]})
        if not items or len(items) > BULK_MAX_ITEMS:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Send between 1 and %(max)d items; this request has %(n)d.")
                                      % {"max": BULK_MAX_ITEMS, "n": len(items)}]})
        service = getattr(services, self.service_name)
        hidden = _hidden_codes(request, [i.get(self.code_field) for i in items if isinstance(i, dict)])
        errors: list[dict] = []
        done: list[Battery] = []
        with transaction.atomic():
            for index, item in enumerate(items):
                shape = self.item_serializer(data=item)
                if not shape.is_valid():
                    errors.extend({"index": index, **e} for e in _flatten(shape.errors))
                    continue
                data = dict(shape.validated_data)
                if ascii_upper(data.get(self.code_field)) in hidden:
                    errors.append({"index": index, "code": ErrorCode.NOT_FOUND, "message": _("Not found."),
                                   "field": self.code_field})
                    continue
                try:
                    done.append(service(actor=request.user, **data))  # the service's own atomic is the savepoint
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
        rows = Battery.objects.select_related(*selectors.LIST_RELATED).in_bulk([b.pk for b in done])
        return Response({"count": len(done), "results": BatteryListOutput([rows[b.pk] for b in done], many=True).data},
                        status=status.HTTP_201_CREATED)


class BulkRegisterAPI(_BulkAPI):
    item_serializer = RegisterInput
    service_name = "battery_register"
    code_field = "parent_code"

    @extend_schema(request=RegisterInput(many=True),
                   responses={201: BulkResultOutput, 400: BulkErrorSerializer, 403: ErrorSerializer},
                   summary="Register up to 1,000 batteries, all or nothing")
    def post(self, request):
        return super().post(request)


class BulkInstallAPI(_BulkAPI):
    item_serializer = BulkInstallItem
    service_name = "battery_install"

    @extend_schema(request=BulkInstallItem(many=True),
                   responses={201: BulkResultOutput, 400: BulkErrorSerializer, 403: ErrorSerializer},
                   summary="Install up to 1,000 batteries in vehicles, all or nothing")
    def post(self, request):
        return super().post(request)


class BulkHandOverAPI(_BulkAPI):
    item_serializer = BulkHandOverItem
    service_name = "battery_hand_over"

    @extend_schema(request=BulkHandOverItem(many=True),
                   responses={201: BulkResultOutput, 400: BulkErrorSerializer, 403: ErrorSerializer},
                   summary="Hand over up to 1,000 batteries, all or nothing")
    def post(self, request):
        return super().post(request)


# --- bulk files --------------------------------------------------------------------------------------------------


class ImportListAPI(IdempotentAPIView):
    pagination_class = CursorPagination
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: ImportListOutput(many=True)}, summary="Your enterprise's bulk imports, newest first")
    def get(self, request):
        return _paginate(self, selectors.bulk_import_list(actor=request.user), request, ImportListOutput, "-id")

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={202: ImportOutput, **ERRORS},
                   summary="Upload a registration, installation or handover file; it is applied by a background job")
    def post(self, request):
        data = _valid(ImportInput, request.data)
        record = services.bulk_import_create(actor=request.user, kind=data["kind"], upload=data["file"])
        return Response(ImportOutput(record).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailAPI(IdempotentAPIView):
    @extend_schema(responses={200: ImportOutput, 404: ErrorSerializer}, summary="One bulk import: progress and errors")
    def get(self, request, pk: int):
        return Response(ImportOutput(selectors.bulk_import_get(actor=request.user, pk=pk)).data)
