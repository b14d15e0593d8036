"""PostgreSQL restarts while a request is in the middle of its transaction: the user gets the bilingual error page
(500), nothing of the half-done write survives, and the next request works again.

A private PostgreSQL cluster (pgserver) in a temporary directory gets a copy of the test database; a real web
server (runserver, threaded) is started against it. The test takes an exclusive lock on the ledger table, so a
battery registration stops after writing the battery row and before its ledger event; then the server is
restarted (pg_ctl restart -m fast) under the waiting request."""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.test import Client

from tests.batteries.conftest import make_code
from tests.faults.conftest import ROOT, free_port, subprocess_database_url, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_postgres():
    pgserver = pytest.importorskip("pgserver")
    from pgserver._commands import POSTGRES_BIN_PATH

    base = Path(tempfile.mkdtemp(prefix="bt-fault-pg-"))
    os.chmod(base, 0o755)
    server = pgserver.get_server(base / "pgdata", cleanup_mode=None)
    user = "pgserver" if os.geteuid() == 0 else None

    def restart():
        pgserver.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=user)

    server.restart = restart
    server.bin = Path(POSTGRES_BIN_PATH)
    yield server
    try:
        pgserver.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=user)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _copy_test_database(server, name: str) -> str:
    """pg_dump of the test database (schema, migrations' data, this test's committed rows) into the private one."""
    server.psql(f"CREATE DATABASE {name};")
    url = server.get_uri(name)
    dump = subprocess.run([str(server.bin / "pg_dump"), "--no-owner", "--no-privileges", subprocess_database_url()],
                          capture_output=True, check=True).stdout
    # column options the source server may carry that a plain PostgreSQL does not know
    dump = b"\n".join(line for line in dump.split(b"\n") if b"SET (pg_attver=" not in line)
    restore = subprocess.run([str(server.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", url], input=dump,
                             capture_output=True)
    assert restore.returncode == 0, restore.stderr.decode()[-2000:]
    return url


def _counts(url: str) -> dict:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("batteries_battery", "batteries_batteryevent", "core_outboxmessage")}


def test_a_request_cut_by_a_postgres_restart_gets_the_error_page_and_leaves_nothing(maker, private_postgres, tmp_path):
    started = time.monotonic()
    browser = Client()
    browser.force_login(maker, backend="django.contrib.auth.backends.ModelBackend")
    session = browser.cookies["sessionid"].value
    url = _copy_test_database(private_postgres, "portal")
    before = _counts(url)

    port = free_port()
    log = open(tmp_path / "web.log", "wb")
    web = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT,
                           env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
                                "CELERY_TASK_ALWAYS_EAGER": "0", "DJANGO_CONN_MAX_AGE": "0"},
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    csrf = secrets.token_hex(16)  # 32 characters: a valid CSRF secret for cookie and form alike

    def post_register(code: str):
        body = urllib.parse.urlencode({"code": code, "csrfmiddlewaretoken": csrf}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/batteries/register/", data=body, method="POST",
                                         headers={"Cookie": f"sessionid={session}; csrftoken={csrf}",
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), dict(exc.headers)

    try:
        def up():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).status == 200
            except Exception:  # noqa: BLE001
                return False

        wait_for(up, 60, "the web server")
        code = make_code()
        blocker = psycopg.connect(url)
        blocker.execute("LOCK TABLE batteries_batteryevent IN ACCESS EXCLUSIVE MODE")  # held: a transaction is open
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.update(result=post_register(code)), daemon=True)
        thread.start()

        def mid_transaction():
            # the request's backend has written (it has a transaction id) and waits on the ledger table's lock
            with psycopg.connect(url, autocommit=True) as probe:
                return probe.execute("""SELECT count(*) FROM pg_stat_activity WHERE datname = 'portal'
                                        AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL""").fetchone()[0]

        wait_for(mid_transaction, 30, "the request to stop half-way through its write")
        private_postgres.restart()
        thread.join(60)
        status, page, headers = outcome["result"]
        assert status == 500, (status, page[:500])
        assert "系统出错" in page and "Something went wrong" in page, page[:1000]
        assert "nothing was saved" in page
        after = _counts(url)
        assert after == before, (before, after)  # no battery without its ledger event, no queued job

        # the portal recovers by itself: the same registration now goes through
        status, page, headers = post_register(code)
        assert status == 302 and f"/batteries/{code}/" in headers.get("Location", ""), (status, page[:500])
        after = _counts(url)
        assert after["batteries_battery"] == before["batteries_battery"] + 1
        assert after["batteries_batteryevent"] == before["batteries_batteryevent"] + 1
    finally:
        os.killpg(web.pid, 15)
        web.wait(15)
        log.close()
    print(f"\npostgres-restart fault: test {time.monotonic() - started:.1f} s")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
