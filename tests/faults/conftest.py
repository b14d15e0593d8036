"""Fault injection: real processes (a Celery worker, a Redis broker, a PostgreSQL server, a web server) that the
tests kill, stop and restart. Every one is private to the test — its own Redis on a free port, its own
PostgreSQL cluster in a temporary directory — so the machine's shared services are never disturbed."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.batteries.conftest import carmaker, maker, maker_co  # noqa: F401 - personas

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def subprocess_database_url() -> str:
    s = connection.settings_dict
    host = s.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{s['USER']}:@/{s['NAME']}?host={host}"
    return f"postgresql://{s['USER']}:{s.get('PASSWORD') or ''}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


class RedisServer:
    """A private redis-server that a test can stop and start again on the same port."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.dir = workdir
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._pong, 10, "redis-server")

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server):
    """Point this process's Celery app at the private Redis, tasks no longer eager; restored afterwards."""
    from config.celery import app

    saved = (app.conf.broker_url, app.conf.broker_write_url, app.conf.broker_read_url, app.conf.task_always_eager,
             app.conf.broker_transport_options)
    # broker_write_url/read_url are derived from CELERY_BROKER_URL at start-up and win over broker_url
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = redis_server.url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    app.amqp._producer_pool = None
    app._pool = None
    from apps.core import outbox

    outbox._broker_down_until = 0.0
    yield redis_server
    (app.conf.broker_url, app.conf.broker_write_url, app.conf.broker_read_url, app.conf.task_always_eager,
     app.conf.broker_transport_options) = saved
    app.amqp._producer_pool = None
    app._pool = None
    outbox._broker_down_until = 0.0


class Worker:
    """A real `celery worker` process in its own process group (so that SIGKILL takes all of it)."""

    def __init__(self, broker_url: str, log: Path, **env):
        self.queue_env = {
            **os.environ, "DATABASE_URL": subprocess_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_BROKER_URL": broker_url, "CELERY_TASK_ALWAYS_EAGER": "0", **env}
        self.log = log
        self.proc = None

    def start(self) -> "Worker":
        name = f"fault-{uuid.uuid4().hex[:6]}@%h"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "info",
             "--hostname", name, "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.queue_env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker: no acknowledgement, no clean-up, no goodbye to the broker."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(broker_url: str, **env) -> Worker:
        worker = Worker(broker_url, tmp_path / f"worker{len(started)}.log", **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
