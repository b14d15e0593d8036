"""The nightly job as beat schedules it, run by a real Celery worker process against the test database: skipped
while another run holds the advisory lock, then split into batches of enterprises that the worker runs; a batch
that meets a run in progress for one of its enterprises is skipped on its own."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

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

NIGHTLY = settings.CELERY_BEAT_SCHEDULE["reconciliation-nightly"]


def _parents():
    return ReconciliationRun.objects.filter(parent__isnull=True).order_by("id")


def _wait_for(worker, condition, what: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline and not condition():
        assert worker.poll() is None, worker.stdout.read().decode()
        time.sleep(0.3)
    assert condition(), f"the worker did not {what} within 60 s"


@contextmanager
def real_worker(**env_overrides):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CELERY_TASK_ALWAYS_EAGER": "0", **env_overrides}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool", "solo", "-l", "warning",
         "--hostname", f"{queue}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield worker, queue
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()


@contextmanager
def other_session():
    s = connection.settings_dict
    with psycopg.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                         host=s["HOST"] or None, port=s["PORT"] or None, autocommit=True) as other:
        yield other


@pytest.fixture
def stuck(maker, carmaker):
    code = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise, occurred_at=days_ago(20))
    return code


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_scheduled_reconciliation_under_the_lock(stuck):
    assert NIGHTLY["schedule"].hour == {3} and NIGHTLY["schedule"].minute == {40}
    with real_worker() as (worker, queue):
        with other_session() as other:
            other.execute("SELECT pg_advisory_lock(%s, 0)", [LOCK_NAMESPACE])  # a full run in progress
            celery_app.send_task(NIGHTLY["task"], queue=queue)
            _wait_for(worker, lambda: ReconciliationRun.objects.exists(), "record the skipped run")
            assert ReconciliationRun.objects.get().status == "skipped"
            other.execute("SELECT pg_advisory_unlock(%s, 0)", [LOCK_NAMESPACE])
        celery_app.send_task(NIGHTLY["task"], queue=queue)
        _wait_for(worker, lambda: _parents().count() == 2 and _parents().last().finished_at is not None,
                  "finish the split run")
    parent = _parents().last()
    assert parent.status == "succeeded" and parent.counts["handover_not_received"] == 1
    assert parent.children.count() == parent.children_total >= 1
    assert set(parent.children.values_list("status", flat=True)) == {"succeeded"}
    assert Discrepancy.objects.get().codes == [stuck]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_batch_meeting_a_run_for_one_of_its_enterprises_is_skipped_alone(stuck, maker, carmaker):
    with real_worker(RECONCILIATION_BATCH_SIZE="1") as (worker, queue), other_session() as other:
        # the carmaker filed a report: a run for it is in progress
        other.execute("SELECT pg_advisory_lock_shared(%s, 0), pg_advisory_lock(%s, %s)",
                      [LOCK_NAMESPACE, LOCK_NAMESPACE, carmaker.enterprise.pk])
        celery_app.send_task(NIGHTLY["task"], queue=queue)
        _wait_for(worker, lambda: _parents().filter(finished_at__isnull=False).exists(), "finish the split run")
        other.execute("SELECT pg_advisory_unlock_all()")
    parent = _parents().get()
    statuses = {tuple(batch): status for batch, status in parent.children.values_list("batch", "status")}
    assert parent.status == "partial" and statuses[(carmaker.enterprise.pk,)] == "skipped"
    assert statuses[(maker.enterprise.pk,)] == "succeeded"
    assert not Discrepancy.objects.exists()  # the carmaker's discrepancy waits for its own run
