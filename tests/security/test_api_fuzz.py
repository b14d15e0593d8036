"""API fuzzing with schemathesis: every operation of the OpenAPI schema gets a bounded number of generated requests
(examples drawn from the schema's own types and formats), authenticated with an enterprise API key, sent to the
Django app in-process (WSGI, same database transaction as the test). No request may get a 5xx, and every response
must match what the schema promises for its status.

Bounded for CI: `max_examples` per operation, derandomized (the same requests every run, so a failure is
reproducible). Run alone with `scripts/test tests/security/test_api_fuzz.py`."""
from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api_helpers import make_key

MAX_EXAMPLES = 5

# operation label ("METHOD /path") -> why it is expected to fail; such operations run as xfail(strict=True), so
# a fix shows up as an unexpected pass and the entry has to go.
KNOWN_FAILURES: dict[str, str] = {}


def _load_schema():
    """The schema drf-spectacular generates for /api/v1/schema/, read through JSON as a client would read it, bound
    to the Django WSGI app (pytest-django has configured Django by the time this module is collected)."""
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes "old" database connections at each request's start and end; in a test that is the
    connection holding the test's transaction. Django's own test client disconnects the same receivers."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(alice_co, alice):
    """Alice's enterprise may do everything an enterprise does, so every operation gets past the role checks."""
    alice_co.roles = ["battery_maker", "vehicle_maker", "dismantler", "recycler", "swap_operator", "repairer"]
    alice_co.save()
    _, secret = make_key(alice, name="fuzz")
    return secret


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_api_answers_every_generated_request_within_its_schema(case, api_key):
    label = f"{case.method.upper()} {case.path}"
    if label in KNOWN_FAILURES:
        pytest.xfail(KNOWN_FAILURES[label])
    case.call_and_validate(headers={"Authorization": f"Api-Key {api_key}"},
                           checks=[not_a_server_error, response_schema_conformance])
