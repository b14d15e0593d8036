"""The nightly job as beat schedules it, run by a real Celery worker process against the test database: skipped
while another run holds the advisory lock, then done."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from apps.batteries import services as battery_services
from apps.reconciliation.models import Discrepancy, ReconciliationRun
from apps.reconciliation.services import LOCK_NAMESPACE
from config.celery import app as celery_app
from tests.batteries.flows import registered
from tests.core.test_worker import ROOT, _test_database_url
from tests.reconciliation.conftest import days_ago


def _wait_for_runs(worker, n: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline and ReconciliationRun.objects.count() < n:
        assert worker.poll() is None, worker.stdout.read().decode()
        time.sleep(0.3)
    assert ReconciliationRun.objects.count() >= n, "the worker did not run the task within 60 s"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_scheduled_reconciliation_under_the_lock(maker, carmaker):
    code = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise, occurred_at=days_ago(20))
    task_name = settings.CELERY_BEAT_SCHEDULE["reconciliation-nightly"]["task"]
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CELERY_TASK_ALWAYS_EAGER": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool", "solo", "-l", "warning",
         "--hostname", f"{queue}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    s = connection.settings_dict
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with psycopg.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                             host=s["HOST"] or None, port=s["PORT"] or None, autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(%s, 0)", [LOCK_NAMESPACE])  # another run in progress
            celery_app.send_task(task_name, queue=queue)
            _wait_for_runs(worker, 1)
            assert ReconciliationRun.objects.get().status == "skipped"
            other.execute("SELECT pg_advisory_unlock(%s, 0)", [LOCK_NAMESPACE])
        celery_app.send_task(task_name, queue=queue)
        _wait_for_runs(worker, 2)
        assert ReconciliationRun.objects.order_by("-id").first().status == "succeeded"
        assert Discrepancy.objects.get().codes == [code]
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
