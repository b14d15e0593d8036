"""The recovery report and explanation pages as people use them: a recycler files a report below threshold and a
reviewer returns it; an enterprise explains its discrepancy and a dismantler its blocked intake; outsiders get a
404 exactly like a made-up number."""
from __future__ import annotations

import pytest

from apps.filings import explanation_services, services
from apps.filings.models import Filing
from apps.reconciliation.models import Discrepancy
from tests.conftest import signed_in
from tests.filings.explanation_setup import (  # noqa: F401 — fixtures
    alice_discrepancy,
    blocked_intake,
    bob_discrepancy,
    carmaker,
    dismantler,
    maker,
    maker_co,
    nev,
)
from tests.filings.recovery_setup import (  # noqa: F401 — fixtures
    GOOD_OUTPUTS,
    INPUTS,
    LOW_OUTPUTS,
    carol,
    last_month,
    recovery_draft,
    recycler_co,
)
from tests.web import page_text

pytestmark = pytest.mark.django_db


def recovery_form(month=None, inputs=INPUTS, outputs=LOW_OUTPUTS) -> dict:
    data = {f"input_{code}": value for code, value in inputs.items()}
    data.update({f"output_{code}": value for code, value in outputs.items()})
    if month:
        data["month"] = month
    return data


def test_a_recycler_files_below_threshold_and_a_reviewer_returns_it(carol, reviewer):
    client = signed_in(carol)
    assert "/filings/recovery-reports/new/" in client.get("/filings/").content.decode()
    response = client.post("/filings/recovery-reports/new/", recovery_form(last_month().strftime("%Y-%m")))
    filing = Filing.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/filings/{filing.pk}/")
    detail = client.get(f"/filings/{filing.pk}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "97.37 %" in html and "filing-differs" in html  # nickel 74 of 76 kg, highlighted
    assert client.post(f"/filings/{filing.pk}/submit/").status_code == 302

    rita = signed_in(reviewer)
    rita.post(f"/review/filings/{filing.pk}/claim/")
    review = rita.get(f"/review/filings/{filing.pk}/")
    assert review.status_code == 200
    assert "97.37 %" in review.content.decode()
    rita.post(f"/review/filings/{filing.pk}/", {"decision": "return", "comment": "镍回收率不足98%", "confirm": "on"})
    assert Filing.objects.get().status == "returned"

    edit = client.post(f"/filings/{filing.pk}/recovery-report/edit/", recovery_form(outputs=GOOD_OUTPUTS))
    assert edit.status_code == 302
    assert Filing.objects.get().flags == []
    client.post(f"/filings/{filing.pk}/resubmit/", {"comment": "已更正"})
    rita.post(f"/review/filings/{filing.pk}/claim/")
    rita.post(f"/review/filings/{filing.pk}/", {"decision": "approve", "comment": "", "confirm": "on"})
    assert Filing.objects.get().status == "approved"


@pytest.mark.parametrize("overrides,field", [
    ({"output_ni": "-1"}, "output_ni"), ({"input_E": "一千"}, "input_E"), ({"output_co": "1.23456"}, "output_co"),
])
def test_bad_weights_are_shown_on_their_field_and_nothing_is_saved(carol, overrides, field):
    response = signed_in(carol).post("/filings/recovery-reports/new/",
                                     {**recovery_form(last_month().strftime("%Y-%m")), **overrides})
    assert response.status_code == 200 and response.context["form"].errors[field]
    assert not Filing.objects.exists()


def test_outputs_without_inputs_are_refused_on_the_form(carol):
    response = signed_in(carol).post("/filings/recovery-reports/new/", recovery_form(
        last_month().strftime("%Y-%m"), inputs={}, outputs={"li": "3"}))
    assert response.status_code == 200 and response.context["form"].errors["output_li"]
    assert not Filing.objects.exists()


def test_the_composition_table_is_shown_read_only(carol):
    page = page_text(signed_in(carol).get("/filings/recovery-reports/compositions/"))
    assert "7.60 %" in page and "1.50 %" in page


def test_outsiders_get_404_on_a_recovery_report(bob, reviewer_gd, recovery_draft):
    pk = recovery_draft.pk
    assert signed_in(bob).get(f"/filings/{pk}/").status_code == 404
    assert signed_in(bob).post(f"/filings/{pk}/recovery-report/edit/", recovery_form()).status_code == 404
    services.filing_submit(actor=recovery_draft.enterprise.memberships.first().user, filing_id=pk)
    assert signed_in(reviewer_gd).get(f"/review/filings/{pk}/").status_code == 404
    assert signed_in(bob).get("/filings/999999/recovery-report/edit/").status_code == 404


def test_a_monthly_report_has_no_recovery_edit_page(alice):
    from tests.filings.conftest import COUNTS

    monthly = services.monthly_report_create(actor=alice, month=last_month(), counts=COUNTS)
    assert signed_in(alice).get(f"/filings/{monthly.pk}/recovery-report/edit/").status_code == 404
    assert signed_in(alice).get(f"/filings/{monthly.pk}/explanation/edit/").status_code == 404


# --- explanations ----------------------------------------------------------------------------------------------


def test_an_enterprise_explains_its_discrepancy_from_the_discrepancy_page(alice, reviewer, alice_discrepancy):
    client = signed_in(alice)
    page = client.get(f"/discrepancies/{alice_discrepancy.pk}/").content.decode()
    url = f"/filings/explanations/new/discrepancy/{alice_discrepancy.pk}/"
    assert url in page
    assert client.get(url).status_code == 200
    response = client.post(url, {"text": "扫码枪故障，已补录两包"})
    filing = Filing.objects.get(kind="explanation")
    assert response["Location"].endswith(f"/filings/{filing.pk}/")
    assert "扫码枪故障" in client.get(f"/filings/{filing.pk}/").content.decode()
    client.post(f"/filings/{filing.pk}/submit/")
    assert Discrepancy.objects.get().status == "explained"
    assert f"/filings/{filing.pk}/" in client.get(f"/discrepancies/{alice_discrepancy.pk}/").content.decode()

    rita = signed_in(reviewer)
    rita.post(f"/review/filings/{filing.pk}/claim/")
    review = rita.get(f"/review/filings/{filing.pk}/").content.decode()
    assert "扫码枪故障" in review and "0PAPE01ABCDEFGT3F0000001" in review  # the text beside the codes
    rita.post(f"/review/filings/{filing.pk}/", {"decision": "approve", "comment": "", "confirm": "on"})
    assert Discrepancy.objects.get().status == "resolved"


def test_an_empty_explanation_is_refused_on_the_form(alice, alice_discrepancy):
    response = signed_in(alice).post(f"/filings/explanations/new/discrepancy/{alice_discrepancy.pk}/",
                                     {"text": "   "})
    assert response.status_code == 200 and response.context["form"].errors["text"]
    assert not Filing.objects.exists()


def test_explaining_another_enterprises_discrepancy_or_intake_is_404(alice, bob, bob_discrepancy, blocked_intake):
    for url in (f"/filings/explanations/new/discrepancy/{bob_discrepancy.pk}/",
                f"/filings/explanations/new/intake/{blocked_intake.pk}/"):
        assert signed_in(alice).get(url).status_code == 404
        assert signed_in(alice).post(url, {"text": "x"}).status_code == 404
    assert not Filing.objects.exists()


def test_a_dismantler_explains_a_blocked_intake_from_its_page(dismantler, reviewer, blocked_intake):
    client = signed_in(dismantler)
    url = f"/filings/explanations/new/intake/{blocked_intake.pk}/"
    assert url in client.get(f"/scrapping/intakes/{blocked_intake.pk}/").content.decode()
    client.post(url, {"text": "车辆进厂时电池包已被拆除"})
    filing = Filing.objects.get(kind="explanation")
    client.post(f"/filings/{filing.pk}/submit/")
    rita = signed_in(reviewer)
    rita.post(f"/review/filings/{filing.pk}/claim/")
    review = rita.get(f"/review/filings/{filing.pk}/").content.decode()
    assert blocked_intake.vin in review and "车辆进厂时电池包已被拆除" in review
    rita.post(f"/review/filings/{filing.pk}/", {"decision": "return", "comment": "请附报警回执", "confirm": "on"})
    client.post(f"/filings/{filing.pk}/explanation/edit/", {"text": "已附报警回执"})
    client.post(f"/filings/{filing.pk}/resubmit/", {"comment": ""})
    rita.post(f"/review/filings/{filing.pk}/claim/")
    rita.post(f"/review/filings/{filing.pk}/", {"decision": "approve", "comment": "", "confirm": "on"})
    assert Filing.objects.get().status == "approved"


def test_outsiders_get_404_on_an_explanation(alice, bob, alice_discrepancy):
    filing = explanation_services.explanation_create(actor=alice, discrepancy_id=alice_discrepancy.pk, text="x1")
    assert signed_in(bob).get(f"/filings/{filing.pk}/").status_code == 404
    assert signed_in(bob).post(f"/filings/{filing.pk}/explanation/edit/", {"text": "y"}).status_code == 404
