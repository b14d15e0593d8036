"""Pure identifier rules, no database."""
import pytest

from apps.enterprises.rules import (
    USCC_ALPHABET,
    date_ranges_overlap,
    manufacturer_code_problem,
    normalise_uscc,
    uscc_expected_check_character,
    uscc_problem,
)


@pytest.mark.parametrize("code", ["91350200776049653A", "91440101MA5CJQ4N59"])
def test_domain_examples_are_valid(code):
    assert uscc_problem(code) is None


def test_wrong_check_character_names_the_expected_one():
    problem = uscc_problem("91350200776049653B")
    assert (problem.position, problem.character, problem.rule, problem.expected) == (18, "B", "check_character", "A")


@pytest.mark.parametrize("bad_char", list("IOSVZ") + ["a", "-", " ", "中"])
def test_characters_outside_the_alphabet_are_refused_with_their_position(bad_char):
    code = "9135020077" + bad_char + "049653A"
    problem = uscc_problem(code)
    assert problem.rule == "alphabet"
    assert problem.position == 11
    assert problem.character == bad_char


@pytest.mark.parametrize("code", ["", "9135020077604965", "91350200776049653A0"])
def test_wrong_length(code):
    assert uscc_problem(code).rule == "length"


def test_check_character_31_maps_to_zero():
    # Find a 17-character body whose weighted sum is ≡ 0 (mod 31): the check is then '0', not index 31.
    body = "0" * 17
    assert uscc_expected_check_character(body) == "0"


def test_every_single_character_typo_in_the_body_is_caught():
    code = "91440101MA5CJQ4N59"
    for pos in range(17):
        for char in USCC_ALPHABET:
            if char == code[pos]:
                continue
            typo = code[:pos] + char + code[pos + 1:]
            assert uscc_problem(typo) is not None, typo


def test_normalise_strips_spaces_and_upper_cases():
    assert normalise_uscc(" 9144 0101ma5cjq4n59 ") == "91440101MA5CJQ4N59"


@pytest.mark.parametrize("code,rule,pos", [("AB", "length", None), ("ab1", "alphabet", 1), ("A-1", "alphabet", 2)])
def test_manufacturer_code_shape(code, rule, pos):
    problem = manufacturer_code_problem(code)
    assert problem.rule == rule and problem.position == pos


def test_manufacturer_code_valid():
    assert manufacturer_code_problem("0PA") is None


def test_date_ranges_overlap_is_inclusive():
    from datetime import date

    assert date_ranges_overlap(date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30), date(2026, 12, 31))
    assert not date_ranges_overlap(date(2026, 1, 1), date(2026, 6, 29), date(2026, 6, 30), date(2026, 12, 31))
