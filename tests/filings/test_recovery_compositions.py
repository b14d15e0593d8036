"""The composition table (ADR 0014) changed by administrators on its page: each fraction within 0–1 (four
decimals), together at most 1, a reason required; every change audited (who, when, old → new, why); reports
already saved keep their snapshot, reports saved afterwards use the new values. Reviewers and companies cannot
change it (403), visitors are sent to sign in."""
from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.errors import DomainError
from apps.filings import kind_selectors, recovery_services
from apps.filings.models import ChemistryComposition, ChemistryCompositionChange, Filing
from apps.filings.recovery_rules import fraction_problem, fractions_sum_problem
from tests.conftest import signed_in
from tests.filings.recovery_setup import (  # noqa: F401 — fixtures
    INPUTS,
    LOW_OUTPUTS,
    carol,
    last_month,
    recovery_draft,
    recycler_co,
)
from tests.web import assert_redirects_to_login, field_errors, page_text, redirect_path

pytestmark = pytest.mark.django_db

URL = "/filings/recovery-reports/compositions/"
EDIT = f"{URL}E/edit/"
TERNARY = {"ni": "0.08", "co": "0.02", "mn": "0.02", "li": "0.015", "cu": "0.07", "al": "0.16"}


def ternary() -> ChemistryComposition:
    return ChemistryComposition.objects.get(chemistry="E")


@pytest.mark.parametrize("value,expected", [
    ("0", (Decimal(0), None)), ("", (Decimal(0), None)), ("1", (Decimal(1), None)), ("0.0761", (Decimal("0.0761"), None)),
    ("-0.01", (None, "out_of_range")), ("1.01", (None, "out_of_range")), ("0.00001", (None, "too_precise")),
    ("abc", (None, "not_number")), ("NaN", (None, "not_number")), (True, (None, "not_number")),
])
def test_the_fraction_rule(value, expected):
    assert fraction_problem(value) == expected


def test_the_sum_rule():
    assert fractions_sum_problem({"ni": Decimal("0.5"), "al": Decimal("0.5")}) is None
    assert fractions_sum_problem({"ni": Decimal("0.5"), "al": Decimal("0.5001")}) == "sum_over_one"


def test_an_admin_changes_a_chemistry_and_the_change_is_audited(admin_user):
    before = ternary().fractions()
    recovery_services.chemistry_composition_set(actor=admin_user, chemistry="E", fractions=TERNARY,
                                                reason="NCM 811 更常见")
    row = ternary()
    assert (row.nickel, row.cobalt, row.lithium) == (Decimal("0.0800"), Decimal("0.0200"), Decimal("0.0150"))
    change = ChemistryCompositionChange.objects.get()
    assert (change.composition, change.actor, change.reason) == (row, admin_user, "NCM 811 更常见")
    assert change.old_fractions["ni"] == str(before["ni"]) and change.new_fractions["ni"] == "0.0800"
    assert [(b, a) for _m, b, a in change.differences()] == [("0.0760", "0.0800"), ("0.0260", "0.0200"),
                                                             ("0.0240", "0.0200")]  # Ni, Co, Mn changed
    assert change.created_at is not None
    # the same values again record nothing
    recovery_services.chemistry_composition_set(actor=admin_user, chemistry="E", fractions=TERNARY, reason="again")
    assert ChemistryCompositionChange.objects.count() == 1


@pytest.mark.parametrize("fractions,field", [
    ({**TERNARY, "ni": "1.5"}, "ni"),
    ({**TERNARY, "co": "-0.1"}, "co"),
    ({**TERNARY, "li": "0.12345"}, "li"),
    ({**TERNARY, "al": "很多"}, "al"),
    ({**TERNARY, "al": "0.9"}, "__all__"),  # the metals would outweigh the pack
    ({**TERNARY, "zn": "0.1"}, "zn"),
])
def test_bad_fractions_are_refused_on_their_field_and_change_nothing(admin_user, fractions, field):
    before = ternary().fractions()
    with pytest.raises(DomainError) as err:
        recovery_services.chemistry_composition_set(actor=admin_user, chemistry="E", fractions=fractions,
                                                    reason="x")
    assert (err.value.code, err.value.field) == ("composition_invalid", field)
    assert ternary().fractions() == before and not ChemistryCompositionChange.objects.exists()


def test_a_reason_is_required_and_only_admins_change_the_table(admin_user, reviewer, carol):
    with pytest.raises(DomainError) as err:
        recovery_services.chemistry_composition_set(actor=admin_user, chemistry="E", fractions=TERNARY, reason=" ")
    assert err.value.code == "reason_required"
    for actor in (reviewer, carol):
        with pytest.raises(DomainError) as err:
            recovery_services.chemistry_composition_set(actor=actor, chemistry="E", fractions=TERNARY, reason="x")
        assert err.value.status == 403
    assert ternary().nickel == Decimal("0.0760") and not ChemistryCompositionChange.objects.exists()


def test_reports_already_saved_keep_their_snapshot_and_later_ones_use_the_new_values(admin_user, carol,
                                                                                     recovery_draft):
    recovery_services.chemistry_composition_set(actor=admin_user, chemistry="E", fractions=TERNARY, reason="新数据")
    kept = {r.metal: r for r in kind_selectors.recovery_assessment(Filing.objects.get(pk=recovery_draft.pk))}
    assert kept["ni"].expected == Decimal("76")  # 1000 kg × 0.076, as saved
    assert Filing.objects.get(pk=recovery_draft.pk).recovery_report.fractions["E"]["ni"] == "0.0760"
    # saving the draft again (an edit) takes the table as it is then
    recovery_services.recovery_report_update(actor=carol, filing_id=recovery_draft.pk, inputs=INPUTS,
                                             outputs=LOW_OUTPUTS)
    now = {r.metal: r for r in kind_selectors.recovery_assessment(Filing.objects.get(pk=recovery_draft.pk))}
    assert now["ni"].expected == Decimal("80")


# --- the pages ------------------------------------------------------------------------------------------------------


def test_an_admin_edits_a_chemistry_on_its_page(admin_user):
    client = signed_in(admin_user)
    table = client.get(URL)
    assert EDIT in table.content.decode()
    form = client.get(EDIT)
    assert form.status_code == 200 and form.context["form"].initial["ni"] == "0.076"
    response = client.post(EDIT, {**TERNARY, "reason": "新数据"})
    assert redirect_path(response) == URL
    assert ternary().nickel == Decimal("0.08")
    history = page_text(client.get("/en" + URL))
    assert "0.0760 → 0.0800" in history and "新数据" in history and admin_user.username in history


def test_a_bad_fraction_is_shown_on_its_field(admin_user):
    client = signed_in(admin_user)
    response = client.post("/en" + EDIT, {**TERNARY, "co": "2", "reason": "x"})
    assert response.status_code == 200
    assert any("from 0 to 1" in e for e in field_errors(response, "co"))
    response = client.post("/en" + EDIT, {**TERNARY, "al": "0.9", "reason": "x"})
    assert "cannot weigh more than the pack" in page_text(response)
    response = client.post("/en" + EDIT, TERNARY)
    assert field_errors(response, "reason")
    assert ternary().nickel == Decimal("0.0760")


def test_reviewers_companies_and_visitors_cannot_edit(reviewer, carol, anon):
    for user in (reviewer, carol):
        client = signed_in(user)
        assert client.get(EDIT).status_code == 403
        assert client.post(EDIT, {**TERNARY, "reason": "x"}).status_code == 403
        assert EDIT not in client.get(URL).content.decode()  # no edit link, no history
    assert_redirects_to_login(anon.get(EDIT))
    assert_redirects_to_login(anon.post(EDIT, {**TERNARY, "reason": "x"}))
    assert ternary().nickel == Decimal("0.0760") and not ChemistryCompositionChange.objects.exists()


def test_an_unknown_chemistry_is_not_found(admin_user):
    assert signed_in(admin_user).get(f"{URL}X/edit/").status_code == 404


def test_the_table_page_with_its_history_takes_a_fixed_number_of_queries(admin_user, django_assert_max_num_queries):
    for i in range(5):
        recovery_services.chemistry_composition_set(actor=admin_user, chemistry="E",
                                                    fractions={**TERNARY, "cu": f"0.0{i + 1}"}, reason=f"r{i}")
    client = signed_in(admin_user)
    client.get(URL)
    with django_assert_max_num_queries(12):
        assert client.get(URL).status_code == 200
