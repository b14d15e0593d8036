"""Each check finds exactly the discrepancy planted for it, and nothing else (including the look-alike that must
not be flagged)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.batteries import services as battery_services
from apps.enterprises import services as enterprise_services
from apps.enterprises.models import LicenceChange
from apps.filings import selectors as filing_selectors
from apps.filings import services as filing_services
from apps.reconciliation.rules import count_severity
from apps.scrapping import services as scrapping_services
from apps.scrapping.models import ScrappingCertificate
from tests.batteries.conftest import VIN, VIN3, make_code
from tests.batteries.flows import installed, registered
from tests.reconciliation.conftest import days_ago
from tests.scrapping.conftest import take_in

pytestmark = pytest.mark.django_db


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def in_last_month(day: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(last_month().replace(day=day), dt.time(10)))


def test_reported_vs_ledger_flags_the_count_that_differs_from_the_ledger(run, maker, carmaker, reviewer):
    for day in (3, 4, 5):
        registered(maker, make_code(day=last_month()), occurred_at=in_last_month(day))
    report = filing_services.monthly_report_create(actor=maker, month=last_month(), counts={"produced": 5})
    filing_services.filing_submit(actor=maker, filing_id=report.pk)
    # a draft is not filed yet: its wrong counts are nobody's business
    filing_services.monthly_report_create(actor=carmaker, month=last_month(), counts={"installed": 9})

    found = run()

    assert found == [("reported_vs_ledger", maker.enterprise.pk, last_month(), "produced", 5, 3, ())]
    # the same definition as the comparison a reviewer sees on the report
    compared = filing_selectors.monthly_report_comparison(filing_selectors.filing_get(actor=reviewer, pk=report.pk))
    assert [(r["name"], r["declared"], r["ledger"]) for r in compared if r["differs"]] == [("produced", 5, 3)]


def test_reported_vs_ledger_flags_nothing_when_the_report_matches(run, maker):
    for day in (3, 4):
        registered(maker, make_code(day=last_month()), occurred_at=in_last_month(day))
    report = filing_services.monthly_report_create(actor=maker, month=last_month(),
                                                   counts={"produced": 2, "in_stock": 7})
    filing_services.filing_submit(actor=maker, filing_id=report.pk)
    assert run() == []


def test_severity_in_sql_matches_the_rule(run, maker):
    registered(maker, make_code(day=last_month()), occurred_at=in_last_month(3))
    report = filing_services.monthly_report_create(actor=maker, month=last_month(), counts={"produced": 1,
                                                                                            "received": 30})
    filing_services.filing_submit(actor=maker, filing_id=report.pk)
    run()
    from apps.reconciliation.models import Discrepancy

    (d,) = Discrepancy.objects.all()
    assert d.severity == count_severity(d.expected, d.found) == "high"
    assert count_severity(100, 95) == "medium"


def test_handover_not_received_after_the_working_days(run, maker, carmaker):
    late = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=late, recipient=carmaker.enterprise,
                                       occurred_at=days_ago(20))
    recent = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=recent, recipient=carmaker.enterprise,
                                       occurred_at=days_ago(1))
    received = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=received, recipient=carmaker.enterprise,
                                       occurred_at=days_ago(20))
    battery_services.battery_receive(actor=carmaker, code=received, occurred_at=days_ago(19))

    assert run() == [("handover_not_received", carmaker.enterprise.pk, None, "in_transit", 0, 1, (late,))]


def _scrapped(maker, carmaker, dismantler, vin: str, number: str) -> str:
    code = installed(maker, carmaker, vin)
    intake = take_in(dismantler, vin, [code])
    scrapping_services.scrapping_certificate_issue(actor=dismantler, intake_id=intake.pk, number=number)
    return code


def test_scrapped_not_handed_over_by_the_deadline(run, maker, carmaker, dismantler, recycler):
    kept = _scrapped(maker, carmaker, dismantler, VIN, "SC-2026-0001")
    handed = _scrapped(maker, carmaker, dismantler, VIN3, "SC-2026-0002")
    battery_services.battery_hand_over(actor=dismantler, code=handed, recipient=recycler.enterprise)
    battery_services.battery_receive(actor=recycler, code=handed)
    # time passes: both deadlines are behind us
    ScrappingCertificate.objects.update(handover_deadline=timezone.localdate() - dt.timedelta(days=1))

    assert run() == [("scrapped_not_handed_over", dismantler.enterprise.pk, None, "removed_still_held", 0, 1,
                      (kept,))]


def test_scrapped_within_the_deadline_is_not_flagged(run, maker, carmaker, dismantler):
    _scrapped(maker, carmaker, dismantler, VIN, "SC-2026-0003")
    assert run() == []


def test_licence_not_active_on_the_day_of_receipt(run, maker, recycler, admin_user):
    licence = recycler.enterprise.licences.get()
    enterprise_services.recycler_licence_suspend(actor=admin_user, licence=licence, reason="现场检查不合格")
    enterprise_services.recycler_licence_reinstate(actor=admin_user, licence=licence, reason="整改完成")
    # the suspension lasted from ten days ago to five days ago
    LicenceChange.objects.filter(action="suspended").update(created_at=days_ago(10))
    LicenceChange.objects.filter(action="reinstated").update(created_at=days_ago(5))

    def waste_received(handed_days_ago: float, received_days_ago: float) -> str:
        code = registered(maker, occurred_at=days_ago(30))
        battery_services.battery_declare_waste(actor=maker, code=code, occurred_at=days_ago(29))
        battery_services.battery_hand_over(actor=maker, code=code, recipient=recycler.enterprise,
                                           occurred_at=days_ago(handed_days_ago))
        # the receipt is reported late, backdated into the suspension: the service checks today's licence status
        battery_services.battery_receive(actor=recycler, code=code, occurred_at=days_ago(received_days_ago))
        return code

    during = waste_received(9, 7)
    waste_received(3, 2)  # after reinstatement: fine

    month = timezone.localtime(days_ago(7)).date().replace(day=1)
    assert run() == [("licence_not_active", recycler.enterprise.pk, month, "received_waste", 0, 1, (during,))]


def test_gone_dark_waste_battery(run, maker):
    dark = registered(maker, occurred_at=days_ago(200))
    battery_services.battery_declare_waste(actor=maker, code=dark, occurred_at=days_ago(100))
    lively = registered(maker, occurred_at=days_ago(200))
    battery_services.battery_declare_waste(actor=maker, code=lively, occurred_at=days_ago(10))
    registered(maker, occurred_at=days_ago(200))  # not waste: quiet in stock is no discrepancy

    assert run() == [("gone_dark", maker.enterprise.pk, None, "no_event", 0, 1, (dark,))]
