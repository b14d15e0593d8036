"""Reading a bulk file as a stream of rows: CSV (BOM, strict UTF-8, then GB18030) or XLSX (python-calamine).

File-level problems (not a workbook, undecodable bytes, wrong header) raise FileProblem with the place and the
reason; row-level shape problems are left to the validators. Memory stays flat for CSV whatever its size.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
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
                              % {"name": repr(text[:50]), "n": index + 1, "expected": _expected(kind)}, row=row,
                              column=_printable(text))
        if column in columns:
            raise FileProblem(_("Column %(name)s appears twice in the header row.") % {"name": repr(text[:50])}, row=row,
                              column=_printable(text))
        columns.append(column)
    missing = [c for c in COLUMNS[kind] if c.required and c not in columns]
    if missing:
        raise FileProblem(_("The header row lacks the required column(s): %(cols)s. Expected: %(expected)s.")
                          % {"cols": ", ".join(str(c.label) for c in missing), "expected": _expected(kind)}, row=row)
    return columns


def _printable(text: str) -> str:
    """A header cell as an error's column: 50 characters at most, control characters (NUL…) as U+FFFD."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text[:50])


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


# Files people upload by mistake (or on purpose) instead of a sheet, recognised by their first bytes.
SIGNATURES = [
    (b"%PDF", "PDF"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003 (.xls) / OLE"), (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"), (b"7z\xbc\xaf\x27\x1c", "7-Zip"), (b"MZ", "Windows executable"), (b"\x7fELF", "ELF executable"),
    (b"PK\x05\x06", "empty ZIP"),
]


def open_sheet(path: str, kind: str) -> Sheet:
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise FileProblem(_("The file is empty."))
    if head[:4] == XLSX_MAGIC:
        return _open_xlsx(path, kind)
    for magic, what in SIGNATURES:
        if head.startswith(magic):
            raise FileProblem(_("The file is a %(what)s file, not a CSV file or an Excel workbook (.xlsx), whatever "
                                "its name. Save the sheet as CSV UTF-8 or .xlsx.") % {"what": what}, row=1)
    return _open_csv(path, kind)


# A sheet reaching cell XFD1048576 makes the reader allocate every cell of that range (rows × columns) at once:
# a 1 KB workbook would ask for hundreds of GB and abort the process. The cell references are scanned first.
MAX_XLSX_COLUMNS = 64
MAX_XLSX_CELLS = 20_000_000
_CELL_REF = re.compile(rb"<c\b[^>]*?\sr=\"([A-Z]{1,4})([0-9]{1,9})\"")
_CELL_ANY = re.compile(rb"<c[\s>/]")


def _column_number(letters: bytes) -> int:
    n = 0
    for b in letters:
        n = n * 26 + (b - 64)
    return n


def _column_letters(n: int) -> str:
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def _check_sheet_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Scan a worksheet's XML as a stream (never more than its declared size) for the farthest cell."""
    max_row = max_col = cells = 0
    stray = None  # the first cell beyond the column limit
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(1 << 20):
            data = tail + chunk
            # keep an incomplete tag for the next round
            cut = data.rfind(b"<")
            cut = cut if cut > len(data) - 512 else len(data)
            block, tail = data[:cut], data[cut:]
            cells += len(_CELL_ANY.findall(block))
            for letters, digits in _CELL_REF.findall(block):
                col, row = _column_number(letters), int(digits)
                if col > MAX_XLSX_COLUMNS and stray is None:
                    stray = (col, row)
                if col > max_col:
                    max_col = col
                if row > max_row:
                    max_row = row
            if max_col > MAX_XLSX_COLUMNS or cells > MAX_XLSX_CELLS or max_row * max(max_col, 1) > MAX_XLSX_CELLS:
                col, row = stray or (max_col, max_row)
                raise FileProblem(
                    _("The sheet reaches cell %(cell)s (%(cols)d columns, %(rows)d rows): at most %(max_cols)d columns "
                      "and %(max_cells)d cells are read. Delete the stray cells far from the data, or save as CSV.")
                    % {"cell": f"{_column_letters(col)}{row}", "cols": max_col, "rows": max_row,
                       "max_cols": MAX_XLSX_COLUMNS, "max_cells": MAX_XLSX_CELLS},
                    row=row, column=_column_letters(col))


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
                # A record is named by the line it starts on: a quoted field may run over several lines.
                start = reader.line_num + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield start, RowIssue(start, _("This line cannot be read as CSV: %(error)s.")
                                          % {"error": str(exc).replace("\x00", "NUL")})
                    continue
                line = start
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
                if info.compress_size > info.file_size + 1024 + info.file_size // 100:
                    # Deflate never grows data that much: the header under-declares what the member inflates to.
                    raise FileProblem(_("The workbook is damaged or forged: member %(name)s declares %(size)d bytes "
                                        "but holds %(packed)d compressed bytes. It was not opened.")
                                      % {"name": info.filename[:80], "size": info.file_size,
                                         "packed": info.compress_size})
                if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_XLSX_RATIO \
                        and info.file_size > 10 * 1024 * 1024:
                    raise FileProblem(_("The workbook is suspicious: member %(name)s inflates %(ratio)d times. "
                                        "It was not opened.") % {"name": info.filename[:80],
                                                                 "ratio": info.file_size // max(info.compress_size, 1)})
            if total > MAX_XLSX_UNCOMPRESSED:
                raise FileProblem(_("The workbook would take more than 1 GB once uncompressed; split it or use CSV."))
            if "xl/workbook.xml" not in archive.namelist():
                raise FileProblem(_("The file is a ZIP archive but not an Excel workbook (.xlsx)."))
            for info in archive.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    _check_sheet_extent(archive, info)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError):
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
