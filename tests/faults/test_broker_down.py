"""The broker is down when a monthly report is submitted and when the reviewer returns it: both requests succeed,
the filing is saved with its follow-up jobs as outbox rows; when the broker is back, the worker-independent relay
publishes them and a real worker runs each exactly once (one reconciliation run, one e-mail)."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from apps.core.models import OutboxMessage
from apps.filings.models import FilingStatus
from apps.reconciliation.models import ReconciliationRun
from tests.conftest import signed_in
from tests.faults.conftest import ROOT, subprocess_database_url, wait_for
from tests.filings.conftest import COUNTS, last_month

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_jobs_queued_while_the_broker_is_down_run_once_it_is_back(alice, reviewer, broker, workers, tmp_path):
    from apps.filings import services

    started = time.monotonic()
    alice.enterprise.contact_email = "alice.boss@example.cn"
    alice.enterprise.save()
    mail_dir = tmp_path / "mail"
    worker = workers(broker.url, DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                     EMAIL_FILE_PATH=str(mail_dir))
    draft = services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)
    company, regulator = signed_in(alice), signed_in(reviewer)
    before = OutboxMessage.objects.count()

    broker.stop()  # --- the broker goes down ---
    t0 = time.monotonic()
    response = company.post(f"/filings/{draft.pk}/submit/")
    assert response.status_code == 302, response.content[:500]
    draft.refresh_from_db()
    assert draft.status == FilingStatus.SUBMITTED, draft.status
    services.filing_claim(actor=reviewer, filing_id=draft.pk)
    response = regulator.post(f"/review/filings/{draft.pk}/", {"decision": "return", "comment": "请核对装车数量",
                                                               "confirm": "on"})
    waited = time.monotonic() - t0
    draft.refresh_from_db()
    assert draft.status == FilingStatus.RETURNED, draft.status  # the business writes are saved
    jobs = OutboxMessage.objects.order_by("pk")[before:]
    assert {m.task for m in jobs} >= {"apps.reconciliation.tasks.reconciliation_run_enterprise",
                                      "apps.filings.tasks.notification_email_send"}, [m.task for m in jobs]
    assert all(m.published_at is None for m in jobs), "published to a broker that is down?"
    assert not ReconciliationRun.objects.filter(enterprise=alice.enterprise).exists()
    assert waited < 15, f"the requests waited {waited:.1f} s for the broker"

    broker.start()  # --- the broker is back ---
    relay = subprocess.Popen(
        [sys.executable, "manage.py", "outbox_relay", "--loop", "--interval", "1"], cwd=ROOT,
        env={**worker.queue_env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: all(m.processed_at for m in OutboxMessage.objects.filter(pk__in=[j.pk for j in jobs])),
                 90, "the relayed jobs to be processed\n" + worker.output())
        mails = wait_for(lambda: list(mail_dir.glob("*")) if mail_dir.exists() else [], 10, "the e-mail")
        time.sleep(3)  # another relay round: nothing runs twice
    finally:
        relay.terminate()
        relay.wait(10)
    assert ReconciliationRun.objects.filter(enterprise=alice.enterprise).count() == 1
    mails = list(mail_dir.glob("*"))
    text = mails[0].read_text(errors="replace")
    assert len(mails) == 1 and text.count("请核对装车数量") == 1 and (alice.email or "alice.boss@example.cn") in text
    print(f"\nbroker-down fault: requests waited {waited:.1f} s; test {time.monotonic() - started:.1f} s")
