"""Small helpers shared by the /api/v1/ tests."""
from __future__ import annotations

from rest_framework.test import APIClient

from apps.accounts import services as account_services

API = "/api/v1"


def assert_error(response, status: int, code: str, field: str | None = ...) -> dict:
    """The response is an API error with this status and code (and field, when given), in the one error shape."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:2000])
    body = response.json()
    assert {"code", "message", "field"} <= set(body), body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    if field is not ...:
        assert body["field"] == field, body
    return body


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def make_key(user, name: str = "ERP") -> tuple:
    """An API key created by `user` through the service: (row, secret)."""
    return account_services.api_key_create(actor=user, name=name)


def results(response) -> list[dict]:
    """The rows of a cursor-paginated list response."""
    assert response.status_code == 200, (response.status_code, response.content[:2000])
    body = response.json()
    assert set(body) >= {"next", "previous", "results"}, body
    return body["results"]
