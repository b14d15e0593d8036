"""Bulk files through the job: all rows or none, every error with its row and column, the same file only once."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.batteries import services
from apps.batteries.imports.pipeline import run_import
from apps.batteries.ledger import ledger_verify
from apps.batteries.models import Battery, BatteryEvent, BulkImport
from apps.core.errors import DomainError
from tests.batteries.conftest import VIN, VIN2, make_code

pytestmark = pytest.mark.django_db


def upload(actor, kind, content: bytes, name="file.csv", run=True) -> BulkImport:
    record = services.bulk_import_create(actor=actor, kind=kind, upload=SimpleUploadedFile(name, content))
    if run:
        run_import(record.pk)
        record.refresh_from_db()
    return record


def csv_bytes(rows, header="电池编码,额定容量(kWh),重量(kg),所属上级编码", encoding="utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def test_a_registration_file_registers_every_row_with_its_ledger_event(maker, maker_co):
    pack, module = make_code(), make_code(product="M")
    record = upload(maker, "register", csv_bytes([f"{pack},75.5,420,", f"{module},,12.5,{pack}"]))
    assert record.status == "succeeded", record.errors
    assert record.applied_rows == 2 and record.total_rows == 2
    assert Battery.objects.get(code=module).parent.code == pack
    assert BatteryEvent.objects.filter(kind="produced").count() == 2
    assert ledger_verify() == []
    # a battery registered by the file and one registered by the form have identical ledgers in shape
    single = services.battery_register(actor=maker, code=make_code(product="C"), parent_code=pack)
    assert ledger_verify() == []
    assert BatteryEvent.objects.get(battery=single).details == {"parent": pack}
    assert BatteryEvent.objects.get(battery__code=module).details == {"parent": pack}


def test_gbk_csv_with_english_headers_is_read(maker):
    code = make_code()
    content = ("code,capacity_kwh\n" + f"{code},60\n").encode("gbk")
    record = upload(maker, "register", content)
    assert record.status == "succeeded", record.errors


def test_one_bad_row_changes_nothing_and_every_error_is_listed(maker, rival_maker):
    good = make_code()
    rows = [f"{good},60,,", f"{make_code('1KC')},60,,", "TOOSHORT,60,,", f"{make_code()},-3,,", f"{good},1,,"]
    record = upload(maker, "register", csv_bytes(rows))
    assert record.status == "failed"
    assert Battery.objects.count() == 0 and BatteryEvent.objects.count() == 0
    found = {(e["row"], e["column"], e["code"]) for e in record.errors}
    assert (3, "code", "manufacturer_code_not_yours") in found
    assert (4, "code", "battery_code_invalid") in found
    assert (5, "capacity_kwh", "quantity_invalid") in found
    assert record.errors_file.read().decode("utf-8-sig").count("\n") == record.error_count + 1


def test_duplicates_within_the_file_and_against_the_ledger_are_found_set_based(maker):
    existing = services.battery_register(actor=maker, code=make_code()).code
    dup = make_code()
    record = upload(maker, "register", csv_bytes([f"{dup},,,", f"{existing},,,", f"{dup},,,"]))
    assert record.status == "failed"
    found = {(e["row"], e["code"]) for e in record.errors}
    assert found == {(3, "battery_already_registered"), (4, "duplicate_in_file")}
    assert Battery.objects.count() == 1


def test_the_same_file_twice_is_recognised(maker):
    content = csv_bytes([f"{make_code()},,,"])
    first = upload(maker, "register", content)
    with pytest.raises(DomainError) as err:
        upload(maker, "register", content)
    assert err.value.code == "import_duplicate_file"
    assert f"#{first.pk}" in str(err.value.message)
    assert Battery.objects.count() == 1


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"foo,bar\n1,2\n", "Unknown column"),
    ("电池编码,颜色\nX,红\n".encode("utf-8"), "Unknown column"),
    ("电池编码\n".encode("gbk") + b"\xff\xfe\x80abc\n", "GB18030"),
    (b"PK\x03\x04garbage-not-a-zip", "Excel"),
])
def test_broken_files_fail_with_a_clear_message(maker, content, needle, settings):
    settings.LANGUAGE_CODE = "en"
    if content == b"":
        with pytest.raises(DomainError) as err:
            upload(maker, "register", content)
        assert err.value.code == "import_file_invalid"
        return
    record = upload(maker, "register", content, name="f.xlsx" if content.startswith(b"PK") else "f.csv")
    assert record.status == "failed"
    assert needle in " ".join(e["message"] for e in record.errors), record.errors


def test_installation_file_goes_through_the_services_all_or_nothing(maker, carmaker):
    codes = [make_code(), make_code()]
    for code in codes:
        services.battery_register(actor=maker, code=code)
        services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
        services.battery_receive(actor=carmaker, code=code)
    header = "电池编码,车辆识别代号,装车时间,车型,换电车型"
    bad = upload(carmaker, "install", csv_bytes([f"{codes[0]},{VIN},,E5,否",
                                                 f"{make_code()},{VIN2},,E5,否"], header=header))
    assert bad.status == "failed"
    assert [(e["row"], e["code"]) for e in bad.errors] == [(3, "battery_unknown")]
    assert Battery.objects.get(code=codes[0]).status == "in_stock"
    good = upload(carmaker, "install", csv_bytes([f"{codes[0]},{VIN},,E5,否",
                                                  f"{codes[1]},{VIN2},,E6,是"], header=header))
    assert good.status == "succeeded", good.errors
    assert Battery.objects.get(code=codes[1]).vehicle.is_swap_model is True
    assert ledger_verify() == []


def test_handover_file_checks_the_waste_rule(maker, unlicensed_recycler, collector):
    code = make_code()
    services.battery_register(actor=maker, code=code)
    services.battery_declare_waste(actor=maker, code=code)
    header = "电池编码,接收方统一社会信用代码"
    bad = upload(maker, "hand_over", csv_bytes([f"{code},{unlicensed_recycler.enterprise.uscc}"], header=header))
    assert [e["code"] for e in bad.errors] == ["recipient_not_licensed"]
    good = upload(maker, "hand_over", csv_bytes([f"{code},{collector.enterprise.uscc}"], header=header))
    assert good.status == "succeeded"
    assert Battery.objects.get(code=code).transit_to == collector.enterprise




def test_xlsx_registration_with_numbers_in_cells(maker):
    from tests.xlsx import xlsx_bytes

    codes = [make_code(), make_code()]
    content = xlsx_bytes([["电池编码", "额定容量(kWh)", "重量(kg)"], [codes[0], 75.5, 420], [codes[1], 60, None]])
    record = upload(maker, "register", content, name="batteries.xlsx")
    assert record.status == "succeeded", record.errors
    assert str(Battery.objects.get(code=codes[0]).capacity_kwh) == "75.500"


def test_a_zip_that_is_not_a_workbook(maker):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    record = upload(maker, "register", buffer.getvalue(), name="x.xlsx")
    assert record.status == "failed"
    assert record.errors[0]["code"] == "import_file_invalid"


def test_ragged_rows_and_nul_bytes_are_row_errors(maker):
    code = make_code()
    content = csv_bytes([f"{code},1,2,,extra", f"{make_code()}\x00,1,,"])
    record = upload(maker, "register", content)
    assert record.status == "failed"
    assert {e["row"] for e in record.errors} == {2, 3}


def test_a_redelivered_job_applies_exactly_once(maker):
    record = upload(maker, "register", csv_bytes([f"{make_code()},,,"]), run=False)
    run_import(record.pk)
    run_import(record.pk)  # the broker delivers the task again
    record.refresh_from_db()
    assert record.status == "succeeded"
    assert Battery.objects.count() == 1 and BatteryEvent.objects.count() == 1
