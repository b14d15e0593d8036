"""The bulk import job: parse as a stream → validate every row → stage → apply in one transaction.

Registration (the national-volume case) is applied set-based: validated rows are written to a temporary TSV,
COPY'd into a temporary staging table, checked with SQL (duplicates in the file and in the ledger, parents),
and moved into Battery and BatteryEvent with two INSERT … SELECT statements — the ledger hash is computed by
the same SQL function the single-event service uses. Installation and handover files go row by row through
the very services the forms and the API call (one transaction, a savepoint per row so every error is
collected), because each row depends on the battery's current state.

All or nothing: any error → the transaction rolls back, the import is *failed*, errors are listed.
Idempotent: a finished import is left alone; a redelivered one (worker killed) restarts from the file.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import logging
import os
import re
import tempfile
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from apps.batteries import services
from apps.batteries.codes import BatteryCodeError, date_tables, decode_fast, parse_battery_code
from apps.batteries.imports.reading import FileProblem, RowIssue, open_sheet
from apps.batteries.messages import battery_code_message, vin_message
from apps.core.text import ascii_upper
from apps.batteries.models import BulkImport
from apps.batteries.vin import vin_problem
from apps.core.errors import DomainError
from apps.enterprises.models import ManufacturerCode
from apps.enterprises.rules import normalise_uscc, uscc_problem

log = logging.getLogger("batterytrace.imports")
ERRORS_ON_PAGE = 1000
PROGRESS_EVERY = 20_000
PRODUCT_LEVEL = {"P": 0, "M": 1, "C": 2}


class ErrorLog:
    """Every error goes to a CSV file; the first 1,000 are also kept for the page."""

    def __init__(self):
        self.count = 0
        self.first: list[dict] = []
        self._buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8-sig",
                                                     newline="")
        self._writer = csv.writer(self._buffer)
        self._writer.writerow(["row", "column", "value", "code", "message"])

    def reset(self) -> None:
        self.__init__()

    def add(self, row: int | None, column: str | None, code: str, message: str, value: str = "") -> None:
        self.count += 1
        value = _printable((value or "")[:60])
        message = _printable(str(message))
        if len(self.first) < ERRORS_ON_PAGE:
            self.first.append({"row": row, "column": column, "code": code, "message": str(message), "value": value})
        self._writer.writerow([row or "", column or "", _neutralise(value), code, str(message)])

    def content(self) -> bytes:
        self._buffer.seek(0)
        return self._buffer.read().encode("utf-8-sig")


_CONTROL = {c: f"\\x{c:02x}" for c in range(32) if c not in (9,)}


def _printable(text: str) -> str:
    """Control characters (a NUL byte in a file, say) are shown escaped: PostgreSQL text cannot hold NUL."""
    return text.translate(_CONTROL)


def _neutralise(value: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is prefixed with a quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _decimal(value: str) -> Decimal | None | str:
    if value == "":
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return "invalid"
    if not number.is_finite() or number <= 0 or number >= Decimal("1e9"):
        return "invalid"
    return number.quantize(Decimal("0.001"))


def _timestamp(value: str):
    """ISO date or date-time (2026-05-01, 2026-05-01 08:30, 2026/5/1); naive times are China time."""
    if value == "":
        return None
    text = value.strip().replace("/", "-")
    for parser in (dt.datetime.fromisoformat,):
        try:
            parsed = parser(text)
        except ValueError:
            continue
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed
    return "invalid"


# --- validation of one row (pure, fast) ----------------------------------------------------------------------------


NULL = "\\N"  # COPY text format
_SIMPLE_DECIMAL = re.compile(r"[0-9]{1,9}(\.[0-9]{1,3})?")


class RegisterRowValidator:
    """Registration rows: the hot path of a million-row file, so valid rows take a fast route (a regex and a
    cached date) and only a refused row pays for the detailed diagnosis."""

    def __init__(self, record: BulkImport, columns):
        self.own = set(ManufacturerCode.objects.filter(enterprise=record.enterprise_id).values_list("code", flat=True))
        self.today = timezone.localdate()
        self.tables = date_tables()
        keys = [c.key for c in columns]
        self.i_code = keys.index("code")
        self.i_capacity = keys.index("capacity_kwh") if "capacity_kwh" in keys else None
        self.i_weight = keys.index("weight_kg") if "weight_kg" in keys else None
        self.i_parent = keys.index("parent_code") if "parent_code" in keys else None

    def _number(self, line, value, key, errors):
        number = _decimal(value)
        if number == "invalid":
            errors.add(line, key, "quantity_invalid", _("%(value)s is not a number greater than zero.")
                       % {"value": repr(value[:30])}, value)
            return None
        return str(number)

    def _decode(self, line, raw: str, column: str, errors):
        """Decoded fields of a valid code, or None after recording why it is refused."""
        decoded = decode_fast(raw, self.today, self.tables)  # most rows: already upper-case and valid
        if decoded is not None:
            return decoded
        code = ascii_upper(raw)
        try:
            parsed = parse_battery_code(code, tables=self.tables, today=self.today)
        except BatteryCodeError as exc:
            errors.add(line, column, "battery_code_invalid", battery_code_message(code, exc.problem), code)
            return None
        return (parsed.code, parsed.manufacturer_code, parsed.product_type, parsed.battery_type, parsed.spec_code,
                parsed.trace_code, parsed.production_date, parsed.serial)

    def __call__(self, line: int, cells: list[str], errors: ErrorLog):
        decoded = self._decode(line, cells[self.i_code], "code", errors)
        if decoded is None:
            return None
        ok = True
        if decoded[1] not in self.own:
            errors.add(line, "code", "manufacturer_code_not_yours",
                       _("Manufacturer code %(mfr)s (positions 1-3) is not assigned to your enterprise.")
                       % {"mfr": decoded[1]}, decoded[0])
            ok = False
        capacity = weight = NULL
        if self.i_capacity is not None and (value := cells[self.i_capacity]):
            if not (_SIMPLE_DECIMAL.fullmatch(value) and value.strip("0.")):
                value = self._number(line, value, "capacity_kwh", errors)
                ok = ok and value is not None
            capacity = value
        if self.i_weight is not None and (value := cells[self.i_weight]):
            if not (_SIMPLE_DECIMAL.fullmatch(value) and value.strip("0.")):
                value = self._number(line, value, "weight_kg", errors)
                ok = ok and value is not None
            weight = value
        parent = NULL
        if self.i_parent is not None and cells[self.i_parent]:
            parent_decoded = self._decode(line, cells[self.i_parent], "parent_code", errors)
            if parent_decoded is None:
                return None
            parent = parent_decoded[0]
            if PRODUCT_LEVEL[parent_decoded[2]] >= PRODUCT_LEVEL[decoded[2]]:
                errors.add(line, "parent_code", "parent_invalid",
                           _("A %(child)s cannot be contained in a %(parent)s.")
                           % {"child": decoded[2], "parent": parent_decoded[2]}, parent)
                ok = False
        if not ok:
            return None
        c, mfr, ptype, chem, spec, trace, produced, serial = decoded
        return (line, c, mfr, ptype, chem, spec, trace, produced.isoformat(), serial, capacity, weight, parent)


class LifecycleRowValidator:
    """Shape checks for installation and handover rows; the rules themselves are the services'."""

    def __init__(self, record: BulkImport, columns):
        self.kind = record.kind
        self.today = timezone.localdate()
        self.strict_vin = settings.VIN_STRICT_CHECK_DIGIT
        self.keys = [c.key for c in columns]

    def __call__(self, line: int, cells: list[str], errors: ErrorLog):
        row = dict(zip(self.keys, cells))
        ok = True
        code = ascii_upper(row["code"])
        try:
            parse_battery_code(code, today=self.today)
        except BatteryCodeError as exc:
            errors.add(line, "code", "battery_code_invalid", battery_code_message(code, exc.problem), code)
            ok = False
        item = {"line": line, "code": code}
        if self.kind == "install":
            vin = ascii_upper(row["vin"])
            problem = vin_problem(vin, strict=self.strict_vin)
            if problem:
                errors.add(line, "vin", "vin_invalid", vin_message(vin, problem), vin)
                ok = False
            swap = row.get("is_swap_model", "").strip().lower()
            if swap not in ("", "0", "1", "true", "false", "yes", "no", "是", "否", "y", "n"):
                errors.add(line, "is_swap_model", "invalid", _("Write 是/否 (yes/no)."), swap)
                ok = False
            item.update(vin=vin, model_name=row.get("model_name", ""),
                        is_swap_model=swap in ("1", "true", "yes", "是", "y"))
        else:
            recipient = normalise_uscc(row["recipient"])
            problem = uscc_problem(recipient)
            if problem:
                message = (_("Check character at position 18 should be %(expected)s.") % {"expected": problem.expected}
                           if problem.rule == "check_character" else _("Not a unified social credit code."))
                errors.add(line, "recipient", "uscc_invalid", message, recipient)
                ok = False
            item["recipient"] = recipient
        when = _timestamp(row.get("occurred_at", ""))
        if when == "invalid":
            errors.add(line, "occurred_at", "occurred_at_invalid",
                       _("Write the time as 2026-05-01 or 2026-05-01 08:30."), row["occurred_at"])
            ok = False
        item["occurred_at"] = when
        return item if ok else None


# --- the job ---------------------------------------------------------------------------------------------------


class Progress:
    """Progress is written through a separate autocommit connection, so the page sees it while the import's own
    transaction is still open (and nothing of the import itself is visible until it commits)."""

    def __init__(self, record: BulkImport):
        self.record = record
        self._conn = None

    def __call__(self, **fields) -> None:
        for key, value in fields.items():
            setattr(self.record, key, value)
        if not connection.in_atomic_block:
            BulkImport.objects.filter(pk=self.record.pk).update(**fields)
            return
        try:
            if self._conn is None:
                import psycopg

                self._conn = psycopg.connect(**connection.get_connection_params(), autocommit=True)
            assignments = ", ".join(f"{key} = %({key})s" for key in fields)
            self._conn.execute(f"UPDATE batteries_bulkimport SET {assignments} WHERE id = %(pk)s",
                               {**fields, "pk": self.record.pk})
        except Exception:  # progress is a courtesy; never fail an import over it
            log.warning("progress update failed for import %s", self.record.pk, exc_info=True)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _update(record: BulkImport, **fields) -> None:
    for key, value in fields.items():
        setattr(record, key, value)
    BulkImport.objects.filter(pk=record.pk).update(**fields)


def run_import(import_id: int) -> str:
    record = BulkImport.objects.select_related("enterprise", "created_by").get(pk=import_id)
    if record.is_finished:
        return record.status
    _update(record, status=BulkImport.Status.VALIDATING, started_at=timezone.now(), attempts=record.attempts + 1,
            bytes_read=0, total_rows=0, applied_rows=0, error_count=0, errors=[], message="")
    errors = ErrorLog()
    # Messages in the file and on the page: Chinese first, as the portal's default.
    with override(settings.LANGUAGE_CODE):
        try:
            if record.kind == BulkImport.Kind.REGISTER:
                applied = _run_register(record, errors)
            else:
                applied = _run_per_row(record, errors)
        except FileProblem as exc:
            errors.add(exc.row, exc.column, "import_file_invalid", exc.message)
            applied = None
        except Exception:
            log.exception("bulk import %s crashed", import_id)
            _finish(record, errors, failed=True, message=_("The import stopped because of an internal error; nothing "
                                                            "was changed. Try again later."))
            raise
        if applied is None or errors.count:
            _finish(record, errors, failed=True,
                    message=_("%(n)d error(s) found; nothing was changed. Correct the file and upload it again.")
                    % {"n": errors.count})
            return BulkImport.Status.FAILED
    return BulkImport.Status.SUCCEEDED


def _finish(record: BulkImport, errors: ErrorLog, *, failed: bool, message: str = "") -> None:
    record.status = BulkImport.Status.FAILED if failed else BulkImport.Status.SUCCEEDED
    record.error_count = errors.count
    record.errors = errors.first
    record.message = message
    record.finished_at = timezone.now()
    if errors.count:
        record.errors_file.save(f"import-{record.pk}-errors.csv", ContentFile(errors.content()), save=False)
    record.save(update_fields=["status", "error_count", "errors", "message", "finished_at", "errors_file"])


def _validated_rows(record: BulkImport, validator_class, errors: ErrorLog, progress=None):
    """Yield each valid row; report progress; count every row."""
    progress = progress or (lambda **fields: _update(record, **fields))
    sheet = open_sheet(record.file.path, record.kind)
    validator = validator_class(record, sheet.columns)
    limits = [c.max_length for c in sheet.columns]
    # Registration values that are too long fail the code/number checks anyway (with a precise message).
    check_lengths = validator_class is not RegisterRowValidator
    total = 0
    for line, cells in sheet.rows:
        total += 1
        if isinstance(cells, RowIssue):
            errors.add(cells.row, None, "row_invalid", cells.message)
        else:
            if check_lengths and any(len(v) > limit for v, limit in zip(cells, limits)):
                for column, value in zip(sheet.columns, cells):
                    if len(value) > column.max_length:
                        errors.add(line, column.key, "too_long",
                                   _("The value has %(n)d characters; at most %(max)d are allowed.")
                                   % {"n": len(value), "max": column.max_length}, value)
            else:
                staged = validator(line, cells, errors)
                if staged is not None:
                    yield staged
        if total % PROGRESS_EVERY == 0:
            progress(total_rows=total, bytes_read=sheet.progress())
    progress(total_rows=total, bytes_read=record.size)
    if total == 0:
        errors.add(None, None, "import_file_invalid", _("The file has a header row but no data rows."))


STAGE_COLUMNS = ("row_no", "code", "mfr", "ptype", "chem", "spec", "trace", "pdate", "serial", "capacity", "weight",
                 "parent_code")


def _run_register(record: BulkImport, errors: ErrorLog) -> int | None:
    """Fast path: stream rows straight into the tables; if the database reports a duplicate, roll back and run the
    diagnostic path, which stages the rows and finds every conflicting row set-based."""
    try:
        return _register_streaming(record, errors)
    except _Conflict:
        log.info("import %s: conflict on the fast path; diagnosing", record.pk)
    errors.reset()
    return _register_diagnose(record, errors)


class _Conflict(Exception):
    pass


BATTERY_COPY = ("COPY batteries_battery (id, code, manufacturer_code, product_type, chemistry, spec_code, trace_code,"
                " production_date, serial, capacity_kwh, weight_kg, maker_id, holder_id, status, is_waste, ledger_seq,"
                " ledger_head, registered_at, updated_at) FROM STDIN")

def _row_estimate(record: BulkImport) -> int:
    with open(record.file.path, "rb") as f:
        head = f.read(4)
        if head == b"PK\x03\x04":
            from python_calamine import CalamineWorkbook

            return CalamineWorkbook.from_path(record.file.path).get_sheet_by_index(0).height + 1
        f.seek(0)
        lines = 1
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n") + chunk.count(b"\r")
        return lines


def _register_streaming(record: BulkImport, errors: ErrorLog) -> int | None:
    import hashlib
    import time
    from array import array

    import psycopg

    from apps.batteries.ledger import micros

    started = time.perf_counter()
    progress = Progress(record)
    actor, user = record.enterprise_id, record.created_by_id
    occurred = timezone.now()
    stamp = occurred.isoformat()
    # ledger_hash_py, unrolled for the hot loop: prev | code | 1 | produced | actor | | | occurred | details | user | recorded
    hash_head = "|"
    hash_middle = f"|1|produced|{actor}|||{micros(occurred)}|"
    hash_tail = f"|{'' if user is None else user}|{micros(occurred)}"
    sha256 = hashlib.sha256
    parents: list[tuple[int, str, str]] = []
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")  # a lost commit is redone by the re-run
                # Start reading (opening the file, loading the maker's codes) before the connection enters COPY.
                rows = _validated_rows(record, RegisterRowValidator, errors, progress)
                first = next(rows, None)
                rows = itertools.chain([first] if first is not None else [], rows)
                # Battery ids are drawn from the sequence up front (gaps are harmless) so that the ledger rows
                # can name their battery without reading anything back.
                cursor.execute("SELECT nextval('batteries_battery_id_seq') FROM generate_series(1, %s)",
                               [_row_estimate(record) if first is not None else 0])
                ids = array("q", (r[0] for r in cursor.fetchall()))
                next_id = iter(ids).__next__
                loaded = 0
                with cursor.copy(BATTERY_COPY) as copy:
                    buffer: list[str] = []
                    for row in rows:
                        if errors.count:
                            continue  # keep reading to report every error, but stop loading
                        line, code, mfr, ptype, chem, spec, trace, produced, serial, capacity, weight, parent = row
                        battery_id = next_id()
                        loaded += 1
                        details = "{}" if parent is NULL else '{"parent": "%s"}' % parent
                        digest = sha256((hash_head + code + hash_middle + details + hash_tail).encode()).hexdigest()
                        buffer.append(f"{battery_id}\t{code}\t{mfr}\t{ptype}\t{chem}\t{spec}\t{trace}\t{produced}\t"
                                      f"{serial}\t{capacity}\t{weight}\t{actor}\t{actor}\tin_stock\tf\t1\t{digest}\t"
                                      f"{stamp}\t{stamp}\n")
                        if parent is not NULL:
                            parents.append((line, code, parent))
                        if len(buffer) >= 2000:
                            copy.write("".join(buffer))
                            buffer.clear()
                    if buffer and not errors.count:
                        copy.write("".join(buffer))
                if errors.count:
                    raise _Rollback
                log.info("import %s: parsed, validated and loaded batteries in %.1f s", record.pk,
                         time.perf_counter() - started)
                progress(status=BulkImport.Status.APPLYING)
                # The first ledger events are written by the server from the rows just loaded (their hash is
                # already in ledger_head), rather than formatted a second time in Python. The import's own
                # timestamp and maker pick exactly its rows within the reserved id range.
                if parents:
                    _stage_links(cursor, parents)
                if ids:
                    cursor.execute(_EVENTS_FROM_BATTERIES.format(
                        details=_PARENT_DETAILS if parents else "'{}'::jsonb",
                        join="LEFT JOIN link l ON l.code = b.code" if parents else ""),
                        {"actor": actor, "user": user, "stamp": occurred, "low": min(ids), "high": max(ids)})
                    if cursor.rowcount != loaded:  # never expected: one produced event per battery loaded
                        raise RuntimeError(f"import {record.pk}: {cursor.rowcount} ledger events for {loaded} batteries")
                log.info("import %s: ledger events loaded at %.1f s", record.pk, time.perf_counter() - started)
                count = len(ids)
                del ids
                if parents and not _link_parents(cursor, parents, actor, errors, staged=True):
                    raise _Rollback
            inserted = record.total_rows
            _succeed(record, inserted, _("%(n)d batteries registered.") % {"n": inserted})
        log.info("import %s: committed at %.1f s (%d ids reserved)", record.pk, time.perf_counter() - started, count)
        return inserted
    except _Rollback:
        return None
    except (IntegrityError, psycopg.errors.UniqueViolation):
        raise _Conflict
    finally:
        progress.close()


def _succeed(record: BulkImport, applied: int, message: str) -> None:
    record.status = BulkImport.Status.SUCCEEDED
    record.applied_rows = applied
    record.error_count = 0
    record.errors = []
    record.finished_at = timezone.now()
    record.message = message
    record.save(update_fields=["status", "applied_rows", "error_count", "errors", "finished_at", "message",
                               "total_rows", "bytes_read"])


_EVENTS_FROM_BATTERIES = """
INSERT INTO batteries_batteryevent
    (battery_id, seq, kind, actor_id, counterparty_id, vehicle_id, occurred_at, recorded_at, recorded_by_id,
     details, prev_hash, hash)
SELECT b.id, 1, 'produced', %(actor)s, NULL, NULL, %(stamp)s, %(stamp)s, %(user)s, {details}, '', b.ledger_head
FROM batteries_battery b {join}
WHERE b.id BETWEEN %(low)s AND %(high)s AND b.registered_at = %(stamp)s AND b.maker_id = %(actor)s
  AND b.ledger_seq = 1
"""
# The same text as the hash computed while parsing ('{"parent": "<code>"}'); ledger_verify rechecks every hash.
_PARENT_DETAILS = "CASE WHEN l.parent_code IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('parent', l.parent_code) END"


def _stage_links(cursor, parents) -> None:
    cursor.execute("CREATE TEMP TABLE link (row_no int, code text, parent_code text) ON COMMIT DROP")
    with cursor.copy("COPY link FROM STDIN") as copy:
        for row in parents:
            copy.write_row(row)


def _link_parents(cursor, parents, actor: int, errors: ErrorLog, staged: bool = False) -> bool:
    """Pack → module → cell links named in the file: the parent is registered (now or before) by the same maker,
    at a higher level."""
    if not staged:
        _stage_links(cursor, parents)
    cursor.execute("""
        SELECT l.row_no, l.parent_code, CASE WHEN p.id IS NULL THEN 'unknown'
                                             WHEN p.maker_id <> %(actor)s THEN 'not_yours' ELSE 'level' END
        FROM link l JOIN batteries_battery c ON c.code = l.code
        LEFT JOIN batteries_battery p ON p.code = l.parent_code
        WHERE p.id IS NULL OR p.maker_id <> %(actor)s OR
              (CASE p.product_type WHEN 'P' THEN 0 WHEN 'M' THEN 1 ELSE 2 END) >=
              (CASE c.product_type WHEN 'P' THEN 0 WHEN 'M' THEN 1 ELSE 2 END)
        ORDER BY l.row_no LIMIT 100000""", {"actor": actor})
    problems = cursor.fetchall()
    for row_no, parent, why in problems:
        message = {
            "unknown": _("Parent %(code)s is neither registered nor in this file."),
            "not_yours": _("Parent %(code)s belongs to another maker."),
            "level": _("Parent %(code)s cannot contain this product type."),
        }[why] % {"code": parent}
        errors.add(row_no, "parent_code", "parent_invalid", message, parent)
    if problems:
        return False
    cursor.execute("""UPDATE batteries_battery c SET parent_id = p.id FROM link l JOIN batteries_battery p
                      ON p.code = l.parent_code WHERE c.code = l.code""")
    return True


def _register_diagnose(record: BulkImport, errors: ErrorLog) -> int | None:
    """The slower path that explains conflicts: stage every row, then find duplicates set-based."""
    with tempfile.TemporaryFile(mode="w+", encoding="ascii", newline="") as staged:
        for row in _validated_rows(record, RegisterRowValidator, errors):
            staged.write("\t".join(map(str, row)) + "\n")
        if errors.count:
            return None
        staged.seek(0)
        _update(record, status=BulkImport.Status.APPLYING)
        try:
            return _apply_register(record, staged, errors)
        except IntegrityError:
            errors.add(None, "code", "battery_already_registered",
                       _("Some of these codes were registered by another upload at the same time; upload again to "
                         "see which."))
            return None


class _Rollback(Exception):
    pass


def _apply_register(record: BulkImport, staged: io.TextIOBase, errors: ErrorLog) -> int | None:
    import time

    actor_id, user_id = record.enterprise_id, record.created_by_id
    occurred = timezone.now()
    clock = [time.perf_counter()]

    def lap(what: str) -> None:
        now = time.perf_counter()
        log.info("import %s: %s in %.1f s", record.pk, what, now - clock[0])
        clock[0] = now
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")  # the job is re-runnable: a lost commit is re-done
                cursor.execute(
                    "CREATE TEMP TABLE stage (row_no int, code text, mfr text, ptype text, chem text, spec text,"
                    " trace text, pdate date, serial text, capacity numeric, weight numeric, parent_code text)"
                    " ON COMMIT DROP")
                with cursor.copy("COPY stage FROM STDIN") as copy:
                    while chunk := staged.read(1 << 20):
                        copy.write(chunk)
                cursor.execute("ANALYZE stage")
                lap("staged with COPY")
                problems = _register_set_checks(cursor, actor_id)
                for row_no, column, code, err, message in problems:
                    errors.add(row_no, column, err, message, code)
                lap("set-based checks")
                if problems:
                    raise _Rollback
                cursor.execute(_INSERT_BATTERIES, {"actor": actor_id, "user": user_id, "occurred": occurred})
                inserted = cursor.rowcount
                lap("batteries and events inserted")
                cursor.execute(_LINK_PARENTS)
            record.status = BulkImport.Status.SUCCEEDED
            record.applied_rows = inserted
            record.error_count = 0
            record.errors = []
            record.finished_at = timezone.now()
            record.message = _("%(n)d batteries registered.") % {"n": inserted}
            record.save(update_fields=["status", "applied_rows", "error_count", "errors", "finished_at", "message"])
        lap("committed (deferred foreign-key checks)")
        return inserted
    except _Rollback:
        return None


def _register_set_checks(cursor, actor_id: int) -> list[tuple]:
    """Row errors only visible across rows or against the ledger, found set-based."""
    out = []
    cursor.execute("""
        SELECT row_no, code, first_row FROM (
            SELECT row_no, code, min(row_no) OVER (PARTITION BY code) AS first_row FROM stage) d
        WHERE row_no <> first_row ORDER BY row_no LIMIT 100000""")
    for row_no, code, first in cursor.fetchall():
        out.append((row_no, "code", code, "duplicate_in_file",
                    _("Battery code %(code)s also appears in row %(first)d of this file.") % {"code": code, "first": first}))
    cursor.execute("""
        SELECT s.row_no, s.code FROM stage s JOIN batteries_battery b ON b.code = s.code ORDER BY s.row_no LIMIT 100000""")
    for row_no, code in cursor.fetchall():
        out.append((row_no, "code", code, "battery_already_registered",
                    _("Battery %(code)s is already registered.") % {"code": code}))
    cursor.execute("""
        SELECT s.row_no, s.parent_code,
               CASE WHEN b.id IS NULL AND p.code IS NULL THEN 'unknown'
                    WHEN b.id IS NOT NULL AND b.maker_id <> %(actor)s THEN 'not_yours'
                    ELSE 'level' END
        FROM stage s
        LEFT JOIN batteries_battery b ON b.code = s.parent_code
        LEFT JOIN (SELECT DISTINCT ON (code) code, ptype FROM stage) p ON p.code = s.parent_code
        WHERE s.parent_code IS NOT NULL AND (
              (b.id IS NULL AND p.code IS NULL)
           OR (b.id IS NOT NULL AND (b.maker_id <> %(actor)s OR
                  (CASE b.product_type WHEN 'P' THEN 0 WHEN 'M' THEN 1 ELSE 2 END) >=
                  (CASE s.ptype WHEN 'P' THEN 0 WHEN 'M' THEN 1 ELSE 2 END))))
        ORDER BY s.row_no LIMIT 100000""", {"actor": actor_id})
    for row_no, parent, why in cursor.fetchall():
        message = {
            "unknown": _("Parent %(code)s is neither registered nor in this file."),
            "not_yours": _("Parent %(code)s belongs to another maker."),
            "level": _("Parent %(code)s cannot contain this product type."),
        }[why] % {"code": parent}
        out.append((row_no, "parent_code", parent, "parent_invalid", message))
    return out


# Batteries and their first ledger event in one statement; the hash comes from the one SQL definition.
_INSERT_BATTERIES = """
WITH ins AS (
    INSERT INTO batteries_battery
        (code, manufacturer_code, product_type, chemistry, spec_code, trace_code, production_date, serial,
         capacity_kwh, weight_kg, maker_id, holder_id, status, is_waste, ledger_seq, ledger_head,
         registered_at, updated_at)
    SELECT code, mfr, ptype, chem, spec, trace, pdate, serial, capacity, weight, %(actor)s, %(actor)s,
           'in_stock', false, 1,
           bt_ledger_hash('', code, 1, 'produced', %(actor)s, NULL, NULL, %(occurred)s,
                          CASE WHEN parent_code IS NULL THEN '{}'::jsonb
                               ELSE jsonb_build_object('parent', parent_code) END, %(user)s, %(occurred)s),
           now(), now()
    FROM stage
    ORDER BY row_no
    RETURNING id, ledger_head, code
)
INSERT INTO batteries_batteryevent
    (battery_id, seq, kind, actor_id, counterparty_id, vehicle_id, occurred_at, recorded_at, recorded_by_id,
     details, prev_hash, hash)
SELECT ins.id, 1, 'produced', %(actor)s, NULL, NULL, %(occurred)s, %(occurred)s, %(user)s,
       CASE WHEN s.parent_code IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('parent', s.parent_code) END,
       '', ins.ledger_head
FROM ins JOIN stage s ON s.code = ins.code
"""

_LINK_PARENTS = """
UPDATE batteries_battery c SET parent_id = p.id
FROM stage s JOIN batteries_battery p ON p.code = s.parent_code
WHERE s.parent_code IS NOT NULL AND c.code = s.code
"""


def _run_per_row(record: BulkImport, errors: ErrorLog) -> int | None:
    """Installation and handover: the services themselves, row by row, in one transaction."""
    with tempfile.TemporaryFile(mode="w+b") as spool:
        import pickle

        count = 0
        for item in _validated_rows(record, LifecycleRowValidator, errors):
            pickle.dump(item, spool)
            count += 1
        if errors.count:
            return None
        spool.seek(0)
        _update(record, status=BulkImport.Status.APPLYING)
        actor = record.created_by
        try:
            with transaction.atomic():
                applied = 0
                for _n in range(count):
                    item = pickle.load(spool)
                    try:
                        with transaction.atomic():
                            if record.kind == BulkImport.Kind.INSTALL:
                                services.battery_install(actor=actor, code=item["code"], vin=item["vin"],
                                                         occurred_at=item["occurred_at"], model_name=item["model_name"],
                                                         is_swap_model=item["is_swap_model"])
                            else:
                                services.battery_hand_over(actor=actor, code=item["code"], recipient=item["recipient"],
                                                           occurred_at=item["occurred_at"])
                    except DomainError as exc:
                        value = item.get(exc.field) if isinstance(item.get(exc.field), str) else item["code"]
                        errors.add(item["line"], exc.field, exc.code, str(exc.message), value)
                        continue
                    applied += 1
                if errors.count:
                    raise _Rollback
                record.status = BulkImport.Status.SUCCEEDED
                record.applied_rows = applied
                record.finished_at = timezone.now()
                record.message = _("%(n)d rows applied.") % {"n": applied}
                record.save(update_fields=["status", "applied_rows", "finished_at", "message"])
                return applied
        except _Rollback:
            return None
