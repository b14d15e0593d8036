"""Helpers for tests of the server-rendered pages: form data, links in e-mails, the text a person reads."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from django.core import mail

from tests.conftest import PASSWORD
from tests.factories import pdf_upload, valid_uscc

LOGIN_URL = "/accounts/login/"


def page_text(response) -> str:
    """The decoded body with entities resolved, for asserting on what a reader sees."""
    return html.unescape(response.content.decode())


def body(response) -> str:
    return response.content.decode()


def redirect_path(response) -> str:
    """The path (and query) a redirect points to, whatever the host."""
    assert response.status_code in (301, 302), (response.status_code, body(response)[:500])
    parts = urlsplit(response["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def assert_redirects_to_login(response) -> None:
    assert response.status_code == 302, response.status_code
    assert redirect_path(response).startswith(LOGIN_URL), response["Location"]


def sign_in_with_form(client, username: str, password: str = PASSWORD, **extra):
    """Sign in the way a person does: the real login form, no force_login."""
    return client.post(LOGIN_URL, {"username": username, "password": password, **extra})


def link_in(message, path_prefix: str = "/accounts/password-reset/") -> str:
    """The path of the first link in an e-mail that starts with `path_prefix` (the host is dropped)."""
    match = re.search(r"https?://[^\s/]+(" + re.escape(path_prefix) + r"[^\s]+)", message.body)
    assert match, message.body
    return match.group(1)


def set_password_through_link(client, path: str, new_password: str):
    """Follow a set-password link (reset or invitation) and choose `new_password`. Returns the final response."""
    response = client.get(path)
    # Django moves the token into the session and redirects to …/set-password/
    assert response.status_code == 302, body(response)[:500]
    form_url = response["Location"]
    form_page = client.get(form_url)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    return client.post(form_url, {"new_password1": new_password, "new_password2": new_password}, follow=True)


def registration_data(**overrides) -> dict:
    """A complete, valid registration (multipart) that `overrides` can spoil one field at a time."""
    data = {
        "name": "闽南电池回收有限公司",
        "uscc": valid_uscc(),
        "province": "35",
        "address": "厦门市思明区2号",
        "contact_name": "陈静",
        "contact_phone": "0592-1234567",
        "contact_email": "contact@minnan.example.cn",
        "roles": ["recycler"],
        "business_licence": pdf_upload(),
        "applicant_full_name": "陈静",
        "applicant_username": "chenjing",
        "applicant_email": "chenjing@minnan.example.cn",
        "applicant_password": "Bright-river-2026",
        "applicant_password2": "Bright-river-2026",
        "confirm_truth": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def company_data(enterprise, **overrides) -> dict:
    """The company part of the resubmission form, pre-filled with the enterprise as it is."""
    data = {
        "name": enterprise.name, "uscc": enterprise.uscc, "province": enterprise.province,
        "address": enterprise.address, "contact_name": enterprise.contact_name,
        "contact_phone": enterprise.contact_phone, "contact_email": enterprise.contact_email,
        "roles": list(enterprise.roles),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(response, field: str) -> list[str]:
    form = response.context["form"]
    return [str(e) for e in form.errors.get(field, [])]


def outbox_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]
