"""The transactional outbox (apps.core.outbox): a job exists exactly when its business write committed, survives
a broker that is down, and runs once however often it is delivered."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from apps.core import outbox
from apps.core.models import OutboxMessage
from apps.filings.models import Notification
from apps.filings.tasks import notification_email_send
from config.celery import app as celery_app
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def notification(db):
    enterprise = EnterpriseFactory(contact_email="boss@example.cn")
    return Notification.objects.create(enterprise=enterprise, kind="comment", comment="请补充说明")


@pytest.fixture
def broker_down(settings):
    """No eager execution, and a broker address where nothing listens."""
    celery_app.conf.task_always_eager = False
    old = celery_app.conf.broker_url
    options = celery_app.conf.broker_transport_options
    urls = (celery_app.conf.broker_write_url, celery_app.conf.broker_read_url)
    celery_app.conf.broker_url = celery_app.conf.broker_write_url = "redis://127.0.0.1:9/0"
    celery_app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    celery_app.amqp._producer_pool = None
    celery_app._pool = None
    outbox._broker_down_until = 0.0
    yield
    outbox._broker_down_until = 0.0
    celery_app.conf.broker_url = old
    celery_app.conf.broker_write_url, celery_app.conf.broker_read_url = urls
    celery_app.conf.broker_transport_options = options
    celery_app.amqp._producer_pool = None
    celery_app._pool = None
    celery_app.conf.task_always_eager = True


def test_a_rolled_back_write_leaves_no_job(notification, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.enqueue(notification_email_send, notification.pk)
            raise RuntimeError("the business write failed")
    assert not OutboxMessage.objects.exists() and not callbacks and not mail.outbox


def test_a_committed_job_is_published_on_commit_and_runs_once(notification, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.enqueue(notification_email_send, notification.pk)
    message.refresh_from_db()
    assert message.published_at and message.processed_at
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["boss@example.cn"]
    assert outbox.deliver(message.pk) == "duplicate"  # the broker delivers it again
    assert len(mail.outbox) == 1


def test_broker_down_at_commit_then_the_relay_publishes(notification, broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.enqueue(notification_email_send, notification.pk)
    message.refresh_from_db()
    assert message.published_at is None and message.attempts == 1 and message.last_error
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):  # a second job in the same outage: no second wait
        second = outbox.enqueue(notification_email_send, notification.pk)
    second.refresh_from_db()
    assert second.published_at is None and second.attempts == 0
    OutboxMessage.objects.update(created_at=timezone.now() - dt.timedelta(minutes=1))
    assert outbox.relay() == 0  # the broker is still down: the rows stay
    celery_app.conf.task_always_eager = True  # "the broker is back" (the task runs inline here)
    assert outbox.relay() == 2
    message.refresh_from_db()
    assert message.processed_at and len(mail.outbox) == 2
    assert outbox.relay() == 0


def test_a_row_held_by_another_delivery_is_busy(notification):
    message = OutboxMessage.objects.create(task=notification_email_send.name, args=[notification.pk])
    params = connection.get_connection_params()
    other = psycopg.connect(**params, autocommit=True)
    other.execute("SELECT pg_advisory_lock(%s::int, %s::int)", [outbox.LOCK_NAMESPACE, message.pk])
    assert outbox.deliver(message.pk) == "busy"
    other.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", [outbox.LOCK_NAMESPACE, message.pk])
    other.close()
    assert outbox.deliver(message.pk) == "done"
    assert len(mail.outbox) == 1


def test_a_failing_task_stays_pending_with_its_error(notification, settings):
    message = OutboxMessage.objects.create(task=notification_email_send.name, args=[notification.pk + 999])
    with pytest.raises(Notification.DoesNotExist):
        outbox.deliver(message.pk)
    message.refresh_from_db()
    assert message.processed_at is None and message.attempts == 1 and "DoesNotExist" in message.last_error


def test_stale_published_rows_are_published_again(notification):
    long_ago = timezone.now() - dt.timedelta(hours=1)
    message = OutboxMessage.objects.create(task=notification_email_send.name, args=[notification.pk])
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=long_ago, published_at=long_ago)
    assert list(outbox.pending().values_list("pk", flat=True)) == [message.pk]
    assert outbox.relay() == 1 and len(mail.outbox) == 1


def test_services_queue_their_jobs_through_the_outbox():
    """No service schedules a task with on_commit(lambda: task.delay(...)) any more: the outbox is the one way."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "apps"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.parent.name != "core" and re.search(r"on_commit\(\s*lambda[^\n]*\.(delay|apply_async)\(", p.read_text())]
    assert offenders == [], f"use apps.core.outbox.enqueue in {offenders}"
