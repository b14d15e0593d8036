"""One exception handler for the whole API: every error is `{code, message, field}`.

Validation errors with several fields add `errors: [{code, message, field}, …]`, so a client sees
every problem at once while still finding the first one in the top-level keys.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import DomainError


def _flatten(detail, field: str | None = None) -> list[dict]:
    items: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key == "non_field_errors" else (f"{field}.{key}" if field else str(key))
            items.extend(_flatten(value, name))
    elif isinstance(detail, list):
        for value in detail:
            items.extend(_flatten(value, field))
    else:
        items.append({"code": getattr(detail, "code", "invalid") or "invalid", "message": str(detail), "field": field})
    return items


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "message": str(exc.message), "field": exc.field}, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first = errors[0] if errors else {"code": "invalid", "message": _("Invalid input."), "field": None}
        response.data = {**first, "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"code": code, "message": str(detail), "field": None}
    return response


def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer in the API's own error shape, not with an HTML page."""
    from django.http import JsonResponse

    return JsonResponse({"code": "not_found", "message": _("No such API endpoint: %(path)s") % {"path": request.path},
                         "field": None}, status=404)
