"""Each check finds exactly the discrepancy planted for it, and nothing else (including the look-alike that must
not be flagged)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.batteries import services as battery_services
from apps.batteries.ledger import ledger_append
from apps.batteries.models import Battery
from apps.enterprises import services as enterprise_services
from apps.enterprises.models import LicenceChange
from apps.filings import selectors as filing_selectors
from apps.filings import explanation_services, recovery_services
from apps.filings import services as filing_services
from apps.reconciliation import rules
from apps.reconciliation.models import Discrepancy
from apps.reconciliation.rules import count_severity
from apps.scrapping import services as scrapping_services
from apps.scrapping.models import ScrappingCertificate, ScrappingIntake
from tests.batteries.conftest import VIN, VIN2, VIN3, make_code
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
    report = filing_services.monthly_report_create(actor=maker, month=last_month(), counts={"produced": 5, "in_stock": 5})
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
                                                   counts={"produced": 2, "in_stock": 2})
    filing_services.filing_submit(actor=maker, filing_id=report.pk)
    assert run() == []


def test_severity_in_sql_matches_the_rule(run, maker):
    registered(maker, make_code(day=last_month()), occurred_at=in_last_month(3))
    report = filing_services.monthly_report_create(actor=maker, month=last_month(), counts={"produced": 1,
                                                                                            "received": 30,
                                                                                            "in_stock": 31})
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


# --- stock balance ----------------------------------------------------------------------------------------------


def month_before_last() -> dt.date:
    return (last_month() - dt.timedelta(days=1)).replace(day=1)


def _filed_report(user, month: dt.date, counts: dict):
    report = filing_services.monthly_report_create(actor=user, month=month, counts=counts)
    filing_services.filing_submit(actor=user, filing_id=report.pk)
    return report


def _produced(maker, month: dt.date, n: int) -> list[str]:
    at = timezone.make_aware(dt.datetime.combine(month.replace(day=2), dt.time(10)))
    return [registered(maker, make_code(day=month), occurred_at=at) for _ in range(n)]


def test_stock_balance_flags_a_closing_stock_that_does_not_follow_from_the_month_before(run, maker):
    _produced(maker, month_before_last(), 4)
    _filed_report(maker, month_before_last(), {"produced": 4, "in_stock": 4})
    _produced(maker, last_month(), 3)
    # opening 4 (last month's declared closing) + produced 3 = 7, but 9 declared
    _filed_report(maker, last_month(), {"produced": 3, "in_stock": 9})

    assert run() == [("stock_balance", maker.enterprise.pk, last_month(), "closing_stock", 7, 9, ())]


def test_stock_balance_takes_the_ledger_opening_and_counts_refused_batteries_back(run, maker, carmaker):
    _produced(maker, month_before_last(), 4)  # no report for that month: the opening comes from the ledger
    codes = _produced(maker, last_month(), 3)
    battery_services.battery_hand_over(actor=maker, code=codes[0], recipient=carmaker.enterprise,
                                       occurred_at=in_last_month(5))
    battery_services.battery_refuse(actor=carmaker, code=codes[0], reason="型号不符", occurred_at=in_last_month(6))
    battery_services.battery_hand_over(actor=maker, code=codes[1], recipient=carmaker.enterprise,
                                       occurred_at=in_last_month(7))
    battery_services.battery_receive(actor=carmaker, code=codes[1], occurred_at=in_last_month(8))
    # 4 + produced 3 − handed over 2 + 1 refused and back = 6
    _filed_report(maker, last_month(), {"produced": 3, "handed_over": 2, "in_stock": 6})

    # (the refused battery the maker has not moved since is refused_not_taken_back's business)
    assert [d[0] for d in run()] == ["refused_not_taken_back"]
    assert rules.expected_closing_stock(opening=4, declared={"produced": 3, "handed_over": 2, "replaced": 5},
                                        undeclared_in=1) == 6


# --- received by another enterprise than the named recipient -------------------------------------------------------


def _append(code: str, kind: str, actor, *, counterparty=None, occurred_at=None, **state) -> None:
    """An event written straight into the ledger, as data loaded from elsewhere could be (the services refuse it)."""
    battery = Battery.objects.select_for_update().get(code=code)
    ledger_append(battery=battery, kind=kind, actor_id=actor.pk, counterparty_id=getattr(counterparty, "pk", None),
                  occurred_at=occurred_at or timezone.now())
    for name, value in state.items():
        setattr(battery, name, value)
    battery.save()


def test_received_by_another_enterprise_than_the_named_recipient(run, maker, carmaker, collector):
    taken = registered(maker, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=taken, recipient=carmaker.enterprise,
                                       occurred_at=days_ago(3))
    _append(taken, "received", collector.enterprise, counterparty=maker.enterprise, status="in_stock",
            transit_to=None, holder=collector.enterprise)
    proper = registered(maker, occurred_at=days_ago(30))  # received by the one it was handed to: fine
    battery_services.battery_hand_over(actor=maker, code=proper, recipient=collector.enterprise,
                                       occurred_at=days_ago(3))
    battery_services.battery_receive(actor=collector, code=proper)

    month = timezone.localdate().replace(day=1)
    assert run() == [("received_by_other", collector.enterprise.pk, month, "not_addressed", 0, 1, (taken,))]


# --- refused and not taken back ----------------------------------------------------------------------------------


def test_refused_and_not_taken_back_within_the_working_days(run, maker, carmaker, collector):
    def refused(refused_days_ago: float) -> str:
        code = registered(maker, occurred_at=days_ago(40))
        battery_services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise,
                                           occurred_at=days_ago(refused_days_ago + 1))
        battery_services.battery_refuse(actor=carmaker, code=code, reason="外观破损",
                                        occurred_at=days_ago(refused_days_ago))
        return code

    left = refused(20)
    refused(1)  # refused yesterday: the sender still has time
    moved_on = refused(20)  # the sender's next step shows it has the battery back
    battery_services.battery_hand_over(actor=maker, code=moved_on, recipient=collector.enterprise,
                                       occurred_at=days_ago(1))

    assert run() == [("refused_not_taken_back", maker.enterprise.pk, None, "not_taken_back", 0, 1, (left,))]
    assert Discrepancy.objects.get().severity == "medium"  # not waste


def test_a_refused_waste_battery_not_taken_back_is_high(run, maker, recycler):
    code = registered(maker, occurred_at=days_ago(40))
    battery_services.battery_declare_waste(actor=maker, code=code, occurred_at=days_ago(30))
    battery_services.battery_hand_over(actor=maker, code=code, recipient=recycler.enterprise, occurred_at=days_ago(21))
    battery_services.battery_refuse(actor=recycler, code=code, reason="无检测报告", occurred_at=days_ago(20))

    assert [d[0] for d in run()] == ["refused_not_taken_back"]
    assert Discrepancy.objects.get().severity == "high"


# --- licensed annual capacity --------------------------------------------------------------------------------------


def _waste_received(maker, recycler, weight_kg=None) -> str:
    code = registered(maker, weight_kg=weight_kg, occurred_at=days_ago(3))
    battery_services.battery_declare_waste(actor=maker, code=code, occurred_at=days_ago(2))
    battery_services.battery_hand_over(actor=maker, code=code, recipient=recycler.enterprise,
                                       occurred_at=days_ago(1))
    battery_services.battery_receive(actor=recycler, code=code)
    return code


@pytest.fixture
def small_licence(recycler):
    """Half a tonne a year, valid over the whole of this year."""
    today = timezone.localdate()
    recycler.enterprise.licences.update(annual_capacity_tonnes=Decimal("0.5"), valid_from=today.replace(month=1, day=1),
                                        valid_to=today.replace(month=12, day=31))
    return recycler


def test_licence_capacity_exceeded_by_weight(run, maker, small_licence):
    _waste_received(maker, small_licence, weight_kg=300)
    second = _waste_received(maker, small_licence, weight_kg=300)

    year = timezone.localdate().replace(month=1, day=1)
    assert run() == [("licence_capacity_exceeded", small_licence.enterprise.pk, year, "received_kg", 500, 600,
                      (second,))]
    assert Discrepancy.objects.get().severity == "high"
    today = timezone.localdate()
    assert rules.prorated_capacity_kg(annual_tonnes=Decimal("0.5"), valid_from=today.replace(month=1, day=1),
                                      valid_to=today.replace(month=12, day=31), year=today.year) == 500


def test_licence_capacity_within_the_limit_is_not_flagged(run, maker, small_licence):
    _waste_received(maker, small_licence, weight_kg=300)
    _waste_received(maker, small_licence, weight_kg=199)
    assert run() == []


def test_licence_capacity_exceeded_only_by_assumed_weights_is_medium(run, maker, small_licence, settings):
    settings.RECONCILIATION_DEFAULT_WEIGHT_KG = {"P": 400, "M": 30, "C": 3}
    _waste_received(maker, small_licence, weight_kg=300)
    unweighed = _waste_received(maker, small_licence)

    (d,) = run()
    assert d[3:] == ("received_kg", 500, 700, (unweighed,))
    assert Discrepancy.objects.get().severity == "medium"


# --- blocked scrapping intakes not explained --------------------------------------------------------------------


def test_blocked_intake_without_an_explanation_filed(run, maker, carmaker, dismantler):
    def blocked(vin: str, recorded_days_ago: float):
        code = installed(maker, carmaker, vin)
        intake = take_in(dismantler, vin, [])  # the pack is missing: blocked
        ScrappingIntake.objects.filter(pk=intake.pk).update(created_at=days_ago(recorded_days_ago))
        return intake, code

    left, missing = blocked(VIN, 30)
    blocked(VIN2, 1)  # recorded yesterday: the dismantler still has time
    explained, _code = blocked(VIN3, 30)
    filing = explanation_services.explanation_create(actor=dismantler, intake_id=explained.pk,
                                                     text="车主自行拆除电池，已报公安机关。")
    filing_services.filing_submit(actor=dismantler, filing_id=filing.pk)

    assert run() == [("blocked_intake_unexplained", dismantler.enterprise.pk, None, "blocked_intake", 1, 0,
                      (missing,))]
    assert Discrepancy.objects.get().subject == f"{VIN}/{left.pk}"

    # explained at last: the next run closes the discrepancy, and a further one changes nothing
    filing = explanation_services.explanation_create(actor=dismantler, intake_id=left.pk, text="电池被盗，已报案。")
    filing_services.filing_submit(actor=dismantler, filing_id=filing.pk)
    assert run() == [] and run() == []
    assert Discrepancy.objects.get().status == "resolved"


def test_a_draft_explanation_does_not_explain_a_blocked_intake(run, maker, carmaker, dismantler):
    installed(maker, carmaker, VIN)
    intake = take_in(dismantler, VIN, [])
    ScrappingIntake.objects.filter(pk=intake.pk).update(created_at=days_ago(30))
    explanation_services.explanation_create(actor=dismantler, intake_id=intake.pk, text="草稿，尚未提交。")
    assert [d[0] for d in run()] == ["blocked_intake_unexplained"]


# --- mass balance ------------------------------------------------------------------------------------------------


def _received_last_month(maker, recycler, weight_kg) -> str:
    code = registered(maker, make_code(day=last_month()), weight_kg=weight_kg, occurred_at=in_last_month(2))
    battery_services.battery_declare_waste(actor=maker, code=code, occurred_at=in_last_month(3))
    battery_services.battery_hand_over(actor=maker, code=code, recipient=recycler.enterprise,
                                       occurred_at=in_last_month(4))
    battery_services.battery_receive(actor=recycler, code=code, occurred_at=in_last_month(5))
    return code


def _recovery_report(recycler, nickel_kg: int) -> None:
    filing = recovery_services.recovery_report_create(actor=recycler, month=last_month(), inputs={"E": 300},
                                                      outputs={"ni": nickel_kg})
    filing_services.filing_submit(actor=recycler, filing_id=filing.pk)


def test_mass_balance_flags_more_metal_recovered_than_received(run, maker, recycler):
    code = _received_last_month(maker, recycler, 300)
    _recovery_report(recycler, 30)  # 300 kg of ternary pack hold 300 × 7.6 % = 22.8 kg of nickel

    assert run() == [("mass_balance", recycler.enterprise.pk, last_month(), "ni", 23, 30, (code,))]
    assert Discrepancy.objects.get().severity == "high"


def test_mass_balance_within_the_content_is_not_flagged(run, maker, recycler):
    _received_last_month(maker, recycler, 300)
    _recovery_report(recycler, 22)
    assert run() == []
