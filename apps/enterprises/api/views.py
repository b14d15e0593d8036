"""Thin API over the same services as the pages. Input serializers check shape; services decide."""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from apps.accounts import services as account_services
from apps.accounts.models import APIKey
from apps.core.api_views import IdempotentAPIView
from apps.core.choices import Chemistry, Province
from apps.core.errors import NotFound
from apps.core.pagination import CursorPagination
from apps.enterprises import selectors, services
from apps.enterprises.models import Enterprise, EnterpriseRole, LicenceScope, Membership, RecyclerLicence
from apps.enterprises.permissions import require


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class ErrorSerializer(ErrorItemSerializer):
    errors = ErrorItemSerializer(many=True, required=False,
                                 help_text="Validation errors only: every problem; the first is repeated above.")


class EnterpriseOutput(serializers.ModelSerializer):
    manufacturer_codes = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Enterprise
        fields = ["id", "name", "uscc", "province", "address", "contact_name", "contact_phone", "contact_email",
                  "roles", "status", "status_reason", "manufacturer_codes", "approved_at", "created_at"]


def _company_enterprise(request) -> Enterprise:
    # An API key acts for the enterprise it was issued to, whatever has become of its creator's membership.
    if isinstance(request.auth, APIKey):
        return request.auth.enterprise
    user = request.user
    enterprise = user.enterprise if user.kind == "company" else None
    if enterprise is None:
        raise exceptions.PermissionDenied(_("This endpoint is for company staff."))
    return enterprise


class OwnEnterpriseAPI(IdempotentAPIView):
    @extend_schema(responses={200: EnterpriseOutput, 403: ErrorSerializer}, summary="Your own enterprise")
    def get(self, request):
        return Response(EnterpriseOutput(_company_enterprise(request)).data)


class StaffOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    is_active = serializers.BooleanField(source="user.is_active")
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True,
                                           help_text="null until the person first signs in.")

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "full_name", "role", "is_active", "last_login"]


class StaffInvite(serializers.Serializer):
    # The invited colleague's user name is their e-mail address, and user names have 150 characters.
    email = serializers.EmailField(max_length=150)
    full_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.FILER)


def _no_staff_management_with_a_key(request):
    # Inviting a colleague mints a person who can create keys; deactivating colleagues can lock the owners out.
    # A leaked key must be able to do neither.
    if isinstance(request.auth, APIKey):
        raise exceptions.PermissionDenied(_("Staff are managed by a signed-in administrator, not with an API key."))


class StaffListAPI(IdempotentAPIView):
    pagination_class = CursorPagination

    @extend_schema(responses={200: StaffOutput(many=True)}, summary="Staff of your enterprise")
    def get(self, request):
        enterprise = _company_enterprise(request)
        paginator = self.pagination_class()
        paginator.ordering = "id"
        page = paginator.paginate_queryset(
            Membership.objects.filter(enterprise=enterprise).select_related("user"), request, view=self)
        return paginator.get_paginated_response(StaffOutput(page, many=True).data)

    @extend_schema(request=StaffInvite, responses={201: StaffOutput, 400: ErrorSerializer, 403: ErrorSerializer},
                   summary="Invite a colleague (enterprise administrators)")
    def post(self, request):
        _company_enterprise(request)
        _no_staff_management_with_a_key(request)
        data = StaffInvite(data=request.data)
        data.is_valid(raise_exception=True)
        membership = account_services.staff_invite(actor=request.user, **data.validated_data)
        return Response(StaffOutput(membership).data, status=status.HTTP_201_CREATED)


class StaffToggleAPI(IdempotentAPIView):
    action = "deactivate"

    @extend_schema(request=None, responses={200: StaffOutput, 404: ErrorSerializer})
    def post(self, request, pk: int):
        _company_enterprise(request)
        _no_staff_management_with_a_key(request)
        service = account_services.staff_deactivate if self.action == "deactivate" else account_services.staff_reactivate
        return Response(StaffOutput(service(actor=request.user, membership_id=pk)).data)


class APIKeyOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = APIKey
        fields = ["id", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]


class APIKeyCreated(APIKeyOutput):
    key = serializers.CharField(help_text="The secret. Shown once: store it now.")

    class Meta(APIKeyOutput.Meta):
        fields = APIKeyOutput.Meta.fields + ["key"]


class APIKeyInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


def _no_key_management_with_a_key(request):
    # A leaked key must not be able to mint itself successors.
    if isinstance(request.auth, APIKey):
        raise exceptions.PermissionDenied(_("API keys are managed by a signed-in administrator, not with an API key."))


class APIKeyListAPI(IdempotentAPIView):
    pagination_class = CursorPagination
    # The answer holds the key's secret, which is never stored (ADR 0004): no Idempotency-Key replay here.
    idempotent = False

    @extend_schema(responses={200: APIKeyOutput(many=True), 403: ErrorSerializer},
                   summary="API keys of your enterprise (enterprise administrators)")
    def get(self, request):
        enterprise = _company_enterprise(request)
        # Same rule as the API keys page: the key register is for enterprise administrators, not filers.
        require(request.user, "enterprises.manage_api_keys")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            APIKey.objects.filter(enterprise=enterprise).select_related("created_by"), request, view=self)
        return paginator.get_paginated_response(APIKeyOutput(page, many=True).data)

    @extend_schema(request=APIKeyInput, responses={201: APIKeyCreated, 400: ErrorSerializer, 403: ErrorSerializer},
                   summary="Create an API key (the secret is in this response only)")
    def post(self, request):
        _company_enterprise(request)
        _no_key_management_with_a_key(request)
        data = APIKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = account_services.api_key_create(actor=request.user, name=data.validated_data["name"])
        key.key = secret
        return Response(APIKeyCreated(key).data, status=status.HTTP_201_CREATED)


class APIKeyRevokeAPI(IdempotentAPIView):
    @extend_schema(request=None, responses={200: APIKeyOutput, 404: ErrorSerializer})
    def post(self, request, pk: int):
        _company_enterprise(request)
        _no_key_management_with_a_key(request)
        return Response(APIKeyOutput(account_services.api_key_revoke(actor=request.user, key_id=pk)).data)


# --- public -------------------------------------------------------------------------------------------------


class PublicRecyclerOutput(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name")
    uscc = serializers.CharField(source="enterprise.uscc")
    province = serializers.CharField(source="enterprise.province")
    address = serializers.CharField(source="enterprise.address")

    class Meta:
        model = RecyclerLicence
        fields = ["id", "number", "enterprise_name", "uscc", "province", "address", "scopes", "chemistries",
                  "annual_capacity_tonnes", "valid_from", "valid_to"]


class PublicRecyclerFilter(serializers.Serializer):
    province = serializers.ChoiceField(choices=Province.choices, required=False)
    scope = serializers.ChoiceField(choices=LicenceScope.choices, required=False)
    q = serializers.CharField(required=False, max_length=100)


class PublicLicensedRecyclersAPI(IdempotentAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    pagination_class = CursorPagination

    @extend_schema(parameters=[PublicRecyclerFilter], responses={200: PublicRecyclerOutput(many=True)},
                   summary="Licensed recyclers in force today (public)")
    def get(self, request):
        params = PublicRecyclerFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        qs = selectors.public_licensed_recyclers(on_date=timezone.localdate(), **params.validated_data)
        paginator = self.pagination_class()
        paginator.ordering = "id"
        page = paginator.paginate_queryset(qs.order_by("id"), request, view=self)
        return paginator.get_paginated_response(PublicRecyclerOutput(page, many=True).data)


class RegistrationInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    uscc = serializers.CharField(max_length=40)
    province = serializers.ChoiceField(choices=Province.choices)
    address = serializers.CharField(max_length=300)
    contact_name = serializers.CharField(max_length=100)
    contact_phone = serializers.CharField(max_length=32)
    contact_email = serializers.EmailField(max_length=254)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=EnterpriseRole.choices), allow_empty=False)
    business_licence = serializers.FileField()
    applicant_username = serializers.CharField(max_length=150)
    applicant_email = serializers.EmailField(max_length=254)
    applicant_password = serializers.CharField(write_only=True, min_length=10)
    applicant_full_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class RegistrationOutput(serializers.ModelSerializer):
    class Meta:
        model = Enterprise
        fields = ["id", "name", "uscc", "status"]


class RegistrationThrottle(AnonRateThrottle):
    # Its own scope: under the inherited "anon" scope it shared one request history with the default anonymous
    # throttle, so reading the public list used up registrations and the per-minute throttle pruned the hour.
    scope = "registration"
    rate = "20/hour"


class RegistrationAPI(IdempotentAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [RegistrationThrottle]

    @extend_schema(request={"multipart/form-data": RegistrationInput},
                   responses={201: RegistrationOutput, 400: ErrorSerializer}, summary="Apply to register a company")
    def post(self, request):
        data = RegistrationInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        company = {k: v[k] for k in ("name", "uscc", "province", "address", "contact_name", "contact_phone",
                                     "contact_email", "roles")}
        enterprise = services.enterprise_register(
            company=company, business_licence=v["business_licence"], applicant_username=v["applicant_username"],
            applicant_email=v["applicant_email"], applicant_password=v["applicant_password"],
            applicant_full_name=v["applicant_full_name"],
        )
        return Response(RegistrationOutput(enterprise).data, status=status.HTTP_201_CREATED)


# --- admins: the licence register -----------------------------------------------------------------------


class LicenceOutput(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name")

    class Meta:
        model = RecyclerLicence
        fields = ["id", "enterprise", "enterprise_name", "number", "scopes", "chemistries", "annual_capacity_tonnes",
                  "valid_from", "valid_to", "status", "status_reason"]


class LicenceInput(serializers.Serializer):
    enterprise = serializers.IntegerField()
    number = serializers.CharField(max_length=64)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=LicenceScope.choices), allow_empty=False)
    chemistries = serializers.ListField(child=serializers.ChoiceField(choices=Chemistry.choices), allow_empty=False)
    annual_capacity_tonnes = serializers.DecimalField(max_digits=12, decimal_places=3)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


def _require_admin(request):
    if request.user.kind != "admin":
        raise exceptions.PermissionDenied(_("This endpoint is for administrators."))


class LicenceListAPI(IdempotentAPIView):
    pagination_class = CursorPagination

    @extend_schema(responses={200: LicenceOutput(many=True)}, summary="The licence register (administrators)")
    def get(self, request):
        _require_admin(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.licence_list(actor=request.user).order_by("-id"), request, view=self)
        return paginator.get_paginated_response(LicenceOutput(page, many=True).data)

    @extend_schema(request=LicenceInput, responses={201: LicenceOutput, 400: ErrorSerializer},
                   summary="Grant a licence to a recycler")
    def post(self, request):
        _require_admin(request)
        data = LicenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        enterprise = selectors.enterprise_get(actor=request.user, pk=v.pop("enterprise"))
        licence = services.recycler_licence_grant(actor=request.user, enterprise=enterprise, **v)
        return Response(LicenceOutput(licence).data, status=status.HTTP_201_CREATED)


class LicenceActionAPI(IdempotentAPIView):
    action = "suspend"

    @extend_schema(request=ReasonInput, responses={200: LicenceOutput, 400: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request, pk: int):
        _require_admin(request)
        licence = selectors.licence_list(actor=request.user).filter(pk=pk).first()
        if licence is None:
            raise NotFound()
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        service = {"suspend": services.recycler_licence_suspend, "reinstate": services.recycler_licence_reinstate,
                   "revoke": services.recycler_licence_revoke}[self.action]
        return Response(LicenceOutput(service(actor=request.user, licence=licence, **data.validated_data)).data)


class ManufacturerCodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=10)


class ManufacturerCodeAPI(IdempotentAPIView):
    @extend_schema(request=ManufacturerCodeInput,
                   responses={201: inline_serializer("ManufacturerCodeOutput", {"code": serializers.CharField(),
                                                                                 "enterprise": serializers.IntegerField()}),
                              400: ErrorSerializer},
                   summary="Assign a manufacturer code to a battery maker (administrators)")
    def post(self, request, pk: int):
        _require_admin(request)
        enterprise = selectors.enterprise_get(actor=request.user, pk=pk)
        data = ManufacturerCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        code = services.manufacturer_code_assign(actor=request.user, enterprise=enterprise, code=data.validated_data["code"])
        return Response({"code": code.code, "enterprise": enterprise.pk}, status=status.HTTP_201_CREATED)
