"""Production settings: `manage.py check --deploy` is clean, and the settings refuse to start without secrets."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SECRET_KEY", "PII_HASH_KEY"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production",
                "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://u@127.0.0.1:5432/x",
                "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", **env_overrides})
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = _check({"DJANGO_SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-" + "x" * 30,
                     "PII_HASH_KEY": "pii-key"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _check({"PII_HASH_KEY": "pii-key"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr
