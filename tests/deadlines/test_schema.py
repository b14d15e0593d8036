"""The deadline endpoints and the monthly-report file endpoint are documented and add no schema warning."""
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
    ours = re.compile(r"deadlines|Deadline|Due|LateEvent|Overdue|ReportFile|report_file")
    assert [m for m in messages if ours.search(m)] == []
    for path in ("/api/v1/deadlines/due/", "/api/v1/deadlines/late-events/", "/api/v1/deadlines/overdue/",
                 "/api/v1/deadlines/overdue/events/"):
        assert "get" in schema["paths"][path], path
    upload = schema["paths"]["/api/v1/filings/monthly-reports/file/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"page", "page_size", "kind", "month"} <= {p["name"] for p in
                                                      schema["paths"]["/api/v1/deadlines/late-events/"]["get"]["parameters"]}
