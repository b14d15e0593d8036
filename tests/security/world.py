"""The world the security suites attack: Alice's enterprise (Fujian, 35) owns one object of every kind — a
battery installed in a vehicle, a bulk import, a scrapping intake with photos and its certificate, an intake file,
a submitted monthly report with a commented attachment, an API key, a filer, a recycling licence, a business
licence — built through the real services. Bob's enterprise (Shanghai) has its own battery and filing so that his
lists are not empty. Everything that identifies Alice's side is collected in `markers`: none of it may appear in a
response given to someone who should not see it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.services import api_key_create
from apps.batteries import services as battery_services
from apps.enterprises.models import ManufacturerCode, Membership
from apps.filings import services as filing_services
from apps.scrapping import services as scrapping_services
from apps.scrapping.intake_file import intake_file_apply
from apps.scrapping.verification import certificate_token
from tests.batteries.conftest import make_code
from tests.factories import LicenceFactory, pdf_upload
from tests.scrapping.conftest import OWNER_ID, intake_args

ALICE_VIN = "LSVAU218XN2183294"
ALICE_VIN2 = "LGXC16DF3N0000001"


@dataclass
class World:
    ids: dict = field(default_factory=dict)
    markers: list = field(default_factory=list)
    named: dict = field(default_factory=dict)  # "name", "uscc" -> Alice's enterprise's


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def build_world(*, alice_co, alice, alice_filer, bob, reviewer) -> World:
    alice_co.roles = ["battery_maker", "vehicle_maker", "dismantler", "recycler"]
    alice_co.business_licence = pdf_upload()
    alice_co.save()
    ManufacturerCode.objects.create(code="0PA", enterprise=alice_co)
    licence = LicenceFactory(enterprise=alice_co, number="ALICE-LIC-7731",
                             valid_from=timezone.localdate() - dt.timedelta(days=1),
                             valid_to=timezone.localdate() + dt.timedelta(days=300))

    # a battery installed in a vehicle, then the vehicle scrapped with a certificate
    code = make_code("0PA", serial=7730001)
    battery_services.battery_register(actor=alice, code=code)
    battery_services.battery_install(actor=alice, code=code, vin=ALICE_VIN, model_name="爱丽丝 X1")
    intake = scrapping_services.scrapping_intake_create(actor=alice, **intake_args(ALICE_VIN, [code]))
    certificate = scrapping_services.scrapping_certificate_issue(actor=alice, intake_id=intake.pk,
                                                                 number="ALICE-CERT-000777")
    # a second battery still in Alice's stock, and a second (open) intake
    stock_code = make_code("0PA", serial=7730002)
    battery_services.battery_register(actor=alice, code=stock_code)
    battery_services.battery_register(actor=alice, code=make_code("0PA", serial=7730003))
    battery_services.battery_install(actor=alice, code=make_code("0PA", serial=7730003), vin=ALICE_VIN2,
                                     model_name="爱丽丝 X1")
    open_intake = scrapping_services.scrapping_intake_create(
        actor=alice, **intake_args(ALICE_VIN2, [make_code("0PA", serial=7730003)]))

    bulk = battery_services.bulk_import_create(
        actor=alice, kind="register",
        upload=SimpleUploadedFile("codes.csv", f"电池编码\n{make_code('0PA', serial=7730004)}\n".encode()))
    from tests.scrapping.test_intake_file import csv_bytes, row  # the intake-file tests' own CSV builder
    intake_file, _ = intake_file_apply(actor=alice, upload=SimpleUploadedFile(
        "vehicles.csv", csv_bytes([row("LRWYGCEK4NC000001", "")])))

    month = _last_month()
    filing = filing_services.monthly_report_create(actor=alice, month=month, counts={"produced": 1})
    filing_services.filing_submit(actor=alice, filing_id=filing.pk)
    comment = filing_services.filing_comment_add(actor=alice, filing_id=filing.pk, body="爱丽丝的说明",
                                                 attachment=pdf_upload())
    key, _secret = api_key_create(actor=alice, name="ALICE-ERP-KEY")

    # Bob's own things, so his lists have something of his in them
    bob_co = bob.enterprise
    bob_filing = filing_services.monthly_report_create(actor=bob, month=month, counts={"produced": 0})

    discrepancy = _discrepancy(alice_co)
    recovery_report, explanation = _recovery_report_and_explanation(alice, discrepancy)
    enforcement_action = _enforcement_action(alice_co, alice, reviewer, code)
    licence_application = _licence_application(alice)

    world = World()
    world.ids = {
        "alice_co": alice_co.pk, "bob_co": bob_co.pk, "licence": licence.pk,
        "battery_code": code, "stock_code": stock_code, "vin": ALICE_VIN, "vin2": ALICE_VIN2,
        "intake": intake.pk, "open_intake": open_intake.pk, "certificate": certificate.pk,
        "certificate_token": certificate_token(certificate.pk), "bulk_import": bulk.pk,
        "intake_file": intake_file.pk, "filing": filing.pk, "filing_comment": comment.pk,
        "api_key": key.pk, "filer_membership": Membership.objects.get(user=alice_filer).pk,
        "reviewer": reviewer.pk, "bob_filing": bob_filing.pk, "discrepancy": discrepancy,
        "recovery_report": recovery_report, "explanation": explanation,
        "enforcement_action": enforcement_action, "licence_application": licence_application,
    }
    world.markers = [alice_co.name, alice_co.uscc, code, stock_code, ALICE_VIN, ALICE_VIN2, "ALICE-CERT-000777",
                     "ALICE-ERP-KEY", key.prefix, alice_filer.username, alice_filer.email, OWNER_ID,
                     "爱丽丝的说明", "爱丽丝 X1", "ALICE-LIC-APPL-9", "爱丽丝的解释", "爱丽丝的违规事实", "爱丽丝的答复"]
    world.named = {"name": alice_co.name, "uscc": alice_co.uscc}
    return world


def _licence_application(alice) -> int:
    """A submitted application of Alice's (a recycler) to renew her listing after her current licence."""
    from apps.enterprises.services import licence_application_create

    today = timezone.localdate()
    filing = licence_application_create(actor=alice, document=pdf_upload(), data={
        "number": "ALICE-LIC-APPL-9", "scopes": ["dismantling"], "chemistries": ["E"],
        "annual_capacity_tonnes": "500", "valid_from": today + dt.timedelta(days=301),
        "valid_to": today + dt.timedelta(days=700), "address": "福州市马尾区1号"})
    filing_services.filing_submit(actor=alice, filing_id=filing.pk)
    return filing.pk


def _recovery_report_and_explanation(alice, discrepancy) -> tuple:
    """Alice's enterprise is a licensed recycler: a submitted recovery report for this month (its licence began
    yesterday) and a submitted explanation of her discrepancy."""
    from apps.filings import explanation_services, recovery_services

    report = recovery_services.recovery_report_create(actor=alice, month=timezone.localdate(),
                                                      inputs={"E": "1000"}, outputs={"ni": "75"})
    filing_services.filing_submit(actor=alice, filing_id=report.pk)
    if discrepancy is None:
        return report.pk, None
    explanation = explanation_services.explanation_create(actor=alice, discrepancy_id=discrepancy,
                                                          text="爱丽丝的解释")
    filing_services.filing_submit(actor=alice, filing_id=explanation.pk)
    return report.pk, explanation.pk


def _discrepancy(alice_co) -> int | None:
    """One open discrepancy of Alice's, when the reconciliation app is installed."""
    from django.apps import apps

    if not apps.is_installed("apps.reconciliation"):
        return None
    from apps.reconciliation.models import Check, Discrepancy, Severity

    now = timezone.now()
    return Discrepancy.objects.create(enterprise=alice_co, period=_last_month(), kind=Check.values[0],
                                      expected=1, found=2, severity=Severity.values[0], first_seen=now,
                                      last_seen=now).pk


def _enforcement_action(alice_co, alice, reviewer, code) -> int:
    """A fine issued to Alice's enterprise (drafted by `reviewer`, approved by a second reviewer of Fujian) and
    answered with a PDF: its pages and endpoints belong to Alice and the reviewers of her province only."""
    from apps.accounts.models import User
    from apps.batteries.models import BatteryEvent
    from apps.enforcement import services as enforcement_services
    from tests.factories import UserFactory

    second = UserFactory(username="fj_second", kind=User.Kind.REVIEWER, reviewer_provinces=["35"])
    event = BatteryEvent.objects.filter(actor=alice_co, battery__code=code).order_by("seq").first()
    action = enforcement_services.enforcement_action_create(
        actor=reviewer, enterprise_id=alice_co.pk, kind="fine", amount="7731", facts="爱丽丝的违规事实",
        legal_basis="《暂行办法》", deadline=timezone.localdate() + dt.timedelta(days=30), event_ids=[event.pk])
    enforcement_services.enforcement_action_submit(actor=reviewer, action_id=action.pk)
    enforcement_services.enforcement_action_approve(actor=second, action_id=action.pk)
    enforcement_services.enforcement_action_answer(actor=alice, action_id=action.pk, text="爱丽丝的答复",
                                                   attachment=pdf_upload())
    return action.pk
