"""The portal's main journeys in a real browser (see conftest.py): each in Chinese, the default language, and
again in English at /en/. Set-ups go through services and factories; the decisive steps through the pages."""
from __future__ import annotations

import pytest

from apps.batteries import services as battery_services
from apps.batteries.models import Battery, BulkImport
from apps.enterprises.models import RecyclerLicence
from apps.filings import services as filing_services
from apps.filings.models import Filing
from apps.scrapping import services as scrapping_services
from apps.scrapping.models import ScrappingCertificate, ScrappingIntake
from apps.scrapping.verification import verification_path
from tests.batteries.conftest import VIN, VIN2, VIN3, make_code
from tests.batteries.flows import delivered, installed, registered
from tests.conftest import totp_device
from tests.e2e.conftest import wait_until
from tests.filings.recovery_setup import INPUTS, LOW_OUTPUTS, last_month
from tests.scrapping.conftest import OWNER_ID, image_upload

LANGS = pytest.mark.parametrize("lang", ["zh", "en"])

# serialized_rollback: the test database keeps a copy of the rows the migrations seed (composition table,
# deadlines); the `journey` fixture puts them back, whatever transactional test flushed them before.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@LANGS
def test_a_battery_maker_uploads_a_gbk_csv_and_watches_it_finish(journey, celery_worker, maker, lang):
    codes = [make_code() for _ in range(3)]
    rows = ["电池编码,额定容量kWh,重量kg"] + [f"{code},75.5,420" for code in codes]
    j = journey("upload", lang)
    csv_path = j.folder / "codes-gbk.csv"
    csv_path.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    j.sign_in(maker)
    j.goto("/batteries/uploads/")
    j.page.select_option("select[name=kind]", "register")
    j.page.set_input_files("input[name=file]", str(csv_path))
    j.shot("file-chosen")
    j.submit()
    assert "/batteries/uploads/" in j.page.url and j.page.locator("#import-progress").count() == 1
    j.shot("queued")
    # The page polls its progress fragment every second (htmx); when the worker is done, it reloads itself.
    record = BulkImport.objects.get()
    wait_until(lambda: BulkImport.objects.get(pk=record.pk).is_finished, "the import", worker=celery_worker)
    j.page.locator("#import-progress .ok").wait_for()
    j.page.wait_for_load_state("networkidle")
    j.check()
    assert j.page.locator("#import-progress progress").get_attribute("value") == "100"
    assert j.t("所有数据行均已生效", "All rows were applied.") in j.text("#import-progress")
    j.shot("finished")
    record.refresh_from_db()
    assert (record.status, record.applied_rows, record.error_count) == ("succeeded", 3, 0)
    j.goto("/batteries/")
    listed = j.text()
    assert all(code in listed for code in codes)
    j.shot("batteries-listed")
    assert set(Battery.objects.values_list("code", flat=True)) == set(codes)


@LANGS
def test_a_vehicle_maker_installs_a_battery_in_a_vehicle(journey, maker, carmaker, lang):
    code = delivered(registered(maker), maker, carmaker)
    j = journey("install", lang)
    j.sign_in(carmaker)
    j.goto("/batteries/install/")
    j.page.fill("input[name=code]", code)
    j.page.fill("input[name=vin]", VIN)
    j.page.fill("input[name=model_name]", "申城 E5")
    j.shot("form-filled")
    j.submit()
    assert j.page.url.endswith(f"/batteries/{code}/")
    said = j.t(f"电池 {code} 已装于车辆 {VIN}。", f"Battery {code} was installed in vehicle {VIN}.")
    assert said in j.text(".messages")
    j.shot("installed")
    battery = Battery.objects.get(code=code)
    assert battery.status == "installed" and battery.vehicle.vin == VIN


def _photo(folder, name: str):
    path = folder / name
    path.write_bytes(image_upload().read())
    return str(path)


def _fill_intake(j, vin: str, codes: str) -> None:
    j.goto("/scrapping/intakes/new/")
    j.page.fill("input[name=vin]", vin)
    j.page.fill("input[name=plate_number]", "鄂A12345")
    j.page.fill("input[name=engine_number]", "TZ220XS0001")
    j.page.fill("input[name=owner_id_number]", OWNER_ID)
    j.page.check("input[name=declared_not_mortgaged]")
    j.page.check("input[name=declared_not_stolen]")
    j.page.fill("textarea[name=battery_codes]", codes)
    j.page.set_input_files("input[name=photo_front]", _photo(j.folder, "front.jpg"))
    j.page.set_input_files("input[name=photo_vin]", _photo(j.folder, "vin.jpg"))


@LANGS
def test_a_dismantler_is_refused_a_car_without_its_battery_then_certifies_one_with_it(
        journey, celery_worker, maker, carmaker, dismantler, lang):
    installed(maker, carmaker, VIN)
    pack = installed(maker, carmaker, VIN2)
    j = journey("dismantle", lang)
    j.sign_in(dismantler)
    # The car arrives without its battery: taken in, blocked, and no certificate may be issued.
    _fill_intake(j, VIN, "")
    j.shot("no-battery-form")
    j.submit()
    said = j.t(f"车辆 {VIN} 接收时未带电池，不得出具证明",
               f"Vehicle {VIN} was taken in without its battery: no certificate may be issued")
    assert said in j.text(".messages .msg-error")
    assert j.page.locator("form[action$='/issue/']").count() == 0
    j.shot("blocked")
    assert ScrappingIntake.objects.get(vin=VIN).status == "blocked"
    # The next one comes with its pack: ready; the certificate is issued after a confirmation.
    _fill_intake(j, VIN2, pack)
    j.submit()
    assert j.page.locator(".messages .msg-success").count() == 1
    j.shot("ready")
    issue = j.page.locator("form[action$='/issue/']")
    issue.locator("input[name=number]").fill("HB-2026-000123")
    issue.locator("input[name=confirm]").check()
    j.shot("issue-confirmed")
    j.submit(issue)
    certificate = ScrappingCertificate.objects.get()
    assert j.page.url.endswith(f"/scrapping/certificates/{certificate.pk}/")
    j.shot("certificate")
    with j.page.expect_download() as download:
        j.page.locator(f"a[href$='/certificates/{certificate.pk}/certificate.pdf']").click()
    assert download.value.suggested_filename == "scrapping-certificate-HB-2026-000123.pdf"
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    download.value.save_as(j.folder / "certificate.pdf")
    battery = Battery.objects.get(code=pack)  # removed through the ledger: the dismantler now holds it
    assert (battery.status, battery.holder, battery.vehicle) == ("in_stock", dismantler.enterprise, None)
    assert battery.events.order_by("-seq").first().kind == "removed"


@LANGS
def test_a_visitor_verifies_a_certificate_by_its_qr_address(
        journey, maker, carmaker, dismantler, reviewer, lang):
    packs = [installed(maker, carmaker, vin) for vin in (VIN, VIN3)]
    certificates = []
    for vin, pack, number in ((VIN, packs[0], "HB-2026-1"), (VIN3, packs[1], "HB-2026-2")):
        intake = scrapping_services.scrapping_intake_create(
            actor=dismantler, vin=vin, plate_number="鄂A12345", engine_number="TZ1", is_nev=True,
            owner_id_kind="resident_id", owner_id_number=OWNER_ID, declared_not_mortgaged=True,
            declared_not_stolen=True, battery_codes=[pack], photo_front=image_upload(),
            photo_vin=image_upload("png"))
        certificates.append(scrapping_services.scrapping_certificate_issue(
            actor=dismantler, intake_id=intake.pk, number=number))
    valid, voided = certificates
    scrapping_services.scrapping_certificate_void(actor=reviewer, certificate_id=voided.pk,
                                                  reason="车辆被报盗抢")
    j = journey("verify", lang)  # a visitor scanning the QR code: no account
    response = j.goto(verification_path(valid.pk))
    assert response.status == 200
    assert j.page.locator(".verify-valid").count() == 1 and "HB-2026-1" in j.text()
    assert j.t("有效", "valid") in j.text(".verify-state")
    assert VIN not in j.text()  # only a masked VIN is public
    j.shot("valid")
    response = j.goto(verification_path(voided.pk))
    assert j.page.locator(".verify-voided").count() == 1
    assert j.t("已作废", "Voided") in j.text(".verify-state")
    j.shot("voided")
    path = verification_path(valid.pk)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    response = j.goto(tampered)
    assert response.status == 404
    assert j.page.locator(".verify-unknown").count() == 1 and j.page.locator(".verify-valid").count() == 0
    assert "HB-2026-1" not in j.text()
    j.shot("tampered")


def _dismantled(maker, carmaker, dismantler, vin: str, number: str) -> str:
    """A pack taken out of a scrapped vehicle by the dismantler, declared waste: what goes to a recycler."""
    pack = installed(maker, carmaker, vin)
    intake = scrapping_services.scrapping_intake_create(
        actor=dismantler, vin=vin, plate_number="鄂A12345", engine_number="TZ1", is_nev=True,
        owner_id_kind="resident_id", owner_id_number=OWNER_ID, declared_not_mortgaged=True,
        declared_not_stolen=True, battery_codes=[pack], photo_front=image_upload(),
        photo_vin=image_upload("png"))
    scrapping_services.scrapping_certificate_issue(actor=dismantler, intake_id=intake.pk, number=number)
    battery_services.battery_declare_waste(actor=dismantler, code=pack)
    return pack


@LANGS
def test_a_recycler_receives_a_battery_files_a_low_recovery_report_and_sees_it_returned(
        journey, celery_worker, maker, carmaker, dismantler, recycler, reviewer, lang):
    pack = _dismantled(maker, carmaker, dismantler, VIN, "HB-2026-7")
    battery_services.battery_hand_over(actor=dismantler, code=pack, recipient=recycler.enterprise)
    j = journey("recovery", lang)
    j.sign_in(recycler)
    j.goto("/batteries/receive/")
    j.page.fill("input[name=code]", pack)
    j.shot("receive")
    j.submit()
    assert j.page.url.endswith(f"/batteries/{pack}/")
    assert Battery.objects.get(code=pack).holder == recycler.enterprise
    j.shot("received")
    # The month's recovery report: nickel 74 kg of the 76 expected (97.4 %), below the 98 % threshold.
    j.goto("/filings/recovery-reports/new/")
    j.page.fill("input[name=month]", last_month().strftime("%Y-%m"))
    for chem, kg in INPUTS.items():
        j.page.fill(f"input[name=input_{chem}]", kg)
    for metal, kg in LOW_OUTPUTS.items():
        j.page.fill(f"input[name=output_{metal}]", kg)
    j.shot("report-form")
    j.submit()
    filing = Filing.objects.get()
    assert j.page.url.endswith(f"/filings/{filing.pk}/")
    assert "97.37 %" in j.text() and j.page.locator(".filing-differs").count() >= 1
    j.shot("report-below-threshold")
    j.submit(j.page.locator(f"form[action$='/filings/{filing.pk}/submit/']"))
    assert Filing.objects.get().status == "submitted"
    j.shot("submitted")
    # A reviewer returns it (the reviewer's side of the page is the next journey).
    filing_services.filing_claim(actor=reviewer, filing_id=filing.pk)
    filing_services.filing_return(actor=reviewer, filing_id=filing.pk, comment="镍回收率不足98%，请核对产出重量。")
    j.goto(f"/filings/{filing.pk}/")
    assert j.t("已退回", "Returned") in j.text() and "镍回收率不足98%，请核对产出重量。" in j.text()
    assert j.page.locator(f"form[action$='/filings/{filing.pk}/resubmit/']").count() == 1
    j.shot("returned")
    j.goto("/notifications/")
    assert j.t("退回", "returned") in j.text()
    j.shot("notification")


@LANGS
def test_an_admin_revokes_a_licence_and_a_handover_to_that_recycler_is_refused(
        journey, maker, carmaker, dismantler, recycler, admin_user, lang):
    pack = _dismantled(maker, carmaker, dismantler, VIN, "HB-2026-8")
    licence = RecyclerLicence.objects.get(enterprise=recycler.enterprise)
    device = totp_device(admin_user)
    admin = journey("revoke-licence", lang)
    admin.sign_in(admin_user, device=device)
    admin.goto(f"/licences/{licence.pk}/")
    admin.page.check("input[name=action][value=revoke]")
    admin.page.fill("textarea[name=reason]", "现场核查发现超范围经营")
    admin.page.check("input[name=confirm]")
    admin.shot("revoke-form")
    admin.submit()
    licence.refresh_from_db()
    assert licence.status == "revoked"
    assert admin.page.locator("form textarea[name=reason]").count() == 0  # revocation is final
    admin.shot("revoked")

    j = journey("handover-refused", lang)
    j.sign_in(dismantler)
    j.goto("/batteries/hand-over/")
    j.page.fill("input[name=code]", pack)
    # The recipient box suggests enterprises from part of a name (static JS, JSON endpoint); choosing one types
    # its credit code.
    j.page.type("input[name=recipient]", recycler.enterprise.name[:2])
    j.page.wait_for_selector(f"datalist option[value='{recycler.enterprise.uscc}']", state="attached")
    j.page.fill("input[name=recipient]", recycler.enterprise.uscc)
    j.shot("handover-form")
    j.submit()
    assert j.page.url.endswith("/batteries/hand-over/")
    error = j.text(".field.has-error .error")  # said on the recipient field, with the rule
    assert recycler.enterprise.name in error and j.t("不得于", "may not receive waste batteries") in error
    assert j.t("规则 3", "rule 3") in error
    assert j.t(f"其许可证 {licence.number} 已被撤销。", f"Its licence {licence.number} has been revoked.") in error
    j.shot("refused")
    battery = Battery.objects.get(code=pack)
    assert (battery.status, battery.holder) == ("in_stock", dismantler.enterprise)


def test_the_csp_watch_catches_an_inline_script(journey):
    """The journeys' CSP check could fail: an inline script added to a portal page is refused and reported."""
    j = journey("csp-watch", "zh")
    j.goto("/accounts/login/")
    try:
        j.page.add_script_tag(content="document.title = 'inline ran'")
    except Exception:  # noqa: BLE001 — chromium refuses the tag; the report is what counts
        pass
    j.page.wait_for_timeout(300)
    assert j.page.title() != "inline ran"
    assert any("script-src" in p or "Content Security Policy" in p for p in j.problems), j.problems
    j.problems.clear()
