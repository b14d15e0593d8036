"""Security settings, as a deployment gets them. Covered elsewhere and not repeated here: `check --deploy` is clean
(tests/core/test_deploy.py), login lockout after five failures (tests/accounts/test_login.py), API keys stored only as
a digest (tests/accounts/test_api_keys.py), the registration throttle (tests/enterprises/test_registration_api.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.api_helpers import key_client, make_key

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_PRINT = """
import json
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
    "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF")}))
"""


@pytest.fixture(scope="module")
def production():
    """The production settings module's values, read in a fresh process with a production-like environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SECURE")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production",
                "DJANGO_SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-" + "x" * 30,
                "PII_HASH_KEY": "pii-key", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
                "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://u@127.0.0.1:5432/x"})
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", PRODUCTION_PRINT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_and_out_of_scripts_reach(production):
    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["LANGUAGE_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"] and production["CSRF_COOKIE_HTTPONLY"]


def test_production_insists_on_https_for_a_year_with_subdomains(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True


def test_production_forbids_framing_and_cross_site_referrers(production):
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_REFERRER_POLICY"] in ("same-origin", "strict-origin", "no-referrer")
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/recyclers/", "/api/v1/docs/", "/api/v1/public/licensed-recyclers/"])
def test_responses_carry_a_content_security_policy_without_inline_script(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy
    assert directives["script-src"] == "'self'", policy
    assert directives["frame-ancestors"] == "'none'", policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_signed_in_pages_carry_the_same_policy(alice):
    from tests.conftest import signed_in

    response = signed_in(alice).get("/dashboard/")
    assert response.status_code == 200
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_login_attempts_go_through_the_lockout_backend():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_FAILURE_LIMIT <= 10


@pytest.fixture
def tiny_rates(monkeypatch):
    """DRF reads THROTTLE_RATES once, into SimpleRateThrottle's class attribute; patch that, not the settings."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES,
                                                               "anon": "3/minute", "user": "4/minute"})


@pytest.mark.django_db
def test_anonymous_api_callers_are_throttled(tiny_rates):
    from rest_framework.test import APIClient

    client = APIClient()
    answers = [client.get("/api/v1/public/licensed-recyclers/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    body = client.get("/api/v1/public/licensed-recyclers/").json()
    assert body["code"] == "throttled"


@pytest.mark.django_db
def test_api_key_callers_are_throttled_per_user(tiny_rates, alice, bob):
    _, secret = make_key(alice)
    client = key_client(secret)
    answers = [client.get("/api/v1/batteries/").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    # another enterprise's key has its own budget
    _, bob_secret = make_key(bob)
    assert key_client(bob_secret).get("/api/v1/batteries/").status_code == 200
