"""The enforcement endpoints are documented and add no schema warning."""
from __future__ import annotations

import re

import pytest


@pytest.mark.django_db
def test_documented_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    ours = re.compile(r"enforcement|Enforcement|ActionList|ActionDetail|ActionClose|ActionAnswer|Discrepancy")
    assert [m for m in messages if ours.search(m)] == []
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/review/enforcement/"])
    for path in ("/api/v1/review/enforcement/{id}/approve/", "/api/v1/enforcement/{id}/answer/",
                 "/api/v1/review/discrepancies/{id}/escalate/", "/api/v1/review/discrepancies/{id}/resolve/"):
        assert "post" in schema["paths"][path], path
    answer = schema["paths"]["/api/v1/enforcement/{id}/answer/"]["post"]
    assert "multipart/form-data" in answer["requestBody"]["content"]
