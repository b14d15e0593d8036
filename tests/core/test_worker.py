"""A real Celery worker process, on the configured broker (Redis in CI, the filesystem transport locally),
runs a task enqueued by the portal against the test database."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    s = connection.settings_dict
    host = s.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{s['USER']}:@/{s['NAME']}?host={host}"
    return f"postgresql://{s['USER']}:{s.get('PASSWORD') or ''}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_decision_email(tmp_path, reviewer):
    from apps.enterprises.models import Enterprise
    from apps.enterprises.tasks import enterprise_decision_notify
    from tests.factories import EnterpriseFactory

    enterprise = EnterpriseFactory(contact_email="boss@example.cn", status=Enterprise.Status.ACTIVE)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CELERY_TASK_ALWAYS_EAGER": "0", "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
           "EMAIL_FILE_PATH": str(mail_dir)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool", "solo", "-l", "warning",
         "--hostname", f"{queue}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        enterprise_decision_notify.apply_async((enterprise.pk, "approved"), queue=queue)
        deadline = time.time() + 60
        while time.time() < deadline and not (mail_dir.exists() and any(mail_dir.iterdir())):
            assert worker.poll() is None, worker.stdout.read().decode()
            time.sleep(0.3)
        files = list(mail_dir.iterdir()) if mail_dir.exists() else []
        assert files, "the worker did not run the task within 60 s"
        assert "boss@example.cn" in files[0].read_text()
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
