"""Hostile files and text on the enterprise's answer to an enforcement action (PDF attachment, answer text)."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.conftest import signed_in
from tests.enforcement.conftest import (  # noqa: F401 - fixtures
    alice_discrepancy, alice_events, awaiting, bob_events, draft, issued, reviewer_fj,
)
from tests.hostile.corpus import RAW_MARKERS, XSS
from tests.hostile.test_uploads import NOT_DOCUMENTS

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.parametrize("case", list(NOT_DOCUMENTS), ids=list(NOT_DOCUMENTS))
def test_answer_attachment_must_be_a_pdf(alice, issued, unchanged, case):
    name, content = NOT_DOCUMENTS[case]
    with unchanged():
        response = _api(alice).post(f"{API}/enforcement/{issued.pk}/answer/",
                                    {"text": "已整改", "attachment": SimpleUploadedFile(name, content)},
                                    format="multipart")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["field"] == "attachment" and body["message"], body
    issued.refresh_from_db()
    assert issued.status == "issued"


@pytest.mark.parametrize("name,payload", XSS, ids=[x[0] for x in XSS])
def test_answer_text_is_refused_or_escaped(alice, issued, name, payload):
    response = _api(alice).post(f"{API}/enforcement/{issued.pk}/answer/", {"text": payload}, format="json")
    assert response.status_code in (200, 201, 400), response.content[:300]
    page = signed_in(alice).get(f"/enforcement/{issued.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for marker in RAW_MARKERS:
        assert marker not in html, marker
