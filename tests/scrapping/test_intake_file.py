"""Bulk-file intake of scrapped vehicles (CSV UTF-8/GBK or XLSX), page and API: every row through the same service as
the form, all or nothing, every error with its row and column, the same file recognised, tenant isolation; and the
demo data's scrapping examples (seed_demo stays idempotent)."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.contrib.messages import get_messages
from django.core.management import call_command

from apps.batteries.models import Battery, BatteryEvent, Vehicle
from apps.scrapping.intake_file import INTAKE_FILE_MAX_ROWS
from apps.scrapping.models import IntakeBattery, IntakeFile, ScrappingIntake
from tests.api_helpers import API
from tests.batteries.conftest import make_code
from tests.batteries.flows import installed
from tests.conftest import signed_in
from tests.scrapping.conftest import CONVENTIONAL_VIN, OWNER_ID, VIN, VIN3
from tests.web import assert_redirects_to_login, page_text, redirect_path
from tests.xlsx import xlsx_bytes

pytestmark = pytest.mark.django_db

PAGE = "/scrapping/intakes/file/"
API_URL = f"{API}/scrapping/intakes/file/"
CN_HEADER = ["车辆识别代号", "号牌号码", "发动机号(电机号)", "新能源汽车", "车主身份证号", "无抵押", "非盗抢", "电池编码", "情况说明"]
EN_HEADER = ["VIN", "plate", "engine_number", "is_nev", "owner_id", "not_mortgaged", "not_stolen", "battery_codes",
             "explanation"]


def row(vin, codes="", *, nev="是", mortgaged="是", stolen="是", plate="鄂A12345", owner=OWNER_ID, note=""):
    return [vin, plate, "TZ220XS0001", nev, owner, mortgaged, stolen, codes, note]


def csv_bytes(rows, header=CN_HEADER, encoding="gbk") -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(content: bytes, name="vehicles.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def counts() -> tuple:
    return (ScrappingIntake.objects.count(), IntakeBattery.objects.count(), BatteryEvent.objects.count(),
            Vehicle.objects.filter(status="scrapped").count())


@pytest.fixture
def fleet(maker, carmaker, nev):
    """VIN with its pack (nev), VIN3 with another pack."""
    return {"nev": nev, "vin3": installed(maker, carmaker, VIN3)}


def post_page(user, content, name="vehicles.csv"):
    return signed_in(user).post(PAGE, {"file": upload(content, name)})


# --- success -------------------------------------------------------------------------------------------------------


def test_gbk_csv_takes_in_every_vehicle_with_its_check(dismantler, fleet):
    content = csv_bytes([row(VIN, fleet["nev"]), row(VIN3, ""), row(CONVENTIONAL_VIN, "", nev="否", plate="鄂B54321")])
    response = post_page(dismantler, content)
    record = IntakeFile.objects.get()
    assert redirect_path(response) == f"/scrapping/intakes/files/{record.pk}/"
    assert (record.status, record.total_rows, record.error_count) == ("succeeded", 3, 0)
    outcomes = dict(ScrappingIntake.objects.values_list("vin", "outcome"))
    assert outcomes == {VIN: "complete", VIN3: "missing", CONVENTIONAL_VIN: "not_nev"}
    assert set(record.intakes.values_list("vin", flat=True)) == set(outcomes)
    assert ScrappingIntake.objects.get(vin=VIN).owner_id_masked == "440****1513"
    page = page_text(signed_in(dismantler).get(response["Location"]))
    assert VIN in page and VIN3 in page and 'id="photos-needed"' in page
    for intake in ScrappingIntake.objects.all():
        assert f"/scrapping/intakes/{intake.pk}/" in page


def test_xlsx_with_english_headers_and_several_codes(dismantler, maker, carmaker, fleet):
    content = xlsx_bytes([EN_HEADER, row(VIN, fleet["nev"], nev="yes", mortgaged="1", stolen="true"),
                          row(VIN3, f" {fleet['vin3']} ", note="完整")])
    response = post_page(dismantler, content, "vehicles.xlsx")
    assert response.status_code == 302
    assert sorted(ScrappingIntake.objects.values_list("outcome", flat=True)) == ["complete", "complete"]


def test_utf8_bom_csv_with_codes_separated_by_the_chinese_comma(dismantler, maker, carmaker):
    first, second = installed(maker, carmaker, VIN), installed(maker, carmaker, VIN)
    content = csv_bytes([row(VIN, f"{first}、{second}")], encoding="utf-8-sig")
    post_page(dismantler, content)
    intake = ScrappingIntake.objects.get()
    assert intake.outcome == "complete" and intake.batteries.count() == 2


def test_template_has_the_header_row(dismantler):
    response = signed_in(dismantler).get("/scrapping/intakes/file/template.csv")
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").strip() == ",".join(CN_HEADER)
    page = page_text(signed_in(dismantler).get("/scrapping/intakes/"))
    assert PAGE in page


# --- bad input: every error with its row and column, nothing saved --------------------------------------------------


BAD_FILES = {
    "bad_vin": (lambda f: csv_bytes([row(VIN, f["nev"]), row("LSVAU218XN218329", "")]), 3, "vin"),
    "bad_check_digit": (lambda f: csv_bytes([row(VIN, f["nev"]), row("LSVAU2181N2183294", "")]), 3, "vin"),
    "unknown_battery": (lambda f: csv_bytes([row(VIN, f["nev"]), row(VIN3, make_code())]), 3, "battery_codes"),
    "battery_twice_in_a_row": (lambda f: csv_bytes([row(VIN, f["nev"]), row(VIN3, f"{f['vin3']};{f['vin3']}")]), 3,
                               "battery_codes"),
    "same_battery_in_two_rows": (lambda f: csv_bytes([row(VIN, f["nev"]), row(VIN3, f["nev"])]), 3, "battery_codes"),
    "bad_owner_id": (lambda f: csv_bytes([row(VIN, f["nev"], owner="440301199003071512")]), 2, "owner_id"),
    "mortgaged": (lambda f: csv_bytes([row(VIN, f["nev"], mortgaged="否")]), 2, "not_mortgaged"),
    "not_yes_or_no": (lambda f: csv_bytes([row(VIN, f["nev"], stolen="maybe")]), 2, "not_stolen"),
    "missing_required_column": (lambda f: csv_bytes([row(VIN, f["nev"])[:6]], header=CN_HEADER[:6]), 1, None),
    "wrong_header": (lambda f: csv_bytes([row(VIN, f["nev"])], header=[*CN_HEADER[:8], "颜色"]), 1, "颜色"),
    "empty_file": (lambda f: b"", None, None),
    "header_only": (lambda f: csv_bytes([]), 2, None),
    "gbk_broken_byte": (lambda f: csv_bytes([row(VIN, f["nev"])]) + b"\xff\xfe,x\r\n", 3, None),
    "ragged_row": (lambda f: csv_bytes([row(VIN, f["nev"])]) + "LSVAU218XN2183294,鄂A1\r\n".encode("gbk"), 3, None),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_file_lists_the_error_and_saves_nothing(dismantler, fleet, kind):
    make, line, column = BAD_FILES[kind]
    before = counts()
    response = post_page(dismantler, make(fleet))
    assert counts() == before
    record = IntakeFile.objects.get()
    assert record.status == "failed" and record.error_count >= 1 and record.intakes.count() == 0
    error = record.errors[0]
    assert (error["row"], error["column"]) == (line, column), record.errors
    assert error["message"]
    assert OWNER_ID not in record.errors_csv and OWNER_ID not in str(record.errors)
    page = page_text(signed_in(dismantler).get(redirect_path(response)))
    assert error["message"] in page
    errors_csv = signed_in(dismantler).get(f"/scrapping/intakes/files/{record.pk}/errors.csv")
    assert errors_csv.status_code == 200 and error["message"] in errors_csv.content.decode("utf-8-sig")


def test_not_a_workbook(dismantler, fleet):
    before = counts()
    post_page(dismantler, b"PK\x03\x04 this is no zip at all", "vehicles.xlsx")
    assert counts() == before
    assert "Excel" in IntakeFile.objects.get().errors[0]["message"]


def test_every_bad_row_is_reported_not_only_the_first(dismantler, fleet):
    content = csv_bytes([row("BAD", ""), row(VIN, fleet["nev"]), row(VIN3, make_code()), row(VIN, fleet["nev"])])
    before = counts()
    post_page(dismantler, content)
    assert counts() == before
    assert [(e["row"], e["column"]) for e in IntakeFile.objects.get().errors] == [
        (2, "vin"), (4, "battery_codes"), (5, "vin")]


def test_too_many_rows_are_refused(dismantler, fleet, monkeypatch):
    monkeypatch.setattr("apps.scrapping.intake_file.INTAKE_FILE_MAX_ROWS", 1)
    before = counts()
    response = post_page(dismantler, csv_bytes([row(VIN, fleet["nev"]), row(VIN3, fleet["vin3"])]))
    assert response.status_code == 200 and counts() == before
    assert response.context["form"].errors["file"]
    assert INTAKE_FILE_MAX_ROWS == 5000


# --- the same file twice ---------------------------------------------------------------------------------------------


def test_the_same_file_twice_is_applied_once(dismantler, fleet):
    content = csv_bytes([row(VIN, fleet["nev"])])
    first = post_page(dismantler, content)
    second = post_page(dismantler, content, "renamed.csv")
    assert redirect_path(first) == redirect_path(second)
    assert ScrappingIntake.objects.count() == 1 and IntakeFile.objects.count() == 1
    assert [m.level_tag for m in get_messages(second.wsgi_request)] == ["warning"]


def test_a_failed_file_may_be_corrected_and_sent_again(dismantler, fleet):
    post_page(dismantler, csv_bytes([row(VIN, make_code())]))
    post_page(dismantler, csv_bytes([row(VIN, fleet["nev"])]))
    assert list(IntakeFile.objects.order_by("pk").values_list("status", flat=True)) == ["failed", "succeeded"]
    assert ScrappingIntake.objects.count() == 1


# --- who may -----------------------------------------------------------------------------------------------------


def test_another_dismantler_sees_neither_result_nor_errors(dismantler, dismantler2, fleet):
    post_page(dismantler, csv_bytes([row(VIN, make_code())]))
    failed = IntakeFile.objects.get()
    post_page(dismantler, csv_bytes([row(VIN, fleet["nev"])]))
    done = IntakeFile.objects.get(status="succeeded")
    other = signed_in(dismantler2)
    assert other.get(f"/scrapping/intakes/files/{failed.pk}/").status_code == 404
    assert other.get(f"/scrapping/intakes/files/{done.pk}/").status_code == 404
    assert other.get(f"/scrapping/intakes/files/{failed.pk}/errors.csv").status_code == 404
    assert signed_in(dismantler).get(f"/scrapping/intakes/files/{done.pk}/errors.csv").status_code == 404


def test_non_dismantlers_and_regulators_are_refused(carmaker, reviewer_hb, fleet):
    for user in (carmaker, reviewer_hb):
        client = signed_in(user)
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, {"file": upload(csv_bytes([row(VIN, fleet["nev"])]))}).status_code == 403
        assert client.get("/scrapping/intakes/file/template.csv").status_code == 403
    assert ScrappingIntake.objects.count() == 0


def test_anonymous_goes_to_sign_in(client, dismantler, fleet):
    post_page(dismantler, csv_bytes([row(VIN, make_code())]))
    pk = IntakeFile.objects.get().pk
    for url in (PAGE, "/scrapping/intakes/file/template.csv", f"/scrapping/intakes/files/{pk}/",
                f"/scrapping/intakes/files/{pk}/errors.csv"):
        assert_redirects_to_login(client.get(url))


# --- the API -----------------------------------------------------------------------------------------------------


def test_api_success_failure_and_duplicate(api_for, dismantler, fleet):
    client = api_for(dismantler)
    bad = client.post(API_URL, {"file": upload(csv_bytes([row(VIN, fleet["nev"]), row(VIN3, make_code())]))},
                      format="multipart")
    assert bad.status_code == 400, bad.content
    body = bad.json()
    assert body["code"] == "bulk_rejected" and body["error_count"] == 1
    assert (body["errors"][0]["row"], body["errors"][0]["column"]) == (3, "battery_codes")
    assert ScrappingIntake.objects.count() == 0

    content = xlsx_bytes([EN_HEADER, row(VIN, fleet["nev"]), row(VIN3, "")])
    good = client.post(API_URL, {"file": upload(content, "v.xlsx")}, format="multipart")
    assert good.status_code == 201, good.content
    data = good.json()
    assert data["count"] == 2 and not data["already_applied"]
    assert [r["outcome"] for r in data["results"]] == ["complete", "missing"]
    assert all(not r["has_photo_front"] for r in data["results"])

    again = client.post(API_URL, {"file": upload(content, "v.xlsx")}, format="multipart")
    assert again.status_code == 200 and again.json()["already_applied"] and again.json()["id"] == data["id"]
    assert ScrappingIntake.objects.count() == 2


def test_api_refuses_non_dismantlers(api_for, carmaker, fleet):
    response = api_for(carmaker).post(API_URL, {"file": upload(csv_bytes([row(VIN, fleet["nev"])]))},
                                      format="multipart")
    assert response.status_code == 403
    assert ScrappingIntake.objects.count() == 0


# --- demo data ---------------------------------------------------------------------------------------------------


def _demo_counts():
    return (ScrappingIntake.objects.count(), Battery.objects.count(), BatteryEvent.objects.count(),
            Vehicle.objects.count(), IntakeFile.objects.count())


def test_seed_demo_is_idempotent_and_has_scrapping_examples():
    from apps.accounts.models import User
    from apps.scrapping import services

    call_command("seed_demo", verbosity=0)
    first = _demo_counts()
    call_command("seed_demo", verbosity=0)
    assert _demo_counts() == first
    assert Vehicle.objects.count() >= 2
    # The demo dismantler can take in the complete vehicle: its battery is installed and known to the ledger.
    from apps.core.management.commands.seed_demo import DEMO_SCRAPPING

    dismantler = User.objects.get(username="dismantle_admin")
    complete = DEMO_SCRAPPING["complete"]
    intake = services.scrapping_intake_create(
        actor=dismantler, vin=complete["vin"], plate_number="鄂A0DEMO", engine_number="TZ1", is_nev=True,
        owner_id_kind="resident_id", owner_id_number=OWNER_ID, declared_not_mortgaged=True, declared_not_stolen=True,
        battery_codes=Battery.objects.filter(vehicle__vin=complete["vin"]).values_list("code", flat=True))
    assert intake.outcome == "complete"
