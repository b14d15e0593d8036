"""The base class of every /api/v1/ view: DRF's APIView, with `Idempotency-Key` honoured on every POST.

Inheriting is all a view does to take part; apps.core.idempotency holds the rules. A test walks the URL
configuration and fails when an API view does not inherit this class.
"""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.views import APIView

from apps.core import idempotency

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    idempotency.HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description=(
        "Optional, at most 255 characters (a UUID is a good choice). Send the same key again to retry this request "
        "safely: within 24 hours the first answer is replayed (status and body, header `Idempotent-Replayed: "
        "true`) and nothing is written twice. The same key with a different request is refused with 422 "
        "`idempotency_key_reused`."),
)


class IdempotentAutoSchema(AutoSchema):
    """Documents the Idempotency-Key header on every authenticated POST that honours it."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST" and self.view.authentication_classes and getattr(self.view, "idempotent", False):
            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters


class IdempotentAPIView(APIView):
    schema = IdempotentAutoSchema()
    # False only where an answer must never be stored, e.g. one holding a secret shown once (ADR 0004): there the
    # header is ignored and not documented.
    idempotent = True

    def dispatch(self, request, *args, **kwargs):
        # DRF's APIView.dispatch, with the handler call routed through the idempotency store once the caller is
        # authenticated (the key belongs to the caller).
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers

        try:
            self.initial(request, *args, **kwargs)
            if request.method.lower() in self.http_method_names:
                handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            key = idempotency.idempotency_key(request) if self.idempotent else None
            if key is None:
                response = handler(request, *args, **kwargs)
            else:
                response = idempotency.respond_idempotently(
                    request=request, key=key, run=lambda: self._answer(handler, request, *args, **kwargs))
        except Exception as exc:
            response = self.handle_exception(exc)

        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _answer(self, handler, request, *args, **kwargs):
        """The handler's answer, refusals included (so that they are stored and replayed like any other)."""
        try:
            return handler(request, *args, **kwargs)
        except Exception as exc:
            return self.handle_exception(exc)
