"""Embedded defaults for a laptop: a private PostgreSQL (pgserver) and a filesystem Celery broker.

Used only when DATABASE_URL / CELERY_BROKER_URL are unset and never by the production settings.
Both live in `.local/` inside the checkout, so running the portal twice reuses the data.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("BATTERYTRACE_LOCAL_DIR", BASE_DIR / ".local"))
PGDATA = LOCAL_DIR / "pgdata"
BROKER_DIR = LOCAL_DIR / "celery-broker"
DATABASE_NAME = "batterytrace"


def embedded_database_url() -> str:
    """Start (or reuse) the private PostgreSQL and return a URL to its `batterytrace` database.

    The server keeps running after this process exits (cleanup_mode=None) so that the web server,
    the worker and beat share it; `scripts/run` and `scripts/test` stop it when they finish.
    """
    import logging

    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(PGDATA, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME)


def stop_embedded_database() -> None:
    from pgserver import pg_ctl

    if (PGDATA / "postmaster.pid").exists():
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=_pg_system_user())
        except Exception:  # already stopped
            pass


def _pg_system_user() -> str | None:
    # pgserver refuses to run postgres as root and uses its own unprivileged "pgserver" user instead.
    return "pgserver" if os.geteuid() == 0 else None


def embedded_broker_url() -> tuple[str, dict]:
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # broadcast/pidbox messages (remote control) would otherwise land in ./control of the cwd
        "control_folder": str(BROKER_DIR / "control"),
    }
    return "filesystem://", options
