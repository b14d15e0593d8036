"""Bulk-file intake of scrapped vehicles: a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX with one vehicle per
row, read by the battery app's one reader (apps.batteries.imports.reading, kind "scrapping_intake").

Processed in the request (synchronously): files are small — at most INTAKE_FILE_MAX_ROWS vehicles — and each row is
one call to the very service the form and the API use (services.scrapping_intake_create), inside ONE transaction
with a savepoint per row, so that every row's error (row, column, message) is collected. Any error → the
transaction rolls back, nothing is saved and the upload is recorded as *failed* with its errors; no error → every
intake is created with its check outcome. The same file (SHA-256) from the same dismantler is recognised and not
applied twice. The file itself is not kept: it holds owners' identity numbers.

Photos cannot come in a file: each intake still needs its two photos before a certificate.
"""
from __future__ import annotations

import hashlib
import os
import tempfile

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.batteries.imports.columns import COLUMNS, TEMPLATE_HEADERS
from apps.batteries.imports.pipeline import ErrorLog
from apps.batteries.imports.reading import FileProblem, RowIssue, open_sheet
from apps.core.errors import DomainError, ErrorCode
from apps.scrapping import rules, services
from apps.scrapping.forms import CODE_SEPARATORS
from apps.scrapping.models import IntakeFile, OwnerIdKind

KIND = "scrapping_intake"
INTAKE_FILE_MAX_ROWS = 5000
INTAKE_FILE_MAX_BYTES = 10 * 1024 * 1024
YES = {"是", "y", "yes", "true", "1", "✓", "√"}
NO = {"否", "n", "no", "false", "0", "✗", "×"}
# the service's argument → the file's column
FIELD_COLUMN = {
    "vin": "vin", "plate_number": "plate_number", "engine_number": "engine_number", "is_nev": "is_nev",
    "owner_id_kind": "owner_id", "owner_id_number": "owner_id", "declared_not_mortgaged": "not_mortgaged",
    "declared_not_stolen": "not_stolen", "battery_codes": "battery_codes", "explanation": "explanation",
}
SECRET_COLUMNS = {"owner_id"}  # never echoed in errors


def template_csv() -> bytes:
    """The header row (Chinese names), as UTF-8 with BOM so that Excel opens it correctly."""
    return (",".join(TEMPLATE_HEADERS[KIND]) + "\r\n").encode("utf-8-sig")


def _yes_no(value: str) -> bool | None:
    text = (value or "").strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def _owner_kind(number: str) -> str:
    """A resident identity card unless the number is a valid unified social credit code (an organisation)."""
    normal = rules.normalise_id_number(number)
    if rules.id_number_problem(OwnerIdKind.RESIDENT_ID, normal) is not None \
            and rules.id_number_problem(OwnerIdKind.USCC, normal) is None:
        return OwnerIdKind.USCC
    return OwnerIdKind.RESIDENT_ID


def _store_upload(upload) -> tuple[str, str, int]:
    digest = hashlib.sha256()
    size = 0
    handle, path = tempfile.mkstemp(prefix="intake-file-")
    with os.fdopen(handle, "wb") as out:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > INTAKE_FILE_MAX_BYTES:
                break
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest(), size


def _refuse(message: str) -> DomainError:
    return DomainError(code=ErrorCode.IMPORT_FILE_INVALID, message=message, field="file")


def _arguments(line: int, cells: dict, errors: ErrorLog) -> dict | None:
    """The service's arguments from one row, or None after recording what is wrong with the row's shape."""
    bad = False
    flags = {}
    for key in ("is_nev", "not_mortgaged", "not_stolen"):
        flag = _yes_no(cells.get(key, ""))
        if flag is None:
            errors.add(line, key, ErrorCode.INVALID,
                       _("Write 是 or 否 (yes or no) in column %(column)s.") % {"column": key}, cells.get(key, ""))
            bad = True
        flags[key] = flag
    if bad:
        return None
    owner = cells.get("owner_id", "")
    return {
        "vin": cells.get("vin", ""), "plate_number": cells.get("plate_number", ""),
        "engine_number": cells.get("engine_number", ""), "is_nev": flags["is_nev"],
        "owner_id_kind": _owner_kind(owner), "owner_id_number": owner,
        "declared_not_mortgaged": flags["not_mortgaged"], "declared_not_stolen": flags["not_stolen"],
        "battery_codes": [c for c in CODE_SEPARATORS.split(cells.get("battery_codes", "")) if c],
        "explanation": cells.get("explanation", ""),
    }


def _count_rows(path: str) -> int:
    sheet = open_sheet(path, KIND)
    count = 0
    for _line, _cells in sheet.rows:
        count += 1
        if count > INTAKE_FILE_MAX_ROWS:
            sheet.rows.close()
            break
    return count


def intake_file_apply(*, actor, upload) -> tuple[IntakeFile, bool]:
    """Apply an uploaded file; returns (the record, whether it had already been applied)."""
    enterprise = services.acting_dismantler(actor)
    name = (getattr(upload, "name", "") or "file")[:255]
    path, sha256, size = _store_upload(upload)
    try:
        if size > INTAKE_FILE_MAX_BYTES:
            raise _refuse(_("The file is larger than %(mb)d MB; split it into files of at most %(rows)d vehicles.")
                          % {"mb": INTAKE_FILE_MAX_BYTES // (1024 * 1024), "rows": INTAKE_FILE_MAX_ROWS})
        earlier = IntakeFile.objects.filter(dismantler=enterprise, sha256=sha256,
                                            status=IntakeFile.Status.SUCCEEDED).first()
        if earlier is not None:
            return earlier, True
        errors = ErrorLog()
        total = 0
        intakes = []
        try:
            total = _count_rows(path)
            if total > INTAKE_FILE_MAX_ROWS:
                raise _refuse(_("The file has more than %(max)d vehicles; split it into files of at most %(max)d rows.")
                              % {"max": INTAKE_FILE_MAX_ROWS})
            if total == 0:
                raise FileProblem(_("The file has a header row but no vehicle."), row=2)
            sheet = open_sheet(path, KIND)
        except FileProblem as problem:
            errors.add(problem.row, problem.column, ErrorCode.IMPORT_FILE_INVALID, problem.message)
            return _record(enterprise, actor, name, size, sha256, total, errors, []), False
        keys = [c.key for c in sheet.columns]
        record = None
        try:
            with transaction.atomic():
                for line, cells in sheet.rows:
                    if isinstance(cells, RowIssue):
                        errors.add(line, None, ErrorCode.INVALID, cells.message)
                        continue
                    values = dict(zip(keys, cells, strict=True))
                    too_long = False
                    for column in sheet.columns:
                        if len(values[column.key]) > column.max_length:
                            errors.add(line, column.key, ErrorCode.INVALID,
                                       _("At most %(max)d characters; %(n)d were given.")
                                       % {"max": column.max_length, "n": len(values[column.key])})
                            too_long = True
                    if too_long:
                        continue
                    arguments = _arguments(line, values, errors)
                    if arguments is None:
                        continue
                    try:
                        with transaction.atomic():  # a savepoint per row: the next rows are still checked
                            intakes.append(services.scrapping_intake_create(actor=actor, **arguments))
                    except DomainError as exc:
                        column = FIELD_COLUMN.get(exc.field)
                        value = "" if column in SECRET_COLUMNS or column is None else values.get(column, "")
                        errors.add(line, column, exc.code, str(exc.message), value)
                if errors.count:
                    transaction.set_rollback(True)
                else:
                    record = _record(enterprise, actor, name, size, sha256, total, errors, intakes)
        except IntegrityError:
            # The same file applied meanwhile by a parallel request: that one counts.
            earlier = IntakeFile.objects.filter(dismantler=enterprise, sha256=sha256,
                                                status=IntakeFile.Status.SUCCEEDED).first()
            if earlier is None:
                raise
            return earlier, True
        if record is None:
            record = _record(enterprise, actor, name, size, sha256, total, errors, [])
        return record, False
    finally:
        os.unlink(path)


def _record(enterprise, actor, name, size, sha256, total, errors: ErrorLog, intakes) -> IntakeFile:
    failed = bool(errors.count)
    if failed:
        message = _("%(n)d error(s) found; nothing was recorded. Correct the file and upload it again.") \
            % {"n": errors.count}
    else:
        message = _("%(n)d vehicle(s) taken in. Each intake still needs its two photos (front and VIN plate) before "
                    "a certificate.") % {"n": len(intakes)}
    record = IntakeFile.objects.create(
        dismantler=enterprise, created_by=actor, original_name=name, size=size, sha256=sha256,
        status=IntakeFile.Status.FAILED if failed else IntakeFile.Status.SUCCEEDED, total_rows=total,
        error_count=errors.count, errors=errors.first,
        errors_csv=errors.content().decode("utf-8-sig") if failed else "", message=message)
    if intakes:
        record.intakes.set(intakes)
    return record


def column_names() -> list[tuple[str, str, bool]]:
    """(Chinese header, key, required) for the page's explanation."""
    return [(c.names[2], c.key, c.required) for c in COLUMNS[KIND]]
