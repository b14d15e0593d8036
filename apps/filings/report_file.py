"""Monthly pack-count reports by file: an enterprise uploads a CSV (UTF-8 or GBK, detected) or XLSX with one row
per month — the month (YYYY-MM) and the counts, under MonthlyReport's field names or their Chinese names — and
each row creates that month's report or corrects the live one, through the same services the form and the API
use (apps.filings.services.monthly_report_create / monthly_report_update): a second report for a month is a
correction of the first, never a duplicate.

All or nothing: every row is checked first; any problem (a count negative, not whole or too large; a month
malformed, in the future, already approved, under review, or twice in the file; an unknown or missing column)
refuses the whole file with every problem listed by row, column and rule, and nothing is saved. The file itself
is read by apps.batteries.imports.reading (encoding detection, XLSX through python-calamine, zip-bomb guards).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.errors import DomainError, ErrorCode
from apps.core.services import service
from apps.filings import rules

FILE_KIND = "monthly_report"
MAX_ROWS = 240  # twenty years of months; a monthly file is never longer
MAX_COUNT = 2_000_000_000

# rule codes, as the API returns them
FILE, ROW, MONTH_INVALID, MONTH_IN_FUTURE, MONTH_APPROVED, MONTH_UNDER_REVIEW, MONTH_DUPLICATE = (
    "file", "row", "month_invalid", "month_in_future", "month_approved", "month_under_review", "month_duplicate")
NEGATIVE, NOT_WHOLE, TOO_LARGE = "negative", "not_whole", "too_large"

RULE_LABELS = {
    FILE: gettext_lazy("file or header"), ROW: gettext_lazy("row shape"),
    MONTH_INVALID: gettext_lazy("month as YYYY-MM"), MONTH_IN_FUTURE: gettext_lazy("no future month"),
    MONTH_APPROVED: gettext_lazy("approved months are final"),
    MONTH_UNDER_REVIEW: gettext_lazy("a report under review cannot be changed"),
    MONTH_DUPLICATE: gettext_lazy("one row per month"), NEGATIVE: gettext_lazy("no negative count"),
    NOT_WHOLE: gettext_lazy("whole numbers only"), TOO_LARGE: gettext_lazy("count too large"),
}

_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:[-/.]\d{1,2}(?:[T ].*)?)?$")


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None  # the field name (month, produced, …); the page shows its label
    rule: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


class ReportFileRejected(DomainError):
    """The whole file is refused; `errors` lists every problem found."""

    def __init__(self, errors: list[RowError]):
        super().__init__(code=ErrorCode.REPORT_FILE_INVALID, field="file",
                         message=_("The file was refused and nothing was saved: %(n)d problem(s), listed by row, "
                                   "column and rule.") % {"n": len(errors)})
        self.errors = errors


def parse_month(text: str) -> dt.date | None:
    """'2026-03', '2026/3', '2026年3月', or a date in the month as a spreadsheet writes it ('2026-03-01T00:00:00')."""
    match = _MONTH.match((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


def _count(value: str) -> tuple[int | None, str | None]:
    """A cell as a pack count: (number, None) or (None, rule). An empty cell is zero, as in the form and the API;
    '1,200' and the '12.0' a spreadsheet may write are whole numbers."""
    text = (value or "").strip().replace(",", "")
    if text == "":
        return 0, None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, NOT_WHOLE
    if not number.is_finite() or number != number.to_integral_value():
        return None, NOT_WHOLE
    if number < 0:
        return None, NEGATIVE
    if number > MAX_COUNT:
        return None, TOO_LARGE
    return int(number), None


def check_rows(sheet_rows, columns, *, existing: dict, today: dt.date) -> tuple[list[dict], list[RowError]]:
    """Every row's month and counts, or every problem. `existing`: month -> status of the enterprise's live report."""
    from apps.filings.models import MONTHLY_COUNT_FIELDS

    errors: list[RowError] = []
    good: list[dict] = []
    seen: dict[dt.date, int] = {}
    names = [c.key for c in columns]
    for line, cells in sheet_rows:
        if len(good) + len(errors) > MAX_ROWS * 2:
            errors.append(RowError(line, None, ROW, _("The file has more than %(n)d rows; a monthly file needs one "
                                                      "row per month.") % {"n": MAX_ROWS}))
            break
        if not isinstance(cells, list):  # a RowIssue from the reader
            errors.append(RowError(line, None, ROW, cells.message))
            continue
        values = dict(zip(names, cells))
        row_ok = True
        month = parse_month(values.get("month", ""))
        if month is None:
            errors.append(RowError(line, "month", MONTH_INVALID,
                                   _("“%(value)s” is not a month: write it as YYYY-MM, e.g. 2026-04.")
                                   % {"value": values.get("month", "")[:20]}))
            row_ok = False
        elif rules.is_future_month(month, today=today):
            errors.append(RowError(line, "month", MONTH_IN_FUTURE,
                                   _("%(month)s has not begun yet: a report covers a past or the current month.")
                                   % {"month": month.strftime("%Y-%m")}))
            row_ok = False
        elif month in seen:
            errors.append(RowError(line, "month", MONTH_DUPLICATE,
                                   _("%(month)s is already on row %(row)d: give each month once.")
                                   % {"month": month.strftime("%Y-%m"), "row": seen[month]}))
            row_ok = False
        else:
            seen[month] = line
            status = existing.get(month)
            if status == "approved":
                errors.append(RowError(line, "month", MONTH_APPROVED,
                                       _("The report for %(month)s was already approved; it can no longer be "
                                         "changed.") % {"month": month.strftime("%Y-%m")}))
                row_ok = False
            elif status in rules.OPEN_STATUSES:
                errors.append(RowError(line, "month", MONTH_UNDER_REVIEW,
                                       _("The report for %(month)s is with a reviewer; it can be corrected once it "
                                         "is returned.") % {"month": month.strftime("%Y-%m")}))
                row_ok = False
        counts = {}
        for name, _kind in MONTHLY_COUNT_FIELDS:
            raw = values.get(name, "")
            number, problem = _count(raw)
            if problem is not None:
                message = {
                    NEGATIVE: _("A count cannot be negative (%(value)s was given)."),
                    NOT_WHOLE: _("A count is a whole number of packs (%(value)s was given)."),
                    TOO_LARGE: _("This count is too large (%(value)s was given)."),
                }[problem] % {"value": raw[:20]}
                errors.append(RowError(line, name, problem, message))
                row_ok = False
            counts[name] = number
        if row_ok:
            good.append({"row": line, "month": month, "counts": counts})
    return good, errors


def _save_upload(upload) -> str:
    if hasattr(upload, "temporary_file_path"):
        return upload.temporary_file_path()
    handle, path = tempfile.mkstemp(prefix="monthly-report-", suffix=".upload")
    with os.fdopen(handle, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


@service
def monthly_report_file_apply(*, actor, upload) -> list[dict]:
    """Create or correct one monthly report per row of `upload`, all or nothing. Returns, per row, the month, the
    filing and whether it was created or corrected."""
    from apps.batteries.imports.reading import FileProblem, open_sheet
    from apps.enterprises.models import Enterprise
    from apps.filings import services
    from apps.filings.models import Filing

    services._require_side(actor, rules.COMPANY)
    if upload is None:
        raise ReportFileRejected([RowError(None, None, FILE, _("Choose a CSV or XLSX file."))])
    if upload.size > settings.FILINGS_REPORT_FILE_MAX_BYTES:
        raise ReportFileRejected([RowError(None, None, FILE, _("The file is %(size).1f MB; the limit is %(limit).1f "
                                                               "MB.") % {"size": upload.size / 1048576,
                                                                         "limit": settings.FILINGS_REPORT_FILE_MAX_BYTES
                                                                         / 1048576})])
    # One enterprise's reports are written one file (or form) at a time: the checks below cannot race.
    enterprise = Enterprise.objects.select_for_update().get(pk=actor.membership.enterprise_id)
    existing = dict(Filing.objects.filter(enterprise=enterprise, kind="monthly_report")
                    .exclude(status="rejected").values_list("period", "status"))
    path = _save_upload(upload)
    try:
        try:
            sheet = open_sheet(path, FILE_KIND)
            good, errors = check_rows(sheet.rows, sheet.columns, existing=existing, today=timezone.localdate())
        except FileProblem as exc:
            raise ReportFileRejected([RowError(exc.row, exc.column, FILE, exc.message)])
    finally:
        if not hasattr(upload, "temporary_file_path"):
            os.unlink(path)
    if not errors and not good:
        errors = [RowError(None, None, FILE, _("The file has a header row but no month below it."))]
    if errors:
        raise ReportFileRejected(errors)
    live = {f.period: f for f in Filing.objects.filter(enterprise=enterprise, kind="monthly_report",
                                                       period__in=[r["month"] for r in good]).exclude(status="rejected")}
    results = []
    for row in good:
        filing = live.get(row["month"])
        if filing is not None:
            filing = services.monthly_report_update(actor=actor, filing_id=filing.pk, counts=row["counts"])
            action = "corrected"
        else:
            filing = services.monthly_report_create(actor=actor, month=row["month"], counts=row["counts"])
            action = "created"
        results.append({"row": row["row"], "month": row["month"], "filing": filing, "action": action})
    return results
