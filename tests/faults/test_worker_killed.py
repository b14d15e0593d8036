"""A Celery worker is SIGKILLed in the middle of a 200,000-row registration import: the message was never
acknowledged (acks_late), so Redis hands it out again after the visibility timeout; the import restarts from the
file and lands exactly once — 200,000 batteries, 200,000 first ledger events, one outbox delivery done."""
from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.batteries import services
from apps.batteries.models import Battery, BatteryEvent, BulkImport
from apps.core.models import OutboxMessage
from tests.batteries.conftest import make_code
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROWS = 200_000
VISIBILITY_TIMEOUT = 10  # seconds; production keeps Redis' default (an hour) or CELERY_VISIBILITY_TIMEOUT


def registration_file(rows: int) -> bytes:
    lines = ["电池编码,额定容量(kWh)"]
    lines += [f"{make_code(serial=n)},75.5" for n in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def test_an_import_survives_its_worker_being_killed(maker, broker, workers, settings):
    from tests.faults.conftest import ROOT

    settings.MEDIA_ROOT = str(ROOT / ".local" / "test-media")  # where the worker (test settings) reads uploads
    started = time.monotonic()
    content = registration_file(ROWS)
    env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    first = workers(broker.url, **env)
    record = services.bulk_import_create(actor=maker, kind="register",
                                         upload=SimpleUploadedFile("batteries.csv", content))
    message = OutboxMessage.objects.get(task="apps.batteries.tasks.bulk_import_run", args=[record.pk])
    assert message.published_at is not None, message.last_error  # published on commit

    def mid_import():
        record.refresh_from_db()
        assert record.status != BulkImport.Status.FAILED, record.message
        return record.total_rows >= 40_000 and not record.is_finished

    wait_for(mid_import, 120, "the first worker to be 40,000 rows into the file\n" + first.output())
    first.kill()
    killed_at = time.monotonic()
    record.refresh_from_db()
    assert not record.is_finished and record.attempts == 1
    assert Battery.objects.count() == 0 and BatteryEvent.objects.count() == 0  # the killed attempt left nothing

    second = workers(broker.url, **env)

    def finished():
        record.refresh_from_db()
        return record.is_finished

    wait_for(finished, 180, "the redelivered import to finish\n" + second.output(), interval=0.5)
    redelivered_after = time.monotonic() - killed_at
    assert record.status == BulkImport.Status.SUCCEEDED, (record.message, record.errors[:3])
    assert record.applied_rows == ROWS and record.attempts == 2
    assert Battery.objects.count() == ROWS
    assert BatteryEvent.objects.count() == ROWS
    assert BatteryEvent.objects.filter(kind="produced").values("battery").distinct().count() == ROWS
    message.refresh_from_db()
    assert message.processed_at is not None
    # Redis may hand the message out once more (the second run outlasts the visibility timeout): a no-op.
    time.sleep(VISIBILITY_TIMEOUT + 3)
    assert Battery.objects.count() == ROWS and BatteryEvent.objects.count() == ROWS
    record.refresh_from_db()
    assert record.attempts == 2
    record.file.delete(save=False)
    print(f"\nworker-kill fault: {ROWS} rows; import finished {redelivered_after:.1f} s after the kill; "
          f"test {time.monotonic() - started:.1f} s")
