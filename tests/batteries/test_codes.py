"""Pure rules, no database: GB/T 34014 battery codes, VINs, the messages built from their problems, and the
lifecycle rule tables. Every rejection must say where (position), what (character) and why (rule)."""
from __future__ import annotations

import datetime as dt
import string

import pytest
from django.utils import translation

from apps.batteries import rules
from apps.batteries.codes import (
    BATTERY_TYPES,
    DEFAULT_DAYS,
    DEFAULT_MONTHS,
    DEFAULT_YEARS,
    PRODUCT_TYPES,
    BatteryCodeError,
    CodeProblem,
    DateTables,
    date_tables,
    encode_production_date,
    parse_battery_code,
)
from apps.batteries.messages import battery_code_message, vin_message
from apps.batteries.vin import TRANSLITERATION, VinProblem, vin_check_digit, vin_problem
from tests.batteries.conftest import VIN, VIN2, VIN3

# 0PA | P | E | 01 | ABCDEFG | T3F (2026-03-15) | 0000042
BASE = "0PAPE01ABCDEFGT3F0000042"
ALPHANUMERIC = string.digits + string.ascii_uppercase


def with_char(code: str, position: int, char: str) -> str:
    """`code` with the character at 1-based `position` replaced."""
    return code[: position - 1] + char + code[position:]


def raw_date_field(year: int, month: int, day: int) -> str:
    """The three date characters from the default tables, without checking that the date exists."""
    inverse = lambda table, value: next(k for k, v in table.items() if v == value)  # noqa: E731
    return inverse(DEFAULT_YEARS, year) + inverse(DEFAULT_MONTHS, month) + inverse(DEFAULT_DAYS, day)


def code_on(date_field: str, serial: str = "0000042") -> str:
    return BASE[:14] + date_field + serial


def problem_of(code: str, **kwargs) -> CodeProblem:
    with pytest.raises(BatteryCodeError) as err:
        parse_battery_code(code, **kwargs)
    assert str(err.value) == err.value.problem.describe()
    return err.value.problem


# --- battery codes: decoding ------------------------------------------------------------------------------


def test_every_field_is_decoded():
    parsed = parse_battery_code(BASE)
    assert parsed.code == BASE
    assert parsed.manufacturer_code == "0PA"
    assert parsed.product_type == "P"
    assert parsed.battery_type == "E"
    assert parsed.spec_code == "01"
    assert parsed.trace_code == "ABCDEFG"
    assert parsed.production_date == dt.date(2026, 3, 15)
    assert parsed.serial == "0000042"


@pytest.mark.parametrize("product", sorted(PRODUCT_TYPES))
@pytest.mark.parametrize("chemistry", sorted(BATTERY_TYPES))
def test_every_product_and_battery_type_is_accepted(product, chemistry):
    parsed = parse_battery_code(with_char(with_char(BASE, 4, product), 5, chemistry))
    assert (parsed.product_type, parsed.battery_type) == (product, chemistry)


def test_the_type_tables_are_the_domain_ones():
    assert set(PRODUCT_TYPES) == {"P", "M", "C"}
    assert set(BATTERY_TYPES) == set("BEACDFGZ")


@pytest.mark.parametrize("serial", ["0000001", "9999999", "1234567"])
def test_serial_bounds_are_accepted(serial):
    assert parse_battery_code(code_on("T3F", serial)).serial == serial


def test_letters_i_o_q_are_allowed_outside_the_date_and_serial():
    # GB/T 34014 allows all upper-case letters (unlike a VIN); only the tables restrict the date.
    code = "IOQPE" + "IO" + "QQQIOOO" + "T3F" + "0000001"
    assert parse_battery_code(code).trace_code == "QQQIOOO"


# --- battery codes: rejections ----------------------------------------------------------------------------


@pytest.mark.parametrize("code, n", [(BASE[:23], 23), (BASE + "1", 25), ("", 0), (BASE[:12], 12)])
def test_wrong_length_is_refused_whole(code, n):
    p = problem_of(code)
    assert (p.rule, p.position, p.character) == ("length", None, None)
    assert f"{n} characters, expected 24" in p.detail


REGIONS = {  # a position inside each field
    "manufacturer": 2, "product_type": 4, "battery_type": 5, "spec": 7, "trace": 11, "year": 15, "month": 16,
    "day": 17, "serial_first": 18, "serial_last": 24,
}
FORBIDDEN = {"lower case": "a", "space": " ", "hyphen": "-", "umlaut": "Ö", "full-width A": "Ａ", "Chinese": "电",
             "full-width digit": "３", "tab": "\t"}


@pytest.mark.parametrize("position", REGIONS.values(), ids=REGIONS.keys())
@pytest.mark.parametrize("char", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_a_forbidden_character_is_named_with_its_position(position, char):
    p = problem_of(with_char(BASE, position, char))
    assert (p.rule, p.position, p.character) == ("character", position, char)


def test_the_first_forbidden_character_is_the_one_named():
    code = with_char(with_char(BASE, 20, "x"), 9, "-")
    p = problem_of(code)
    assert (p.rule, p.position, p.character) == ("character", 9, "-")


@pytest.mark.parametrize("char", ["X", "A", "0", "B", "E"])
def test_unknown_product_type_at_position_4(char):
    p = problem_of(with_char(BASE, 4, char))
    assert (p.rule, p.position, p.character) == ("product_type", 4, char)


@pytest.mark.parametrize("char", ["H", "P", "X", "0", "9"])
def test_unknown_battery_type_at_position_5(char):
    p = problem_of(with_char(BASE, 5, char))
    assert (p.rule, p.position, p.character) == ("battery_type", 5, char)


@pytest.mark.parametrize("position, rule, chars", [
    (15, "year_code", ["0", "I", "O", "Q", "U", "Z"]),
    (16, "month_code", ["0", "D", "Z", "I"]),
    (17, "day_code", ["0", "I", "O", "Q", "Z"]),
])
def test_bad_date_codes_name_their_position(position, rule, chars):
    for char in chars:
        p = problem_of(with_char(BASE, position, char))
        assert (p.rule, p.position, p.character) == (rule, position, char), char


@pytest.mark.parametrize("year, month, day", [(2026, 2, 30), (2026, 4, 31), (2026, 2, 29), (2027, 2, 29),
                                              (2026, 6, 31), (2026, 9, 31), (2026, 11, 31), (2028, 2, 30)])
def test_impossible_dates_are_refused(year, month, day):
    field = raw_date_field(year, month, day)
    p = problem_of(code_on(field))
    assert (p.rule, p.position, p.character) == ("impossible_date", 15, field)
    assert f"{year}-{month:02d}-{day:02d} does not exist" in p.detail


@pytest.mark.parametrize("year", [2028, 2032, 2036])
def test_february_29_is_valid_in_a_leap_year(year):
    assert parse_battery_code(code_on(raw_date_field(year, 2, 29))).production_date == dt.date(year, 2, 29)


@pytest.mark.parametrize("month, last", [(1, 31), (3, 31), (4, 30), (12, 31), (2, 28)])
def test_last_day_of_month_is_valid(month, last):
    assert parse_battery_code(code_on(raw_date_field(2026, month, last))).production_date == dt.date(2026, month, last)


def test_a_future_production_date_is_refused_only_when_today_is_given():
    code = code_on(raw_date_field(2026, 3, 15))
    p = problem_of(code, today=dt.date(2026, 3, 14))
    assert (p.rule, p.position, p.character) == ("future_date", 15, "T3F")
    assert "2026-03-15" in p.detail
    assert parse_battery_code(code, today=dt.date(2026, 3, 15)).production_date == dt.date(2026, 3, 15)
    assert parse_battery_code(code).production_date == dt.date(2026, 3, 15)  # no `today`: no future check


@pytest.mark.parametrize("serial, position, char", [("00A0042", 20, "A"), ("A000042", 18, "A"),
                                                    ("000004Z", 24, "Z")])
def test_a_letter_in_the_serial_is_named(serial, position, char):
    p = problem_of(code_on("T3F", serial))
    assert (p.rule, p.position, p.character) == ("serial", position, char)


def test_serial_zero_is_refused():
    p = problem_of(code_on("T3F", "0000000"))
    assert (p.rule, p.position) == ("serial", 18)
    assert "0000001" in p.detail


def test_describe_names_rule_position_and_character():
    assert CodeProblem("product_type", 4, "X", "expected P").describe() == "product_type at position 4 'X': expected P"
    assert CodeProblem("length", detail="3 characters").describe() == "length: 3 characters"


# --- battery codes: the configurable date tables ----------------------------------------------------------

DECADE = DateTables(years={str(i): 2020 + i for i in range(10)},
                    months={**{str(i): i for i in range(1, 10)}, "O": 10, "N": 11, "D": 12},
                    days={**{str(i): i for i in range(1, 10)}, **{c: 10 + i for i, c in enumerate("ABCDEFGHJKLMNPRSTUVWXY")}})


def test_default_tables_are_one_to_one_and_cover_thirty_years():
    for table in (DEFAULT_YEARS, DEFAULT_MONTHS, DEFAULT_DAYS):
        assert len(set(table.values())) == len(table)
    assert sorted(DEFAULT_YEARS.values()) == list(range(2010, 2040))
    assert sorted(DEFAULT_MONTHS.values()) == list(range(1, 13))
    assert sorted(DEFAULT_DAYS.values()) == list(range(1, 32))
    assert not {"I", "O", "Q", "U", "Z"} & set(DEFAULT_YEARS)


def test_a_custom_table_passed_in_is_used():
    code = code_on("6O9")
    assert parse_battery_code(code, tables=DECADE).production_date == dt.date(2026, 10, 9)
    p = problem_of(code)  # with the default tables, "6" is 2036 and "O" is no month
    assert (p.rule, p.position, p.character) == ("month_code", 16, "O")
    p = problem_of(BASE, tables=DECADE)  # 'T' is no year in the custom table
    assert (p.rule, p.position, p.character) == ("year_code", 15, "T")
    assert encode_production_date(dt.date(2026, 12, 31), DECADE) == "6DY"


def test_the_setting_replaces_the_default_tables(settings):
    assert date_tables() == DateTables(DEFAULT_YEARS, DEFAULT_MONTHS, DEFAULT_DAYS)
    settings.BATTERY_CODE_DATE_TABLES = {"years": DECADE.years, "months": DECADE.months, "days": DECADE.days}
    assert date_tables() == DECADE
    assert parse_battery_code(code_on("6O9")).production_date == dt.date(2026, 10, 9)
    assert problem_of(BASE).rule == "year_code"
    assert encode_production_date(dt.date(2026, 3, 15)) == "63F"
    settings.BATTERY_CODE_DATE_TABLES = None
    assert parse_battery_code(BASE).production_date == dt.date(2026, 3, 15)


def test_encode_round_trips_every_day_of_2026():
    day, seen = dt.date(2026, 1, 1), set()
    while day.year == 2026:
        field = encode_production_date(day)
        assert len(field) == 3
        seen.add(field)
        assert parse_battery_code(code_on(field)).production_date == day, (day, field)
        day += dt.timedelta(days=1)
    assert len(seen) == 365


def test_encode_round_trips_first_and_last_day_of_every_table_year():
    for year in DEFAULT_YEARS.values():
        for day in (dt.date(year, 1, 1), dt.date(year, 12, 31)):
            assert parse_battery_code(code_on(encode_production_date(day))).production_date == day


def test_encode_round_trips_with_custom_tables():
    day = dt.date(2029, 1, 1)
    while day.year == 2029:
        field = encode_production_date(day, DECADE)
        assert parse_battery_code(code_on(field), tables=DECADE).production_date == day
        day += dt.timedelta(days=1)


# --- VINs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "JHMCM56557C404453", VIN, VIN2, VIN3])
def test_valid_vins(vin):
    assert vin_problem(vin) is None
    assert vin_check_digit(vin) == vin[8]


def test_weights_and_transliteration_are_the_standard_ones():
    assert len(TRANSLITERATION) == 33 and not {"I", "O", "Q"} & set(TRANSLITERATION)
    assert [TRANSLITERATION[c] for c in "ABCDEFGH"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [TRANSLITERATION[c] for c in "JKLMNPR"] == [1, 2, 3, 4, 5, 7, 9]
    assert [TRANSLITERATION[c] for c in "STUVWXYZ"] == [2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "JHMCM56557C404453", VIN])
def test_single_substitutions_are_caught_by_check_digit_or_alphabet(vin):
    total, missed = 0, set()
    for index in range(17):
        if index == 8:
            continue
        for char in ALPHANUMERIC:
            if char == vin[index]:
                continue
            total += 1
            problem = vin_problem(with_char(vin, index + 1, char))
            if char in "IOQ":
                assert problem == VinProblem("character", index + 1, char), (index + 1, char)
            elif problem is None:
                missed.add((index + 1, char))
            else:
                assert (problem.rule, problem.position) == ("check_digit", 9)
    # A mod-11 check digit misses exactly the substitutions that transliterate to the same value (A↔J↔1, …).
    same_value = {(i + 1, c) for i in range(17) if i != 8 for c in ALPHANUMERIC
                  if c != vin[i] and c in TRANSLITERATION and TRANSLITERATION[c] == TRANSLITERATION[vin[i]]}
    assert missed == same_value
    assert 1 - len(missed) / total > 0.9


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "JHMCM56557C404453", VIN])
def test_every_substitution_of_the_check_digit_itself_is_caught(vin):
    # Position 9 has weight 0 in the sum, so it is checked against the sum of the others.
    for char in ALPHANUMERIC:
        if char == vin[8]:
            continue
        problem = vin_problem(with_char(vin, 9, char))
        if char in "IOQ":
            assert problem == VinProblem("character", 9, char)
        else:
            assert problem == VinProblem("check_digit", 9, char, vin[8])


@pytest.mark.parametrize("char", ["I", "O", "Q"])
@pytest.mark.parametrize("position", [1, 4, 9, 12, 17])
def test_i_o_q_are_refused_with_position_even_without_check_digit(char, position):
    vin = with_char("1M8GDM9AXKP042788", position, char)
    assert vin_problem(vin) == VinProblem("character", position, char)
    assert vin_problem(vin, strict=False) == VinProblem("character", position, char)


@pytest.mark.parametrize("char", ["a", "-", " ", "Ａ", "车"])
def test_other_forbidden_characters(char):
    assert vin_problem(with_char(VIN, 3, char)) == VinProblem("character", 3, char)


@pytest.mark.parametrize("vin", ["", "1M8GDM9AXKP04278", "1M8GDM9AXKP0427880"])
def test_wrong_length(vin):
    assert vin_problem(vin) == VinProblem("length")
    assert vin_problem(vin, strict=False) == VinProblem("length")


def test_x_as_check_digit():
    assert vin_check_digit("1M8GDM9A0KP042788") == "X"
    assert vin_problem("1M8GDM9A0KP042788") == VinProblem("check_digit", 9, "0", "X")
    # 10 → X, never the digit string "10"
    for base in ("JHMCM56507C404453", "LSVAU2180N2183294"):
        assert len(vin_check_digit(base)) == 1


def test_non_strict_skips_only_the_check_digit():
    wrong = with_char(VIN, 9, "0")
    assert vin_problem(wrong).rule == "check_digit"
    assert vin_problem(wrong, strict=False) is None


# --- messages ---------------------------------------------------------------------------------------------


def message_for(code: str) -> str:
    with pytest.raises(BatteryCodeError) as err:
        parse_battery_code(code, today=dt.date(2026, 12, 31))
    return battery_code_message(code, err.value.problem)


@pytest.mark.parametrize("code, must_contain", [
    (with_char(BASE, 6, "a"), ["position 6", "'a'", "0-9"]),
    (with_char(BASE, 10, "电"), ["position 10", "'电'"]),
    (with_char(BASE, 4, "X"), ["position 4", "'X'", "P (pack)"]),
    (with_char(BASE, 5, "H"), ["position 5", "'H'", "battery type"]),
    (with_char(BASE, 15, "U"), ["position 15", "'U'", "year"]),
    (with_char(BASE, 16, "D"), ["position 16", "'D'", "month"]),
    (with_char(BASE, 17, "Z"), ["position 17", "'Z'", "day"]),
    (code_on(raw_date_field(2026, 2, 30)), ["2026-02-30 does not exist", "15-17"]),
    (code_on(raw_date_field(2027, 1, 1)), ["2027-01-01 is in the future"]),
    (code_on("T3F", "00B0042"), ["position 20", "'B'", "serial"]),
    (BASE[:23], ["23 characters", "24 characters"]),
])
def test_battery_code_messages_say_where_what_and_why(code, must_contain):
    with translation.override("en"):
        text = message_for(code)
    assert code in text and "GB/T 34014" in text
    for fragment in must_contain:
        assert fragment in text, (fragment, text)


def test_battery_code_messages_keep_the_facts_in_chinese():
    code = with_char(BASE, 4, "X")
    with translation.override("zh-hans"):
        text = message_for(code)
    assert "4" in text and "X" in text and code in text


def test_vin_messages():
    with translation.override("en"):
        check = vin_message("1M8GDM9A0KP042788", vin_problem("1M8GDM9A0KP042788"))
        char = vin_message("1M8GIM9AXKP042788", vin_problem("1M8GIM9AXKP042788"))
        length = vin_message("1M8GDM9AX", vin_problem("1M8GDM9AX"))
    assert "position 9" in check and "is 0" in check and "should be X" in check
    assert "position 5" in char and "'I'" in char and "I, O, Q" in char
    assert "9 characters" in length and "17" in length


# --- lifecycle rule tables --------------------------------------------------------------------------------

ALL_ROLES = {"battery_maker", "vehicle_maker", "swap_operator", "repairer", "collection_point", "dismantler", "recycler"}


def test_role_table():
    assert rules.OPERATION_ROLES == {
        "register": {"battery_maker"},
        "install": {"vehicle_maker", "swap_operator", "repairer"},
        "swap": {"swap_operator"},
        "replace": {"repairer"},
        "remove": {"dismantler"},
        "declare_waste": ALL_ROLES,
        "hand_over": ALL_ROLES,
        "recycle": {"recycler"},
        "remanufacture": {"recycler"},
    }


@pytest.mark.parametrize("operation", sorted(rules.OPERATION_ROLES))
def test_role_allows_exactly_the_table(operation):
    for role in ALL_ROLES:
        assert rules.role_allows(operation, [role]) is (role in rules.OPERATION_ROLES[operation])
        assert rules.role_allows(operation, ("collection_point", role)) is bool(
            {role, "collection_point"} & rules.OPERATION_ROLES[operation])
    assert rules.role_allows(operation, []) is False
    assert rules.role_allows(operation, None) is False
    assert rules.role_allows(operation, ["reviewer", "admin"]) is False


def test_electric_bicycles_are_always_banned(settings):
    settings.BANNED_FIELDS_OF_USE = []
    assert rules.banned_fields() == {"electric_bicycle"}
    refusal = rules.remanufacture_field_refusal("electric_bicycle")
    assert refusal.code == "field_of_use_banned" and "rule 2" in refusal.rule
    assert rules.remanufacture_field_refusal("energy_storage") is None


def test_the_setting_extends_the_banned_fields(settings):
    settings.BANNED_FIELDS_OF_USE = ["low_speed_vehicle"]
    assert rules.banned_fields() == {"electric_bicycle", "low_speed_vehicle"}
    assert rules.remanufacture_field_refusal("low_speed_vehicle").code == "field_of_use_banned"
    assert rules.remanufacture_field_refusal("electric_bicycle").code == "field_of_use_banned"
    assert rules.remanufacture_field_refusal("energy_storage") is None


@pytest.mark.parametrize("number", ["GB/T 36276-2018", "T/CAS 123-2024", "GB 38031-2020", "GB38031-2020",
                                    "  GB/T 36276-2018 ", "YD/T 2344.1-2011", "IEC 62619"])
def test_standard_numbers_accepted(number):
    assert rules.standard_number_ok(number)


@pytest.mark.parametrize("number", ["", "   ", None, "abc", "<script>", "GB/T", "GB/T 36276-2018<script>",
                                    "36276-2018", "GB/T 36276-18", "gb/t 36276-2018", "GB/T 36276-2018; DROP"])
def test_standard_numbers_refused(number):
    assert not rules.standard_number_ok(number)
