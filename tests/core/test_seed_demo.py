"""The demo data (manage.py seed_demo): idempotent, and every oversight page a new user opens has something to
show — filings of every kind with their risk flags, a reconciliation run with discrepancies (one explained),
enforcement actions, due and overdue reports, and refreshed dashboards."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.filings.models import Filing, FilingKind, FilingStatus
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def _counts() -> dict:
    from apps.batteries.models import Battery, BatteryEvent
    from apps.core.models import OutboxMessage
    from apps.enforcement.models import ActionTransition, EnforcementAction
    from apps.filings.models import FilingTransition, Notification
    from apps.reconciliation.models import Discrepancy, ReconciliationRun
    from apps.reconciliation.stats import AggregateRefresh

    return {model.__name__: model.objects.count() for model in (
        Filing, FilingTransition, Notification, Battery, BatteryEvent, Discrepancy, ReconciliationRun,
        AggregateRefresh, EnforcementAction, ActionTransition, OutboxMessage, User)}


@pytest.fixture(scope="function")
def demo():
    call_command("seed_demo", verbosity=0)
    first = _counts()
    call_command("seed_demo", verbosity=0)
    assert _counts() == first, "a second run of seed_demo changed the data"
    return first


def _filings(kind: str, **filters):
    return list(Filing.objects.filter(kind=kind, **filters).select_related("enterprise"))


def test_seed_demo_twice_creates_each_oversight_example_once(demo):
    from apps.enforcement.models import EnforcementAction
    from apps.reconciliation.models import Discrepancy, DiscrepancyStatus, ReconciliationRun
    from apps.reconciliation.stats import AggregateRefresh

    monthly = _filings(FilingKind.MONTHLY_REPORT)
    assert sorted(f.status for f in monthly) == ["approved", "returned", "submitted"]
    by_status = {f.status: f for f in monthly}
    assert by_status["submitted"].flags == ["ledger_mismatch"]
    assert by_status["approved"].flags == [] and not by_status["approved"].is_overdue
    assert by_status["returned"].transitions.filter(action="return").exclude(comment="").count() == 1
    assert len({f.enterprise_id for f in monthly}) == 3

    recovery = _filings(FilingKind.RECOVERY_REPORT, status=FilingStatus.SUBMITTED)
    assert sorted(tuple(f.flags) for f in recovery) == [(), ("below_threshold",)]
    assert len(_filings(FilingKind.LICENCE_APPLICATION, status=FilingStatus.SUBMITTED)) == 1
    assert len(_filings(FilingKind.EXPLANATION, status=FilingStatus.SUBMITTED)) == 1

    assert ReconciliationRun.objects.filter(status="succeeded").count() == 1
    kinds = set(Discrepancy.objects.values_list("kind", flat=True))
    assert {"reported_vs_ledger", "handover_not_received", "mass_balance"} <= kinds
    explained = Discrepancy.objects.get(status=DiscrepancyStatus.EXPLAINED)
    assert explained.kind == "handover_not_received"
    assert explained.explanations.count() == 1

    actions = {a.status: a for a in EnforcementAction.objects.all()}
    assert sorted(actions) == ["draft", "issued"]
    issued = actions["issued"]
    assert issued.kind == "warning" and issued.created_by.username == "reviewer"
    assert issued.approved_by.username in ("reviewer_gd", "admin") and issued.approved_by != issued.created_by
    assert AggregateRefresh.objects.count() == 1


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_the_oversight_pages_show_the_demo(demo):
    from apps.core.management.commands.seed_demo import ENTERPRISES

    names = {key: name for key, name, *_ in ENTERPRISES}
    reviewer = signed_in(User.objects.get(username="reviewer"))
    queue = _get(reviewer, "/en/review/filings/")
    for key in ("battery2", "recycler", "recycler2", "recycler3", "vehicle"):
        assert names[key] in queue, key
    overdue = _get(reviewer, "/en/review/overdue/")
    assert names["swap"] in overdue
    assert names["battery2"] in _get(reviewer, "/en/review/discrepancies/")
    assert names["vehicle"] in _get(reviewer, "/en/review/discrepancies/?status=explained")
    enforcement = _get(reviewer, "/en/review/enforcement/")
    assert names["battery2"] in enforcement and names["recycler"] in enforcement
    _get(reviewer, "/en/review/oversight/")
    data = reviewer.get("/en/review/oversight/data.json").json()
    assert data["refreshed_at"], "the dashboards' views were not refreshed"
    charts = {chart["id"]: chart["rows"] for chart in data["charts"]}
    assert charts["overdue_reports"] and charts["discrepancies_by_enterprise"]

    swap = signed_in(User.objects.get(username="swap_admin"))
    assert "overdue by" in _get(swap, "/en/deadlines/")
    battery2 = signed_in(User.objects.get(username="battery2_admin"))
    assert "Warning" in _get(battery2, "/en/enforcement/")


@pytest.mark.parametrize("today", ["2027-01-03", "2027-03-09", "2027-07-31"])
def test_the_demo_holds_on_any_day(today):
    """Early in a month (last month's reports not yet due), after February, in January: the seed still goes
    through every service, and the enterprise that files nothing is overdue."""
    import datetime as dt
    from unittest import mock
    from zoneinfo import ZoneInfo

    from apps.deadlines.selectors import overdue_reports

    moment = dt.datetime.combine(dt.date.fromisoformat(today), dt.time(11), ZoneInfo("Asia/Shanghai"))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        call_command("seed_demo", verbosity=0)
        rows = list(overdue_reports(actor=User.objects.get(username="reviewer"))[:50])
        reports = list(Filing.objects.filter(period__isnull=False))
        assert not any(f.is_overdue for f in reports)
    last_month = (moment.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert {f.period for f in reports} == {last_month} and len(reports) == 5
    assert {row["enterprise_name"] for row in rows} == {"京畿换电运营服务有限公司"}
