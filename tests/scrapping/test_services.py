"""The scrapping services: every path of the vehicle-and-battery check (complete, missing, mismatch with the
reviewer's decision, swap-model exemption, non-NEV), issuing, voiding and re-issue; every bad input of the issue,
each refused with its stable code and nothing saved."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.batteries import services as battery_services
from apps.batteries.models import Battery, BatteryEvent, BatteryStatus, Vehicle
from apps.core.errors import DomainError, NotFound
from apps.core.workdays import add_working_days
from apps.scrapping import selectors, services
from apps.scrapping.models import (
    CertificateChange,
    CertificateStatus,
    IntakeBattery,
    IntakeStatus,
    ScrappingCertificate,
    ScrappingIntake,
)
from tests.batteries.flows import installed, registered, waste_held_by
from tests.scrapping.conftest import CONVENTIONAL_VIN, OWNER_ID, VIN, VIN2, VIN3, image_upload, intake_args, take_in

pytestmark = pytest.mark.django_db


def refused(call, code: str, field: str | None = ...) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.code == code, (info.value.code, str(info.value.message))
    if field is not ...:
        assert info.value.field == field, info.value.field
    return info.value


def counts() -> tuple:
    return (ScrappingIntake.objects.count(), IntakeBattery.objects.count(), ScrappingCertificate.objects.count(),
            CertificateChange.objects.count(), BatteryEvent.objects.count())


def media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def issue(dismantler, intake, number="ZB-2026-000001"):
    return services.scrapping_certificate_issue(actor=dismantler, intake_id=intake.pk, number=number)


# --- complete --------------------------------------------------------------------------------------------------


def test_complete_intake_may_be_certified(dismantler, nev):
    intake = take_in(dismantler, VIN, [nev])

    assert (intake.outcome, intake.status) == ("complete", "ready")
    assert intake.owner_id_masked == "440****1513"
    assert OWNER_ID not in intake.owner_id_hash and len(intake.owner_id_hash) == 64
    rows = list(intake.batteries.all())
    assert [(r.code, r.role, r.status_at_intake) for r in rows] == [(nev, "present", "installed")]
    assert intake.photo_front.name.startswith("scrapping/photos/") and intake.photo_front.name.endswith(".jpg")
    assert intake.photo_vin.name.endswith(".png")


def test_issuing_scraps_the_vehicle_removes_the_battery_and_starts_the_clock(
        dismantler, nev, django_capture_on_commit_callbacks):
    intake = take_in(dismantler, VIN, [nev])
    with django_capture_on_commit_callbacks(execute=True):
        certificate = issue(dismantler, intake)

    certificate.refresh_from_db()
    today = timezone.localdate()
    assert (certificate.number, certificate.status, certificate.issued_on) == ("ZB-2026-000001", "valid", today)
    assert certificate.handover_deadline == add_working_days(today, 15)
    assert certificate.pdf.name.startswith("scrapping/certificates/")  # the task ran on commit
    vehicle = Vehicle.objects.get(vin=VIN)
    assert vehicle.status == "scrapped" and vehicle.scrapped_at is not None
    battery = Battery.objects.get(code=nev)
    assert (battery.status, battery.vehicle_id, battery.holder_id) == (BatteryStatus.IN_STOCK, None,
                                                                       dismantler.enterprise.pk)
    last = BatteryEvent.objects.filter(battery=battery).order_by("-seq").first()
    assert last.kind == "removed" and last.details["scrapping_certificate"] == "ZB-2026-000001"
    assert last.vehicle_id == vehicle.pk
    intake.refresh_from_db()
    assert intake.status == "issued"
    assert intake.batteries.get().removed
    assert list(certificate.changes.values_list("action", flat=True)) == ["issued"]


def test_the_deadline_setting_is_the_fallback_when_the_table_has_no_row(dismantler, nev, settings):
    from apps.deadlines.models import ReportingDeadline

    ReportingDeadline.objects.filter(duty=selectors.HANDOVER_DUTY).delete()
    settings.SCRAPPING_HANDOVER_WORKING_DAYS = 3
    certificate = issue(dismantler, take_in(dismantler, VIN, [nev]))
    assert certificate.handover_deadline == add_working_days(timezone.localdate(), 3)
    assert certificate.handover_working_days == 3


def test_an_admins_change_of_the_table_applies_to_certificates_issued_afterwards(
        dismantler, nev, maker, carmaker, admin_user, settings):
    """The table (apps.deadlines, ADR 0019), not the setting, sets the deadline; a change is never retroactive."""
    from apps.deadlines.services import reporting_deadline_set

    settings.SCRAPPING_HANDOVER_WORKING_DAYS = 40  # the setting no longer decides while the row exists
    before = issue(dismantler, take_in(dismantler, VIN, [nev]))
    assert (before.handover_working_days, before.handover_deadline) == (15, add_working_days(before.issued_on, 15))

    reporting_deadline_set(actor=admin_user, duty="dismantler_certificate", working_days=5, reason="2026 measures")
    after = issue(dismantler, take_in(dismantler, VIN3, [installed(maker, carmaker, VIN3)]), number="ZB-2026-000002")
    assert (after.handover_working_days, after.handover_deadline) == (5, add_working_days(after.issued_on, 5))

    before.refresh_from_db()
    assert (before.handover_working_days, before.handover_deadline) == (15, add_working_days(before.issued_on, 15))
    # A recount once the holiday calendar is known keeps the length the certificate was issued with.
    ScrappingCertificate.objects.filter(pk=before.pk).update(deadline_provisional=True,
                                                             handover_deadline=dt.date(2030, 1, 1))
    assert services.provisional_deadlines_recount() == 1
    before.refresh_from_db()
    assert before.handover_deadline == add_working_days(before.issued_on, 15)


def test_handover_deadline_stays_open_until_the_battery_is_handed_on(dismantler, nev, recycler):
    certificate = issue(dismantler, take_in(dismantler, VIN, [nev]))
    listed = selectors.certificate_get(actor=dismantler, pk=certificate.pk)
    assert listed.handover_open is True
    assert selectors.deadline_state(listed) in ("open", "due_soon")
    battery_services.battery_declare_waste(actor=dismantler, code=nev)
    battery_services.battery_hand_over(actor=dismantler, code=nev, recipient=recycler.enterprise)
    listed = selectors.certificate_get(actor=dismantler, pk=certificate.pk)
    assert listed.handover_open is False
    assert selectors.deadline_state(listed) == "met"


def test_a_vehicle_with_two_packs_needs_both(dismantler, maker, carmaker, nev):
    second = installed(maker, carmaker, VIN)
    intake = take_in(dismantler, VIN, [second, nev])
    assert intake.outcome == "complete"
    certificate = issue(dismantler, intake)
    assert set(Battery.objects.filter(code__in=[nev, second]).values_list("status", flat=True)) == {"in_stock"}
    assert certificate.handover_deadline is not None


def test_codes_are_normalised_as_typed_or_scanned(dismantler, nev):
    intake = take_in(dismantler, VIN, [f"  {nev.lower()} "])
    assert intake.outcome == "complete"


# --- missing -------------------------------------------------------------------------------------------------------


def test_a_vehicle_without_its_battery_is_blocked_and_gets_no_certificate(dismantler, nev):
    intake = take_in(dismantler, VIN, [])
    assert (intake.outcome, intake.status) == ("missing", "blocked")
    assert [(r.code, r.role) for r in intake.batteries.all()] == [(nev, "missing")]
    before = counts()

    error = refused(lambda: issue(dismantler, intake), "certificate_not_allowed")
    assert "电池缺失视为车辆缺失" in str(error.message)
    assert counts() == before
    assert Vehicle.objects.get(vin=VIN).status == "active"
    assert Battery.objects.get(code=nev).status == "installed"


def test_one_pack_of_two_missing_blocks_too(dismantler, maker, carmaker, nev):
    installed(maker, carmaker, VIN)
    intake = take_in(dismantler, VIN, [nev])
    assert (intake.outcome, intake.status) == ("missing", "blocked")


def test_a_blocked_intake_is_a_lead_with_the_last_holder_and_events(dismantler, nev, carmaker, reviewer_hb):
    intake = take_in(dismantler, VIN, [])
    leads = selectors.lead_batteries(intake, actor=reviewer_hb)
    assert len(leads) == 1
    lead = leads[0]
    assert lead.row.holder_at_intake == carmaker.enterprise
    assert [e.kind for e in lead.events] == ["produced", "handed_over", "received", "installed"]
    assert selectors.lead_batteries(intake, actor=dismantler) == []  # the dismantler does not see others' data
    counts_seen = selectors.lead_counts(actor=reviewer_hb)
    assert counts_seen["totals"] == {"blocked": 1, "mismatched": 0}
    assert counts_seen["by_province"][0]["dismantler__province"] == "42"


def test_a_blocked_vehicle_may_be_taken_in_again_when_the_battery_turns_up(dismantler, nev):
    take_in(dismantler, VIN, [])
    intake = take_in(dismantler, VIN, [nev])
    assert intake.status == "ready"


# --- mismatch ------------------------------------------------------------------------------------------------------


def test_a_different_battery_is_a_mismatch_awaiting_a_reviewer(dismantler, nev, spare, repairer, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare], explanation="车主称曾在维修店更换电池")
    assert (intake.outcome, intake.status) == ("mismatch", "awaiting_decision")
    roles = {r.code: r.role for r in intake.batteries.all()}
    assert roles == {nev: "missing", spare: "unexpected"}
    refused(lambda: issue(dismantler, intake), "certificate_not_allowed")

    leads = {lead.row.code: lead for lead in selectors.lead_batteries(intake, actor=reviewer_hb)}
    # The repairer's missing report becomes visible: the spare sits in its stock, never installed in the ledger.
    assert leads[spare].row.holder_at_intake == repairer.enterprise
    assert leads[spare].battery.status == "in_stock"
    assert "installed" not in [e.kind for e in leads[spare].events]


def test_the_reviewer_approves_a_mismatch_and_the_certificate_follows(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    decided = services.scrapping_intake_decide(actor=reviewer_hb, intake_id=intake.pk, decision="approved",
                                               reason="维修记录已核实")
    assert (decided.status, decided.decision, decided.decided_by) == ("ready", "approved", reviewer_hb)
    certificate = issue(dismantler, intake)
    assert certificate.status == "valid"
    assert Vehicle.objects.get(vin=VIN).status == "scrapped"
    # The spare the reviewer accepted (an unreported replacement) passes to the dismantler through the ledger,
    # naming the vehicle, its previous holder and the decision; the ledger's battery, not found, stays on record.
    spare_row = Battery.objects.get(code=spare)
    assert (spare_row.status, spare_row.holder_id) == ("in_stock", dismantler.enterprise.pk)
    event = spare_row.events.order_by("-seq").first()
    assert (event.kind, event.vehicle.vin, event.details["unreported"]) == ("removed", VIN, True)
    assert event.details["decision"] == f"scrapping-intake-{intake.pk}"
    assert list(IntakeBattery.objects.filter(intake=intake, removed=True).values_list("code", flat=True)) == [spare]
    assert Battery.objects.get(code=nev).status == "installed"  # missing: an enforcement lead
    assert certificate.handover_deadline is not None
    from apps.batteries.ledger import ledger_verify

    assert ledger_verify() == []


def test_an_approved_mismatch_removes_the_ledger_battery_that_was_found(dismantler, nev, spare, reviewer):
    intake = take_in(dismantler, VIN, [nev, spare])
    assert intake.outcome == "mismatch"
    services.scrapping_intake_decide(actor=reviewer, intake_id=intake.pk, decision="approved", reason="已核实")
    certificate = issue(dismantler, intake)
    assert Battery.objects.get(code=nev).holder_id == dismantler.enterprise.pk
    assert certificate.handover_deadline is not None


def test_a_refused_mismatch_gets_no_certificate(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    services.scrapping_intake_decide(actor=reviewer_hb, intake_id=intake.pk, decision="refused", reason="无维修记录")
    refused(lambda: issue(dismantler, intake), "certificate_not_allowed")
    refused(lambda: services.scrapping_intake_decide(actor=reviewer_hb, intake_id=intake.pk, decision="approved",
                                                     reason="x"), "intake_not_awaiting_decision")


def test_only_a_regulator_of_the_province_decides(dismantler, nev, spare, reviewer_gd, carmaker):
    intake = take_in(dismantler, VIN, [spare])
    with pytest.raises(NotFound):
        services.scrapping_intake_decide(actor=reviewer_gd, intake_id=intake.pk, decision="approved", reason="x")
    refused(lambda: services.scrapping_intake_decide(actor=dismantler, intake_id=intake.pk, decision="approved",
                                                     reason="x"), "permission_denied")
    refused(lambda: services.scrapping_intake_decide(actor=carmaker, intake_id=intake.pk, decision="approved",
                                                     reason="x"), "permission_denied")
    intake.refresh_from_db()
    assert intake.status == "awaiting_decision" and intake.decision == ""


def test_a_decision_needs_a_reason(dismantler, nev, spare, reviewer_hb):
    intake = take_in(dismantler, VIN, [spare])
    refused(lambda: services.scrapping_intake_decide(actor=reviewer_hb, intake_id=intake.pk, decision="approved",
                                                     reason="  "), "reason_required", "reason")


def test_the_dismantler_explains_a_mismatch_later(dismantler, nev, spare):
    intake = take_in(dismantler, VIN, [spare])
    services.scrapping_intake_explain(actor=dismantler, intake_id=intake.pk, explanation="维修店更换过电池")
    intake.refresh_from_db()
    assert intake.explanation == "维修店更换过电池"


# --- swap-model exemption ----------------------------------------------------------------------------------------------


def test_a_swap_model_is_exempt_and_the_exemption_is_on_the_certificate(dismantler, swap_nev):
    intake = take_in(dismantler, VIN2, [])
    assert (intake.outcome, intake.status) == ("swap_exempt", "ready")
    certificate = issue(dismantler, intake)
    assert certificate.swap_exemption is True
    assert certificate.handover_deadline is None
    assert Vehicle.objects.get(vin=VIN2).status == "scrapped"
    # The swap operator's battery is not touched: it was not at the dismantler's.
    assert Battery.objects.get(code=swap_nev).status == "installed"


def test_a_swap_models_battery_found_in_it_is_removed(dismantler, swap_nev):
    certificate = issue(dismantler, take_in(dismantler, VIN2, [swap_nev]))
    assert certificate.swap_exemption is True
    assert Battery.objects.get(code=swap_nev).holder_id == dismantler.enterprise.pk
    assert certificate.handover_deadline is not None


# --- not a new-energy vehicle ----------------------------------------------------------------------------------------


def test_a_conventional_vehicle_needs_no_battery_check(dismantler):
    intake = take_in(dismantler, CONVENTIONAL_VIN, [], is_nev=False)
    assert (intake.outcome, intake.status, intake.vehicle) == ("not_nev", "ready", None)
    certificate = issue(dismantler, intake)
    assert (certificate.vehicle, certificate.handover_deadline, certificate.swap_exemption) == (None, None, False)
    # …and once certified it cannot be taken in again
    refused(lambda: take_in(dismantler, CONVENTIONAL_VIN, [], is_nev=False), "vehicle_scrapped", "vin")


# --- voiding and re-issue -------------------------------------------------------------------------------------------


@pytest.fixture
def certificate(dismantler, nev):
    return issue(dismantler, take_in(dismantler, VIN, [nev]))


def test_a_reviewer_voids_a_certificate_with_the_reason(certificate, reviewer_hb, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        voided = services.scrapping_certificate_void(actor=reviewer_hb, certificate_id=certificate.pk,
                                                     reason="车辆被报盗抢")
    voided.refresh_from_db()
    assert (voided.status, voided.void_reason, voided.voided_by) == ("voided", "车辆被报盗抢", reviewer_hb)
    assert list(voided.changes.order_by("created_at", "id").values_list("action", "reason")) == [
        ("issued", ""), ("voided", "车辆被报盗抢")]
    assert voided.pdf  # re-rendered with the stamp
    refused(lambda: services.scrapping_certificate_void(actor=reviewer_hb, certificate_id=certificate.pk,
                                                        reason="again"), "certificate_not_valid")


def test_voiding_needs_a_regulator_of_the_province_and_a_reason(certificate, reviewer_gd, reviewer_hb, dismantler):
    with pytest.raises(NotFound):
        services.scrapping_certificate_void(actor=reviewer_gd, certificate_id=certificate.pk, reason="x")
    refused(lambda: services.scrapping_certificate_void(actor=dismantler, certificate_id=certificate.pk,
                                                        reason="x"), "permission_denied")
    refused(lambda: services.scrapping_certificate_void(actor=reviewer_hb, certificate_id=certificate.pk,
                                                        reason=""), "reason_required", "reason")
    certificate.refresh_from_db()
    assert certificate.status == "valid"


def test_a_reissue_voids_the_old_certificate_and_keeps_the_deadline(certificate, admin_user):
    new = services.scrapping_certificate_reissue(actor=admin_user, certificate_id=certificate.pk,
                                                 number="ZB-2026-000002", reason="证明遗失")
    certificate.refresh_from_db()
    assert certificate.status == "voided" and "ZB-2026-000002" in certificate.void_reason
    assert (new.status, new.replaces, new.handover_deadline) == ("valid", certificate, certificate.handover_deadline)
    assert new.handover_working_days == certificate.handover_working_days == 15
    assert list(new.changes.values_list("action", "reason")) == [("reissued", "证明遗失")]
    refused(lambda: services.scrapping_certificate_reissue(actor=admin_user, certificate_id=certificate.pk,
                                                           number="ZB-2026-000003", reason="x"),
            "certificate_superseded")


def test_a_voided_certificate_may_be_reissued(certificate, reviewer_hb):
    services.scrapping_certificate_void(actor=reviewer_hb, certificate_id=certificate.pk, reason="被盗抢")
    new = services.scrapping_certificate_reissue(actor=reviewer_hb, certificate_id=certificate.pk,
                                                 number="ZB-2026-000009", reason="盗抢报案已撤销")
    assert new.status == "valid"
    assert ScrappingCertificate.objects.filter(intake=certificate.intake, status="valid").count() == 1


def test_a_reissue_refuses_a_used_number(certificate, reviewer_hb):
    before = counts()
    refused(lambda: services.scrapping_certificate_reissue(actor=reviewer_hb, certificate_id=certificate.pk,
                                                           number=certificate.number, reason="x"),
            "certificate_number_taken", "number")
    assert counts() == before


# --- bad input: nothing saved ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overrides,code,field", [
    ({"vin": "LSVAU218XN218329"}, "vin_invalid", "vin"),
    ({"vin": "LSVAU218XN218329I"}, "vin_invalid", "vin"),
    ({"vin": "LSVAU2185N2183294"}, "vin_invalid", "vin"),  # wrong check digit
    ({"declared_not_mortgaged": False}, "declaration_required", "declared_not_mortgaged"),
    ({"declared_not_stolen": False}, "declaration_required", "declared_not_stolen"),
    ({"owner_id_number": "440301199003071512"}, "owner_id_invalid", "owner_id_number"),
    ({"owner_id_number": "44030119900307"}, "owner_id_invalid", "owner_id_number"),
    ({"owner_id_number": "440301199013071513"}, "owner_id_invalid", "owner_id_number"),
    ({"owner_id_kind": "passport?"}, "owner_id_invalid", "owner_id_kind"),
    ({"plate_number": ""}, "invalid", "plate_number"),
    ({"plate_number": "<b>鄂A1</b>"}, "markup_not_allowed", "plate_number"),
    ({"engine_number": "  "}, "invalid", "engine_number"),
    ({"received_on": dt.date(2099, 1, 1)}, "invalid", "received_on"),
])
def test_bad_intake_input_is_refused_and_nothing_saved(dismantler, nev, settings, overrides, code, field):
    before = counts()
    arguments = {"vin": VIN, "codes": [nev], **overrides}
    error = refused(lambda: take_in(dismantler, **arguments), code, field)
    assert OWNER_ID[:17] not in str(error.message)  # an identity number is never echoed
    assert counts() == before
    assert media_files(settings) == []


def test_an_unknown_nev_vin_is_refused_because_the_ledger_has_no_record(dismantler):
    before = counts()
    error = refused(lambda: take_in(dismantler, VIN3, []), "vehicle_unknown", "vin")
    assert "VIN" in str(error.message) or VIN3 in str(error.message)
    assert counts() == before


def test_a_vin_already_scrapped_is_refused(certificate, dismantler, dismantler2):
    before = counts()
    refused(lambda: take_in(dismantler2, VIN, []), "vehicle_scrapped", "vin")
    assert counts() == before


def test_a_conventional_vehicle_the_ledger_knows_as_nev_is_refused(dismantler, nev):
    refused(lambda: take_in(dismantler, VIN, [], is_nev=False), "vehicle_is_nev", "is_nev")
    assert ScrappingIntake.objects.count() == 0


def test_a_conventional_vehicle_with_battery_codes_is_refused(dismantler, nev):
    refused(lambda: take_in(dismantler, CONVENTIONAL_VIN, [nev], is_nev=False), "battery_codes_not_expected",
            "battery_codes")
    assert ScrappingIntake.objects.count() == 0


def test_an_invalid_battery_code_names_the_position(dismantler, nev):
    error = refused(lambda: take_in(dismantler, VIN, [nev[:3] + "X" + nev[4:]]), "battery_code_invalid",
                    "battery_codes")
    assert "4" in str(error.message)
    assert ScrappingIntake.objects.count() == 0


def test_an_unknown_battery_code_is_refused(dismantler, nev):
    from tests.batteries.conftest import make_code

    stranger = make_code()
    error = refused(lambda: take_in(dismantler, VIN, [nev, stranger]), "battery_unknown", "battery_codes")
    assert stranger in str(error.message)
    assert counts()[:2] == (0, 0)


def test_the_same_battery_twice_is_refused_with_both_positions(dismantler, nev):
    error = refused(lambda: take_in(dismantler, VIN, [nev, nev.lower()]), "battery_listed_twice", "battery_codes")
    assert "1" in str(error.message) and "2" in str(error.message)
    assert ScrappingIntake.objects.count() == 0


def test_a_battery_installed_in_another_vehicle_is_held_by_someone_else(dismantler, maker, carmaker, nev):
    other = installed(maker, carmaker, VIN2)
    before = counts()
    refused(lambda: take_in(dismantler, VIN, [other]), "battery_held_elsewhere", "battery_codes")
    assert counts() == before


def test_a_recycled_battery_cannot_be_in_a_vehicle(dismantler, nev, maker, recycler):
    gone = waste_held_by(maker, recycler)
    battery_services.battery_recycle(actor=recycler, code=gone, input_weight_kg="400")
    refused(lambda: take_in(dismantler, VIN, [gone]), "battery_held_elsewhere", "battery_codes")


def test_a_module_is_not_a_vehicles_battery(dismantler, nev, maker):
    from tests.batteries.conftest import make_code

    module = registered(maker, make_code(product="M"))
    refused(lambda: take_in(dismantler, VIN, [module]), "battery_held_elsewhere", "battery_codes")


def test_a_photo_that_is_not_an_image_is_refused(dismantler, nev, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("front.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    refused(lambda: take_in(dismantler, VIN, [nev], photo_front=fake), "file_not_image", "photo_front")
    truncated = SimpleUploadedFile("vin.png", image_upload("png").read()[:30], content_type="image/png")
    refused(lambda: take_in(dismantler, VIN, [nev], photo_vin=truncated), "file_not_image", "photo_vin")
    assert media_files(settings) == [] and ScrappingIntake.objects.count() == 0


def test_a_photo_over_the_limit_is_refused(dismantler, nev, settings):
    settings.SCRAPPING_PHOTO_MAX_BYTES = 100
    refused(lambda: take_in(dismantler, VIN, [nev], photo_front=image_upload(size=(200, 200))), "file_too_large",
            "photo_front")
    assert ScrappingIntake.objects.count() == 0


def test_a_vin_already_taken_in_is_refused_to_another_dismantler(dismantler, dismantler2, nev):
    take_in(dismantler, VIN, [nev])
    before = counts()
    error = refused(lambda: take_in(dismantler2, VIN, [nev]), "intake_already_open", "vin")
    assert dismantler.enterprise.name not in str(error.message)  # another dismantler is not named
    refused(lambda: take_in(dismantler, VIN, [nev]), "intake_already_open", "vin")
    assert counts() == before


def test_only_dismantlers_take_in_vehicles(carmaker, nev, reviewer):
    refused(lambda: take_in(carmaker, VIN, [nev]), "role_not_allowed")
    refused(lambda: take_in(reviewer, VIN, [nev]), "permission_denied")
    assert ScrappingIntake.objects.count() == 0


def test_a_certificate_number_already_used_is_refused_and_nothing_changes(certificate, dismantler, maker,
                                                                         carmaker):
    other = installed(maker, carmaker, VIN2)
    intake = take_in(dismantler, VIN2, [other])
    before = counts()
    refused(lambda: issue(dismantler, intake, number=certificate.number), "certificate_number_taken", "number")
    assert counts() == before
    assert Vehicle.objects.get(vin=VIN2).status == "active"
    assert Battery.objects.get(code=other).status == "installed"


@pytest.mark.parametrize("number", ["", "abc", "ZB 2026", "证明2026001", "-ZB2026", "x" * 65])
def test_a_malformed_certificate_number_is_refused(dismantler, nev, number):
    intake = take_in(dismantler, VIN, [nev])
    refused(lambda: issue(dismantler, intake, number=number), "certificate_number_invalid", "number")
    assert ScrappingCertificate.objects.count() == 0


def test_a_certificate_needs_both_photos(dismantler, nev):
    intake = take_in(dismantler, VIN, [nev], photo_front=None)
    refused(lambda: issue(dismantler, intake), "photos_required")
    services.scrapping_intake_photo_attach(actor=dismantler, intake_id=intake.pk, kind="front",
                                           upload=image_upload())
    assert issue(dismantler, intake).status == "valid"


def test_another_dismantlers_intake_is_not_found(dismantler, dismantler2, nev):
    intake = take_in(dismantler, VIN, [nev])
    for call in (lambda: issue(dismantler2, intake),
                 lambda: services.scrapping_intake_withdraw(actor=dismantler2, intake_id=intake.pk),
                 lambda: services.scrapping_intake_photo_attach(actor=dismantler2, intake_id=intake.pk, kind="vin",
                                                                upload=image_upload())):
        with pytest.raises(NotFound):
            call()
    intake.refresh_from_db()
    assert intake.status == "ready"


def test_a_ledger_change_after_intake_stops_the_certificate_until_taken_in_again(dismantler, maker, carmaker, nev):
    intake = take_in(dismantler, VIN, [nev])
    added = installed(maker, carmaker, VIN)  # the carmaker reports a second pack in the vehicle meanwhile
    refused(lambda: issue(dismantler, intake), "battery_check_stale")
    services.scrapping_intake_withdraw(actor=dismantler, intake_id=intake.pk)
    again = take_in(dismantler, VIN, [nev, added])
    assert issue(dismantler, again).status == "valid"


def test_issued_intakes_cannot_be_withdrawn_or_issued_twice(certificate, dismantler):
    intake = certificate.intake
    refused(lambda: services.scrapping_intake_withdraw(actor=dismantler, intake_id=intake.pk),
            "certificate_not_allowed")
    refused(lambda: issue(dismantler, intake, number="ZB-OTHER-1"), "certificate_not_allowed")


def test_provisional_deadlines_are_recounted_once_the_year_is_entered(certificate, admin_user):
    from apps.core.services import workday_override_set

    ScrappingCertificate.objects.filter(pk=certificate.pk).update(deadline_provisional=True,
                                                                  handover_deadline=dt.date(2030, 1, 1))
    assert services.provisional_deadlines_recount() == 1
    certificate.refresh_from_db()
    assert certificate.handover_deadline == add_working_days(certificate.issued_on, 15)
    assert IntakeStatus.ISSUED == certificate.intake.status
    workday_override_set(actor=admin_user, date=dt.date(2030, 1, 2), is_workday=False)
    assert services.provisional_deadlines_recount() == 0


def test_a_swap_operator_takes_its_battery_back_from_a_scrapped_swap_model(dismantler, swap_nev, swapper, carmaker):
    """The swap model was scrapped without its battery (exempt); the battery is the swap operator's to take back."""
    from apps.batteries import services as battery_services
    from apps.core.errors import DomainError
    from tests.batteries.conftest import VIN2

    # Before scrapping the operator must swap, not just take out.
    with pytest.raises(DomainError) as err:
        battery_services.battery_swap_out_of_scrapped(actor=swapper, vin=VIN2, code=swap_nev)
    assert err.value.code == "transition_not_allowed"
    intake = take_in(dismantler, VIN2, [])
    assert intake.outcome == "swap_exempt"
    issue(dismantler, intake)
    battery = battery_services.battery_swap_out_of_scrapped(actor=swapper, vin=VIN2, code=swap_nev)
    assert (battery.status, battery.holder_id, battery.vehicle_id) == ("in_stock", swapper.enterprise.pk, None)
    with pytest.raises(DomainError) as err:  # only swap operators
        battery_services.battery_swap_out_of_scrapped(actor=carmaker, vin=VIN2, code=swap_nev)
    assert err.value.code == "role_not_allowed"


def test_the_deadlines_page_says_which_row_sets_the_handover_deadline(admin_user):
    from tests.conftest import signed_in

    page = signed_in(admin_user).get("/en/deadlines/settings/").content.decode()
    assert "hand the batteries of a scrapped vehicle to a licensed recycler" in page
