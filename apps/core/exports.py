"""Exports of any list a reviewer sees, to CSV and XLSX, from the very queryset the page shows (issue 5, item 6).

Adding an export to a list is one line in its view, after the queryset is built (filtered, scoped by
`visible_to`, ordered) and before it is paginated, plus one include in its template:

    # views.py
    if response := exports.export_response(request, queryset, COLUMNS, filename="discrepancies"):
        return response

    {# the template, near the filters #}
    {% include "includes/export_links.html" %}

`?export=csv` or `?export=xlsx` on the list's own URL (with its filters) answers with the whole list as a download;
any other request returns None and the view renders its page as before. Nothing else is needed: no new route, so
the export has exactly the page's permission check, tenant scoping, filters and order. COLUMNS is a list of
`Column(header, value)`: `header` a gettext_lazy string (rendered in the request's language, so headers are Chinese
at / and English at /en/), `value` a dotted attribute path ("enterprise.name"; a method at the end is called, e.g.
"get_status_display") or a callable taking the row.

- CSV: UTF-8 with a byte-order mark (Excel then reads Chinese correctly), streamed row by row from a server-side
  cursor (`queryset.iterator`), so a list of any length never sits in memory.
- XLSX: XlsxWriter in constant_memory mode into a temporary file (rows are flushed as written), every text cell
  written as a string, never as a formula.
- Formula injection (OWASP "CSV injection"): a text cell that begins with =, +, -, @, a tab or a carriage return is
  prefixed with a single quote, in both formats, so a spreadsheet shows it as text and never evaluates it.
  Numbers, dates and booleans are written as values; only text is neutralised.
"""
from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

FORMATS = ("csv", "xlsx")
PARAM = "export"
BOM = "\ufeff"
# A spreadsheet treats a cell starting with one of these as a formula (OWASP: =, +, -, @, tab, carriage return).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # the sheet's limit less the header row
CHUNK = 2000


@dataclass(frozen=True)
class Column:
    header: Any  # a (lazy) translated string
    value: str | Callable[[Any], Any]

    def read(self, row) -> Any:
        if callable(self.value):
            return self.value(row)
        current = row
        for part in self.value.split("."):
            if current is None:
                return None
            current = getattr(current, part)
            if callable(current) and not isinstance(current, type):
                current = current()
        return current


def neutralise(text: str) -> str:
    """`text` as a spreadsheet will show it and never evaluate it: a leading formula trigger gets a quote."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell_value(value: Any) -> Any:
    """A Python value as a cell: numbers stay numbers, dates ISO text in Beijing time, booleans 是/否 (Yes/No),
    lists joined with "; ", None empty, and every text neutralised against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) \
            else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return neutralise("; ".join(str(v) for v in value))
    return neutralise(str(value))


def requested_format(request) -> str | None:
    fmt = request.GET.get(PARAM, "")
    return fmt if fmt in FORMATS else None


def _rows(queryset: Iterable, columns: list[Column]) -> Iterator[list]:
    items = queryset.iterator(chunk_size=CHUNK) if isinstance(queryset, QuerySet) else iter(queryset)
    for item in items:
        yield [cell_value(column.read(item)) for column in columns]


def _filename(base: str, fmt: str) -> str:
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in base) or "export"
    return f"{safe}-{timezone.localdate():%Y%m%d}.{fmt}"


class _Echo:
    def write(self, value):
        return value


def csv_response(queryset, columns: list[Column], *, filename: str) -> StreamingHttpResponse:
    language = translation.get_language()
    headers = [str(column.header) for column in columns]

    def stream():
        # The body is produced after the view has returned (and the locale middleware has finished): keep the
        # request's language for the translated values (choice labels, Yes/No).
        with translation.override(language):
            writer = csv.writer(_Echo())
            yield BOM + writer.writerow([cell_value(h) for h in headers])
            for row in _rows(queryset, columns):
                yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, "csv")}"'
    response["Cache-Control"] = "no-store"
    return response


def xlsx_response(queryset, columns: list[Column], *, filename: str, sheet: str | None = None) -> FileResponse:
    import xlsxwriter

    output = tempfile.TemporaryFile()  # removed when the response closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False,
                                            "default_date_format": "yyyy-mm-dd"})
    worksheet = workbook.add_worksheet((sheet or filename)[:31])
    bold = workbook.add_format({"bold": True})
    for c, column in enumerate(columns):
        worksheet.write_string(0, c, cell_value(str(column.header)), bold)
        worksheet.set_column(c, c, max(10, min(40, len(str(column.header)) * 2 + 2)))
    for r, row in enumerate(_rows(queryset, columns), start=1):
        if r > XLSX_MAX_ROWS:
            break
        for c, value in enumerate(row):
            if isinstance(value, str):
                worksheet.write_string(r, c, value)
            else:
                worksheet.write_number(r, c, float(value) if isinstance(value, Decimal) else value)
    workbook.close()
    output.seek(0)
    response = FileResponse(output, as_attachment=True, filename=_filename(filename, "xlsx"),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Cache-Control"] = "no-store"
    return response


def export_response(request, queryset, columns: list[Column], *, filename: str):
    """The export the request asks for (`?export=csv|xlsx`) of `queryset`, or None for the ordinary page."""
    fmt = requested_format(request)
    if fmt == "csv":
        return csv_response(queryset, columns, filename=filename)
    if fmt == "xlsx":
        return xlsx_response(queryset, columns, filename=filename)
    return None
