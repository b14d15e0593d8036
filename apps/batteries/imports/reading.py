"""Reading a bulk file as a stream of rows: CSV (BOM, strict UTF-8, then GB18030) or XLSX (python-calamine).

File-level problems (not a workbook, undecodable bytes, wrong header) raise FileProblem with the place and the
reason; row-level shape problems are left to the validators. Memory stays flat for CSV whatever its size.
"""
from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from apps.batteries.imports.columns import COLUMNS, Column, header_lookup

XLSX_MAGIC = b"PK\x03\x04"
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024  # 1 GiB of XML at most
MAX_XLSX_RATIO = 200  # zip-bomb guard: no member may inflate more than this
MAX_FIELD = 10_000


class FileProblem(Exception):
    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.message, self.row, self.column = message, row, column


@dataclass
class RowIssue:
    """A row that cannot even be split into fields (ragged, NUL byte)."""

    row: int
    message: str


@dataclass
class Sheet:
    """`rows` yields (line number, cells in the order of `columns`) or (line number, RowIssue)."""

    columns: list[Column]
    rows: Iterator[tuple[int, list[str] | RowIssue]]
    progress: callable = field(default=lambda: 0)  # bytes consumed so far (CSV) or an estimate (XLSX)


def _detect_encoding(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(path, "utf-8") is None:
        return "utf-8"
    failure = _decodes(path, "gb18030")
    if failure is None:
        return "gb18030"
    offset, line, byte = failure
    raise FileProblem(
        _("Byte 0x%(byte)02X at line %(line)d (byte offset %(offset)d) is neither UTF-8 nor GB18030/GBK: the file is "
          "damaged or in another encoding. Save it again as CSV UTF-8.") % {"byte": byte, "line": line, "offset": offset},
        row=line)


def _decodes(path: str, encoding: str) -> tuple[int, int, int] | None:
    """None if the whole file decodes strictly; else (byte offset, line number, offending byte)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    consumed = 0
    newlines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                offset = consumed + exc.start
                return offset, newlines + chunk[: exc.start].count(b"\n") + 1, chunk[exc.start] if exc.start < len(chunk) else 0
            consumed += len(chunk)
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return consumed, newlines + 1, 0
    return None


def _header(kind: str, names: list, row: int = 1) -> list[Column]:
    lookup = header_lookup(kind)
    columns: list[Column] = []
    for index, raw in enumerate(names):
        text = "" if raw is None else str(raw)
        if not text.strip():
            if any(str(n or "").strip() for n in names[index:]):
                raise FileProblem(_("Column %(n)d of the header row is empty.") % {"n": index + 1}, row=row)
            break  # trailing empty header cells (Excel) are ignored
        from apps.batteries.imports.columns import normalise_header

        column = lookup.get(normalise_header(text))
        if column is None:
            raise FileProblem(_("Unknown column %(name)s in the header row (column %(n)d). Expected: %(expected)s.")
                              % {"name": repr(text[:50]), "n": index + 1, "expected": _expected(kind)}, row=row)
        if column in columns:
            raise FileProblem(_("Column %(name)s appears twice in the header row.") % {"name": repr(text[:50])}, row=row)
        columns.append(column)
    missing = [c for c in COLUMNS[kind] if c.required and c not in columns]
    if missing:
        raise FileProblem(_("The header row lacks the required column(s): %(cols)s. Expected: %(expected)s.")
                          % {"cols": ", ".join(str(c.label) for c in missing), "expected": _expected(kind)}, row=row)
    return columns


def _expected(kind: str) -> str:
    return "; ".join(f"{c.names[2] if len(c.names) > 2 else c.names[0]} / {c.key}{'' if c.required else ' (optional)'}"
                     for c in COLUMNS[kind])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def open_sheet(path: str, kind: str) -> Sheet:
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise FileProblem(_("The file is empty."))
    if head == XLSX_MAGIC:
        return _open_xlsx(path, kind)
    return _open_csv(path, kind)


def _open_csv(path: str, kind: str) -> Sheet:
    encoding = _detect_encoding(path)
    raw = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
    reader = csv.reader(text)
    csv.field_size_limit(MAX_FIELD * 4)
    try:
        header = next(reader)
    except StopIteration:
        raw.close()
        raise FileProblem(_("The file is empty."))
    except csv.Error as exc:
        raw.close()
        raise FileProblem(_("The header row cannot be read: %(error)s.") % {"error": exc}, row=1)
    if not any(h.strip() for h in header):
        raw.close()
        raise FileProblem(_("The first row must be the header row; it is empty."), row=1)
    columns = _header(kind, header)
    width = len(columns)

    def rows():
        try:
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield reader.line_num, RowIssue(reader.line_num, _("This line cannot be read as CSV: %(error)s.")
                                                    % {"error": str(exc).replace("\x00", "NUL")})
                    continue
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue  # blank lines are skipped
                if len(values) != width:
                    if len(values) > width and not any(v.strip() for v in values[width:]):
                        values = values[:width]  # trailing empty cells, as spreadsheets write them
                    else:
                        yield line, RowIssue(line, _("This row has %(found)d fields; the header has %(expected)d.")
                                             % {"found": len(values), "expected": width})
                        continue
                yield line, [v.strip() for v in values]
        finally:
            raw.close()

    return Sheet(columns=columns, rows=rows(), progress=lambda: raw.tell() if not raw.closed else 0)


def _open_xlsx(path: str, kind: str) -> Sheet:
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_XLSX_RATIO \
                        and info.file_size > 10 * 1024 * 1024:
                    raise FileProblem(_("The workbook is suspicious: member %(name)s inflates %(ratio)d times. "
                                        "It was not opened.") % {"name": info.filename[:80],
                                                                 "ratio": info.file_size // max(info.compress_size, 1)})
            if total > MAX_XLSX_UNCOMPRESSED:
                raise FileProblem(_("The workbook would take more than 1 GB once uncompressed; split it or use CSV."))
            if "xl/workbook.xml" not in archive.namelist():
                raise FileProblem(_("The file is a ZIP archive but not an Excel workbook (.xlsx)."))
    except zipfile.BadZipFile:
        raise FileProblem(_("The file is not a valid Excel workbook (.xlsx): it is damaged or truncated."))
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(path)
        sheet = workbook.get_sheet_by_index(0)
        iterator = iter(sheet.iter_rows())
        header = next(iterator, None)
    except FileProblem:
        raise
    except Exception as exc:  # calamine raises its own types for broken XML, zips, passwords
        raise FileProblem(_("The workbook cannot be read: %(error)s.") % {"error": str(exc)[:200]})
    if header is None or not any(_cell(v) for v in header):
        raise FileProblem(_("The first sheet is empty: the first row must be the header row."), row=1)
    columns = _header(kind, list(header))
    width = len(columns)
    height = max(sheet.height, 1)
    state = {"row": 1}

    def rows():
        for offset, values in enumerate(iterator, start=2):
            state["row"] = offset
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            extra = cells[width:]
            if any(extra):
                yield offset, RowIssue(offset, _("This row has values beyond the %(n)d header columns.") % {"n": width})
                continue
            yield offset, (cells + [""] * width)[:width]

    import os

    size = os.path.getsize(path)
    return Sheet(columns=columns, rows=rows(), progress=lambda: int(size * state["row"] / height))
