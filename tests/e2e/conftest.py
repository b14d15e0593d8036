"""Browser journeys: Playwright for Python driving Debian's chromium (never a downloaded browser) against
pytest-django's live server on the test PostgreSQL database, with a real Celery worker process on the broker.

- One browser and one worker for the whole e2e package (package-scoped: the browser's event loop must not
  outlive the journeys, or the tests that run after them would see it and Django's ORM would refuse to run).
- Missing Playwright or chromium is a failure; only `BATTERYTRACE_SKIP_BROWSER=1` skips the journeys.
- Each step's screenshot goes to `$BATTERYTRACE_E2E_ARTIFACTS/<journey>-<lang>/<nn>-<step>.png` (default
  `.artifacts/e2e/`).
- Every page is watched for Content-Security-Policy violations (console and `securitypolicyviolation` events)
  and script errors; a journey fails on the first one.

Data is set up through services and factories (the personas of tests/batteries/conftest.py); the decisive
steps are driven through the pages."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from config.celery import app as celery_app
from tests.batteries.conftest import (  # noqa: F401 — personas shared with the battery tests
    carmaker,
    dismantler,
    maker,
    maker_co,
    recycler,
)
from tests.conftest import PASSWORD, current_token, totp_device
from tests.core.test_worker import ROOT, _test_database_url

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("BATTERYTRACE_E2E_ARTIFACTS") or ROOT / ".artifacts" / "e2e")
LANGUAGES = {"zh": "", "en": "/en"}


@pytest.fixture(scope="package")
def seeded_rows(django_db_setup, django_db_blocker):
    """The rows the migrations seed (composition table, deadlines…), as serialized when the test database was
    created: read before Playwright starts (see `browser`)."""
    from django.db import connections

    return getattr(connections["default"], "_test_serialized_contents", None)


@pytest.fixture(scope="package")
def browser(seeded_rows):
    if os.environ.get("BATTERYTRACE_SKIP_BROWSER") == "1":
        pytest.skip("BATTERYTRACE_SKIP_BROWSER=1: browser journeys skipped on request")
    from playwright.sync_api import sync_playwright  # not installed: an error, never a skip

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM} (scripts/bootstrap apt-installs it; or set CHROMIUM)")
    # Playwright's sync API keeps an event loop registered on this thread while it is started: Django's ORM,
    # which the journeys use for set-ups and checks between steps, would refuse to run (the live server runs
    # in its own thread and is not concerned).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def shared_media(tmp_path_factory):
    """Uploads stored by the live server must be readable by the worker process."""
    return tmp_path_factory.mktemp("e2e-media")


@pytest.fixture(autouse=True)
def _media(settings, shared_media):  # overrides tests/conftest.py's per-test media folder
    settings.MEDIA_ROOT = shared_media


@pytest.fixture(scope="package")
def celery_worker(django_db_setup, django_db_blocker, shared_media):
    """A real worker process on the configured broker and the test database, on a queue of its own; while it
    runs, the portal (the live server thread) publishes to that queue instead of running tasks inline."""
    queue = f"e2e-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        database_url = _test_database_url()
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CELERY_TASK_ALWAYS_EAGER": "0", "DJANGO_MEDIA_ROOT": str(shared_media)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # Its output goes to a file, not a pipe nobody reads (a full pipe would block the worker mid-journey).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "worker.log", "wb")  # noqa: SIM115 — closed after the worker stops
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool", "solo",
         "-l", "warning", "--hostname", f"{queue}@%h", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    worker.log_path = ARTIFACTS / "worker.log"
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager, conf.task_default_queue = False, queue
    try:
        yield worker
    finally:
        conf.task_always_eager, conf.task_default_queue = saved
        worker.terminate()
        try:
            worker.wait(5)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)
        log.close()


def _restore_seeded_rows(serialized: str) -> None:
    from django.core import serializers
    from django.db import transaction

    empty: dict[type, bool] = {}
    with transaction.atomic():
        for item in serializers.deserialize("json", serialized):
            model = type(item.object)
            if model not in empty:
                empty[model] = not model._default_manager.exists()
            if empty[model]:
                item.save()


class Journey:
    """One browser context for one persona, with numbered screenshots and a watch on CSP violations."""

    def __init__(self, browser, live_server, name: str, lang: str):
        self.base = live_server.url
        self.prefix = LANGUAGES[lang]
        self.lang = lang
        self.folder = ARTIFACTS / f"{name}-{lang}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.step = 0
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                           locale="zh-CN" if lang == "zh" else "en-US")
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        self.page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error('CSP violation: ' + "
            "e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '')))")

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "CSP violation" in text):
            self.problems.append(text)

    def t(self, zh: str, en: str) -> str:
        """The text a page shows in this journey's language."""
        return zh if self.lang == "zh" else en

    def url(self, path: str) -> str:
        return self.base + self.prefix + path

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        self.page.wait_for_load_state("networkidle")
        self.check()
        return response

    def check(self) -> None:
        assert self.problems == [], f"{self.page.url}: {self.problems}"

    def shot(self, step: str) -> Path:
        self.check()
        self.step += 1
        path = self.folder / f"{self.step:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def submit(self, form=None):
        """Click the submit button of `form` (a locator) or of the main form; wait for the next page."""
        form = form or self.page.locator("main form[method=post]").first
        button = form.locator("button[type=submit]").first
        with self.page.expect_navigation():
            button.click()
        self.page.wait_for_load_state("networkidle")
        self.check()

    def sign_in(self, user, *, device=None) -> None:
        self.goto("/accounts/login/")
        self.page.fill("input[name=username]", user.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.shot("sign-in")
        with self.page.expect_navigation():
            self.page.locator("main button[type=submit]").click()
        self.page.wait_for_load_state("networkidle")
        if device is not None:
            assert "/accounts/two-factor/verify/" in self.page.url, self.page.url
            self.page.fill("input[name=token]", current_token(device))
            self.shot("two-factor")
            with self.page.expect_navigation():
                self.page.locator("main button[type=submit]").click()
            self.page.wait_for_load_state("networkidle")
        assert "/accounts/" not in self.page.url, f"still signing in at {self.page.url}"
        self.check()

    def text(self, selector: str = "main") -> str:
        return self.page.locator(selector).inner_text()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def journey(browser, live_server, celery_worker, seeded_rows, transactional_db):
    """journey(name, lang) opens a fresh browser context; all are closed after the test. Every journey runs with
    the real worker (whichever runs first starts it), so a journey behaves the same alone and in the suite.

    The migrations' seeded rows are put back first: an earlier transactional test flushed them, and Django's
    own serialized rollback cannot restore them here (with Playwright's event loop registered on the thread,
    asgiref hands out connection objects other than the one that holds the serialized contents). Only the
    tables left empty are filled: content types and permissions are back already (post_migrate, after a
    flush)."""
    if seeded_rows:
        _restore_seeded_rows(seeded_rows)
    opened: list[Journey] = []

    def open_journey(name: str, lang: str) -> Journey:
        j = Journey(browser, live_server, name, lang)
        opened.append(j)
        return j

    yield open_journey
    for j in opened:
        j.close()


def wait_until(condition, what: str, *, worker=None, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker died: {worker.log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def regulator_device(user):
    """A confirmed TOTP device for a reviewer or admin (the test computes its codes from the device's key)."""
    return totp_device(user)

