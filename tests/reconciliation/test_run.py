"""The run: idempotent upsert on the discrepancy key, closing what no longer holds, dry run, scope, the advisory
lock, the management command and the task."""
from __future__ import annotations

import io

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.batteries import services as battery_services
from apps.reconciliation.models import Discrepancy, ReconciliationRun
from apps.reconciliation.services import LOCK_NAMESPACE, reconciliation_run
from tests.batteries.flows import registered
from tests.reconciliation.conftest import days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def stuck(maker, carmaker):
    """A battery handed to the carmaker twenty days ago and never received."""
    code = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise,
                                       occurred_at=days_ago(20))
    return code


def test_a_rerun_updates_and_never_duplicates(stuck, maker, carmaker):
    first = reconciliation_run()
    (d,) = Discrepancy.objects.all()
    assert first.counts["handover_not_received"] == 1 and d.found == 1

    another = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=another, recipient=carmaker.enterprise,
                                       occurred_at=days_ago(15))
    reconciliation_run()

    (again,) = Discrepancy.objects.all()
    assert again.pk == d.pk and again.found == 2 and sorted(again.codes) == sorted([stuck, another])
    assert again.first_seen == d.first_seen and again.last_seen > d.last_seen
    assert ReconciliationRun.objects.filter(status="succeeded").count() == 2


def test_a_fixed_situation_closes_its_discrepancy_and_a_recurrence_reopens_it(stuck, maker, carmaker):
    reconciliation_run()
    battery_services.battery_receive(actor=carmaker, code=stuck)
    result = reconciliation_run()

    d = Discrepancy.objects.get()
    assert result.closed == 1 and d.status == "resolved" and d.closed_at is not None

    again = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=again, recipient=carmaker.enterprise,
                                       occurred_at=days_ago(20))
    reconciliation_run()
    d.refresh_from_db()
    assert d.status == "open" and d.closed_at is None and d.codes == [again]


def test_a_dry_run_writes_no_discrepancy(stuck):
    result = reconciliation_run(dry_run=True)
    assert result.counts["handover_not_received"] == 1
    assert not Discrepancy.objects.exists()
    assert result.run.dry_run and result.run.counts == result.counts


def test_an_enterprise_run_touches_only_that_enterprise(stuck, maker, carmaker):
    reconciliation_run()
    battery_services.battery_receive(actor=carmaker, code=stuck)
    reconciliation_run(enterprise=maker.enterprise)  # not the carmaker's: its discrepancy stays open
    assert Discrepancy.objects.get().status == "open"
    reconciliation_run(enterprise=carmaker.enterprise)
    assert Discrepancy.objects.get().status == "resolved"


@pytest.fixture
def other_session():
    """A second database session, as another worker would hold."""
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
                         host=settings["HOST"] or None, port=settings["PORT"] or None, autocommit=True) as other:
        yield other


def test_a_second_run_while_one_holds_the_lock_returns_already_running(stuck, other_session, carmaker):
    other_session.execute("SELECT pg_advisory_lock(%s, 0)", [LOCK_NAMESPACE])  # a full run in progress
    try:
        result = reconciliation_run()
        assert result.skipped and result.counts == {}
        assert reconciliation_run(enterprise=carmaker.enterprise).skipped
        out = io.StringIO()
        call_command("reconcile", stdout=out)
        assert "already running" in out.getvalue()
    finally:
        other_session.execute("SELECT pg_advisory_unlock(%s, 0)", [LOCK_NAMESPACE])
    assert not Discrepancy.objects.exists()
    assert ReconciliationRun.objects.filter(status="skipped").count() == 3


def test_runs_for_different_enterprises_do_not_block_each_other(stuck, other_session, maker, carmaker):
    other_session.execute("SELECT pg_advisory_lock_shared(%s, 0), pg_advisory_lock(%s, %s)",
                          [LOCK_NAMESPACE, LOCK_NAMESPACE, maker.enterprise.pk])
    try:
        assert reconciliation_run(enterprise=maker.enterprise).skipped
        assert not reconciliation_run(enterprise=carmaker.enterprise).skipped
        assert reconciliation_run().skipped  # a full run waits for every enterprise run
    finally:
        other_session.execute("SELECT pg_advisory_unlock_all()")
    assert Discrepancy.objects.count() == 1


def test_the_command_prints_counts_per_check(stuck, carmaker):
    out = io.StringIO()
    call_command("reconcile", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "handover_not_received" in text and "dry run" in text and "gone_dark" in text
    assert not Discrepancy.objects.exists()

    call_command("reconcile", "--enterprise", carmaker.enterprise.uscc, stdout=io.StringIO())
    assert Discrepancy.objects.get().enterprise_id == carmaker.enterprise.pk
    with pytest.raises(CommandError):
        call_command("reconcile", "--enterprise", "91350200776049653A", stdout=io.StringIO())


def test_the_nightly_task_splits_the_run_into_batches(stuck, maker, carmaker, settings,
                                                      django_capture_on_commit_callbacks):
    from apps.reconciliation.tasks import reconciliation_run_all

    settings.RECONCILIATION_BATCH_SIZE = 1
    with django_capture_on_commit_callbacks(execute=True):
        outcome = reconciliation_run_all.delay().get()
    parent = ReconciliationRun.objects.get(pk=outcome["run"])
    children = list(parent.children.all())
    assert outcome["batches"] == parent.children_total == len(children) >= 2 and not outcome["skipped"]
    assert all(len(c.batch) == 1 and c.status == "succeeded" for c in children)
    assert parent.status == "succeeded" and parent.finished_at is not None
    assert parent.counts["handover_not_received"] == 1
    assert Discrepancy.objects.get().enterprise_id == carmaker.enterprise.pk


def test_submitting_a_report_queues_a_run_for_the_enterprise(maker, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from apps.filings import services as filing_services

    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    report = filing_services.monthly_report_create(actor=maker, month=month, counts={"produced": 4,
                                                                                       "in_stock": 4})
    with django_capture_on_commit_callbacks(execute=True):
        filing_services.filing_submit(actor=maker, filing_id=report.pk)
    run = ReconciliationRun.objects.get()
    assert run.enterprise_id == maker.enterprise.pk and run.counts["reported_vs_ledger"] == 1
    assert Discrepancy.objects.get().figure == "produced"


def test_nightly_run_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reconciliation-nightly"]
    assert entry["task"] == "apps.reconciliation.tasks.reconciliation_run_all"


def _snapshot() -> list[tuple]:
    return sorted((d.kind, d.enterprise_id, d.period, d.figure, d.subject, d.expected, d.found, d.severity,
                   tuple(d.codes), d.code_count, d.status) for d in Discrepancy.objects.all())


@pytest.mark.parametrize("batch_size", [1, 2])
def test_a_split_run_finds_the_same_discrepancies_as_one_full_run(batch_size, stuck, maker, carmaker, collector,
                                                                  recycler, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from apps.filings import services as filing_services
    from apps.reconciliation.services import reconciliation_run_split

    dark = registered(maker, occurred_at=days_ago(200))
    battery_services.battery_declare_waste(actor=maker, code=dark, occurred_at=days_ago(100))
    refused = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=refused, recipient=collector.enterprise,
                                       occurred_at=days_ago(21))
    battery_services.battery_refuse(actor=collector, code=refused, reason="无法接收", occurred_at=days_ago(20))
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    report = filing_services.monthly_report_create(actor=carmaker, month=month, counts={"received": 3, "in_stock": 1})
    filing_services.filing_submit(actor=carmaker, filing_id=report.pk)

    full = reconciliation_run()
    expected = _snapshot()
    assert len({row[0] for row in expected}) >= 4  # several checks, several enterprises
    Discrepancy.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        parent = reconciliation_run_split(batch_size=batch_size)
    parent.refresh_from_db()
    assert _snapshot() == expected
    assert parent.status == "succeeded" and parent.counts == full.counts and parent.closed == 0
    assert parent.children.count() == parent.children_total > 1

    ids = sorted(Discrepancy.objects.values_list("pk", flat=True))
    again = reconciliation_run()  # a re-run of every check updates the same rows
    assert _snapshot() == expected and sorted(Discrepancy.objects.values_list("pk", flat=True)) == ids
    assert again.closed == 0


def test_the_command_queues_a_split_run(stuck, carmaker, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reconcile", "--split", "--batch-size", "1", stdout=out)
    parent = ReconciliationRun.objects.get(parent__isnull=True)
    assert f"run {parent.pk}: {parent.children_total} batches" in out.getvalue()
    assert Discrepancy.objects.get().enterprise_id == carmaker.enterprise.pk
    with pytest.raises(CommandError):
        call_command("reconcile", "--split", "--enterprise", carmaker.enterprise.uscc, stdout=io.StringIO())
