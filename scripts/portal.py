"""Process supervisor behind `scripts/run` and `scripts/test`.

run:  embedded PostgreSQL (unless DATABASE_URL is set) → migrate → demo data → Celery worker + beat (filesystem
      broker unless CELERY_BROKER_URL is set) → web server on 127.0.0.1:8000. Ctrl-C stops what it started.
test: embedded PostgreSQL (unless DATABASE_URL is set) → pytest with the arguments given.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable


def _embedded_database() -> bool:
    """Point DATABASE_URL at the embedded server; True when this process started it (so it stops it)."""
    if os.environ.get("DATABASE_URL"):
        return False
    from config.embedded import PGDATA, embedded_database_url

    was_running = _postmaster_running(PGDATA)
    print("starting the embedded PostgreSQL in", PGDATA, flush=True)
    os.environ["DATABASE_URL"] = embedded_database_url()
    return not was_running


def _postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
        return True
    except (OSError, ValueError):
        return False


def _stop_database(started: bool) -> None:
    if started:
        from config.embedded import stop_embedded_database

        stop_embedded_database()
        print("embedded PostgreSQL stopped", flush=True)


def _interrupt(*_):
    raise KeyboardInterrupt


def manage(*args: str) -> None:
    subprocess.run([PY, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def run(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    started_db = _embedded_database()
    children: list[subprocess.Popen] = []

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.time() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
        _stop_database(started_db)

    try:
        manage("migrate", "--noinput", "-v", "0")
        manage("seed_demo")
        celery = [PY, "-m", "celery", "-A", "config"]
        children.append(subprocess.Popen([*celery, "worker", "-l", "warning", "--concurrency", "2",
                                          "--hostname", f"worker-{os.getpid()}@%h"], cwd=ROOT))
        children.append(subprocess.Popen([*celery, "beat", "-l", "warning",
                                          "--pidfile", str(ROOT / ".local" / "celerybeat.pid")], cwd=ROOT))
        children.append(subprocess.Popen([PY, str(ROOT / "manage.py"), "runserver", "--noreload",
                                          f"{host}:{port}"], cwd=ROOT))
        print(f"\nbatterytrace is running at http://{host}:{port}/  (English: http://{host}:{port}/en/)"
              "\nPress Ctrl-C to stop the web server, the worker, beat and the embedded database.\n", flush=True)
        # Ctrl-C and a plain `kill` both stop everything. SIGINT is set explicitly: a shell starting this in the
        # background makes it ignore SIGINT, and Python would then never raise KeyboardInterrupt.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a process stopped unexpectedly; shutting down", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        stop()


def test(argv: list[str]) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    started_db = _embedded_database()
    try:
        return subprocess.run([PY, "-m", "pytest", *argv], cwd=ROOT).returncode
    finally:
        _stop_database(started_db)


if __name__ == "__main__":
    command, *rest = sys.argv[1:] or ["run"]
    sys.exit({"run": run, "test": test}[command](rest))
