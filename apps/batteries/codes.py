"""GB/T 34014-2017 battery codes: pure parsing and checking, no ORM.

    pos  1–3  manufacturer code      assigned; must belong to the filing battery maker
    pos  4    product type           P pack, M module, C cell
    pos  5    battery type           B LFP, E ternary, A NiMH, C LMO, D LCO, F supercapacitor, G LTO, Z other
    pos  6–7  specification code     filed by the maker
    pos  8–14 traceability code      filed by the maker
    pos 15–17 production date        year, month, day codes (tables below, configurable)
    pos 18–24 serial number          0000001–9999999

The year, month and day tables are *unverified* against the standard's text (DOMAIN.md), so they live in one
place — `date_tables()` — which a setting (`BATTERY_CODE_DATE_TABLES`) may replace without a code change.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

CODE_LENGTH = 24
ALLOWED = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
PRODUCT_TYPES = {"P": "pack", "M": "module", "C": "cell"}
BATTERY_TYPES = {"B": "LFP", "E": "ternary", "A": "NiMH", "C": "LMO", "D": "LCO", "F": "supercapacitor",
                 "G": "LTO", "Z": "other"}

# Default date tables: the VIN model-year letters (no I, O, Q, U, Z; 30-year cycle starting 2010),
# months 1–9 then A, B, C, days 1–9 then A–Y without I, O, Q, Z.
_YEAR_LETTERS = "ABCDEFGHJKLMNPRSTVWXY123456789"
DEFAULT_YEARS = {c: 2010 + i for i, c in enumerate(_YEAR_LETTERS)}
DEFAULT_MONTHS = {**{str(i): i for i in range(1, 10)}, "A": 10, "B": 11, "C": 12}
DEFAULT_DAYS = {**{str(i): i for i in range(1, 10)}, **{c: 10 + i for i, c in enumerate("ABCDEFGHJKLMNPRSTUVWXY")}}


@dataclass(frozen=True)
class DateTables:
    years: dict[str, int]
    months: dict[str, int]
    days: dict[str, int]


def date_tables() -> DateTables:
    """The production-date tables in force: settings.BATTERY_CODE_DATE_TABLES if configured, else the defaults."""
    try:
        from django.conf import settings

        custom = getattr(settings, "BATTERY_CODE_DATE_TABLES", None)
    except Exception:  # used outside Django (pure tests, benchmarks)
        custom = None
    if custom:
        return DateTables(years=dict(custom["years"]), months=dict(custom["months"]), days=dict(custom["days"]))
    return DateTables(DEFAULT_YEARS, DEFAULT_MONTHS, DEFAULT_DAYS)


@dataclass(frozen=True)
class BatteryCode:
    code: str
    manufacturer_code: str
    product_type: str
    battery_type: str
    spec_code: str
    trace_code: str
    production_date: dt.date
    serial: str


@dataclass(frozen=True)
class CodeProblem:
    """Why a code is refused: `rule` is a stable identifier; position is 1-based (None for the whole code)."""

    rule: str
    position: int | None = None
    character: str | None = None
    detail: str = ""

    def describe(self) -> str:
        """English text; the services wrap it in a translated message with the same facts."""
        where = f" at position {self.position}" if self.position else ""
        char = f" {self.character!r}" if self.character is not None else ""
        return f"{self.rule}{where}{char}{': ' + self.detail if self.detail else ''}"


class BatteryCodeError(ValueError):
    def __init__(self, problem: CodeProblem):
        super().__init__(problem.describe())
        self.problem = problem


def parse_battery_code(raw: str, *, tables: DateTables | None = None, today: dt.date | None = None) -> BatteryCode:
    """Parse and check a GB/T 34014 code. Raises BatteryCodeError naming the first problem found."""
    code = raw
    if len(code) != CODE_LENGTH:
        raise BatteryCodeError(CodeProblem("length", detail=f"{len(code)} characters, expected {CODE_LENGTH}"))
    for index, char in enumerate(code):
        if char not in ALLOWED:
            raise BatteryCodeError(CodeProblem("character", index + 1, char,
                                               "only digits 0-9 and upper-case letters A-Z are allowed"))
    if code[3] not in PRODUCT_TYPES:
        raise BatteryCodeError(CodeProblem("product_type", 4, code[3], "expected P (pack), M (module) or C (cell)"))
    if code[4] not in BATTERY_TYPES:
        raise BatteryCodeError(CodeProblem("battery_type", 5, code[4], "expected one of " + "".join(BATTERY_TYPES)))
    tables = tables or date_tables()
    year = tables.years.get(code[14])
    if year is None:
        raise BatteryCodeError(CodeProblem("year_code", 15, code[14], "not a production-year code"))
    month = tables.months.get(code[15])
    if month is None:
        raise BatteryCodeError(CodeProblem("month_code", 16, code[15], "expected 1-9, A (10), B (11) or C (12)"))
    day = tables.days.get(code[16])
    if day is None:
        raise BatteryCodeError(CodeProblem("day_code", 17, code[16], "not a day code"))
    try:
        produced = dt.date(year, month, day)
    except ValueError:
        raise BatteryCodeError(CodeProblem("impossible_date", 15, code[14:17], f"{year}-{month:02d}-{day:02d} does not exist"))
    if today is not None and produced > today:
        raise BatteryCodeError(CodeProblem("future_date", 15, code[14:17], f"{produced.isoformat()} is in the future"))
    serial = code[17:24]
    if not serial.isdigit():
        bad = next(i for i, c in enumerate(serial) if not c.isdigit())
        raise BatteryCodeError(CodeProblem("serial", 18 + bad, serial[bad], "the serial number is 7 digits"))
    if serial == "0000000":
        raise BatteryCodeError(CodeProblem("serial", 18, serial, "serial numbers start at 0000001"))
    return BatteryCode(code=code, manufacturer_code=code[0:3], product_type=code[3], battery_type=code[4],
                       spec_code=code[5:7], trace_code=code[7:14], production_date=produced, serial=serial)


_FAST = re.compile(r"[0-9A-Z]{3}[PMC][BEACDFGZ][0-9A-Z]{9}[0-9A-Z]{3}[0-9]{7}")


def decode_fast(code: str, today: dt.date, tables: DateTables | None = None):
    """The hot path for bulk files: a tuple of decoded fields for a valid code, or None (then call
    parse_battery_code for the precise reason). Same rules as parse_battery_code, about 10x faster."""
    if len(code) != CODE_LENGTH or not _FAST.fullmatch(code) or code[17:] == "0000000":
        return None
    produced = _date_of(code[14:17], tables or date_tables())
    if produced is None or produced > today:
        return None
    return (code, code[0:3], code[3], code[4], code[5:7], code[7:14], produced, code[17:24])


_date_cache: dict[tuple[int, str], dt.date | None] = {}


def _date_of(field: str, tables: DateTables) -> dt.date | None:
    key = (id(tables.years), field)
    if key not in _date_cache:
        if len(_date_cache) > 100_000:
            _date_cache.clear()
        year, month, day = tables.years.get(field[0]), tables.months.get(field[1]), tables.days.get(field[2])
        try:
            _date_cache[key] = dt.date(year, month, day) if None not in (year, month, day) else None
        except ValueError:
            _date_cache[key] = None
    return _date_cache[key]


def encode_production_date(day: dt.date, tables: DateTables | None = None) -> str:
    """The 3-character date field for a date (used by the demo data, the benchmark and tests)."""
    tables = tables or date_tables()
    inverse = lambda table, value: next(k for k, v in table.items() if v == value)  # noqa: E731
    return inverse(tables.years, day.year) + inverse(tables.months, day.month) + inverse(tables.days, day.day)
