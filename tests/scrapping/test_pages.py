"""The scrapping pages, tried as a dismantler and a reviewer would: take a car in with and without its battery and
see why the second is refused, a mismatch decided by a reviewer, the swap-model exemption, a conventional car,
issuing with a confirmation, voiding and re-issue, the lists with their deadlines and counts; every refusal shown on
the form with nothing saved; outsiders; bounded queries."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.batteries.models import Battery, Vehicle
from apps.batteries.vin import vin_check_digit
from apps.scrapping import services
from apps.scrapping.models import IntakeBattery, ScrappingCertificate, ScrappingIntake
from tests.batteries.flows import installed
from tests.conftest import signed_in
from tests.factories import pdf_upload
from tests.scrapping.conftest import CONVENTIONAL_VIN, OWNER_ID, VIN, VIN2, image_upload, take_in
from tests.web import assert_redirects_to_login, page_text, redirect_path

pytestmark = pytest.mark.django_db

NEW = "/scrapping/intakes/new/"
INTAKES = "/scrapping/intakes/"
CERTIFICATES = "/scrapping/certificates/"
LEADS = "/scrapping/leads/"


def form_data(vin=VIN, codes="", **overrides) -> dict:
    data = {
        "vin": vin, "vehicle_kind": "nev", "plate_number": "鄂A12345", "engine_number": "TZ220XS0001",
        "owner_id_kind": "resident_id", "owner_id_number": OWNER_ID, "declared_not_mortgaged": "on",
        "declared_not_stolen": "on", "battery_codes": codes, "photo_front": image_upload(),
        "photo_vin": image_upload("png"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def intake_url(intake) -> str:
    return f"{INTAKES}{intake.pk}/"


def certificate_url(certificate) -> str:
    return f"{CERTIFICATES}{certificate.pk}/"


def issue(dismantler, intake, number="ZB-2026-000001"):
    return services.scrapping_certificate_issue(actor=dismantler, intake_id=intake.pk, number=number)


def conventional_vin(i: int) -> str:
    body = f"LFV2A21K0G{i:07d}"
    return body[:8] + vin_check_digit(body) + body[9:]


# --- a dismantler takes cars in ------------------------------------------------------------------------------------


def test_a_car_with_its_battery_is_taken_in_and_certified(dismantler, nev):
    client = signed_in(dismantler)
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, form_data(codes=f"{nev}\n"))
    intake = ScrappingIntake.objects.get()
    assert redirect_path(response) == intake_url(intake)

    page = client.get(intake_url(intake))
    text = page_text(page)
    assert "issue_form" in page.context and intake.owner_id_masked in text
    assert OWNER_ID not in text
    assert nev in text

    # Issuing asks for a confirmation first: without it nothing happens.
    refused = client.post(f"{intake_url(intake)}issue/", {"number": "ZB-2026-000001"})
    assert refused.status_code == 200 and refused.context["issue_form"].errors["confirm"]
    assert not ScrappingCertificate.objects.exists()

    done = client.post(f"{intake_url(intake)}issue/", {"number": "ZB-2026-000001", "confirm": "on"})
    certificate = ScrappingCertificate.objects.get()
    assert redirect_path(done) == certificate_url(certificate)
    shown = page_text(client.get(certificate_url(certificate)))
    assert "ZB-2026-000001" in shown and certificate.handover_deadline.isoformat() in shown
    assert Vehicle.objects.get(vin=VIN).status == "scrapped"


def test_a_car_without_its_battery_is_refused_and_the_page_says_why(dismantler, nev):
    client = signed_in(dismantler)
    response = client.post(NEW, form_data(codes=""), follow=True)
    text = page_text(response)
    assert "电池缺失视为车辆缺失" in text
    intake = ScrappingIntake.objects.get()
    assert intake.status == "blocked"
    assert "issue_form" not in response.context
    # Posting the issue form anyway is refused with the reason, and nothing changes.
    refused = client.post(f"{intake_url(intake)}issue/", {"number": "ZB-2026-000001", "confirm": "on"}, follow=True)
    assert "电池缺失视为车辆缺失" in page_text(refused)
    assert not ScrappingCertificate.objects.exists()
    assert Battery.objects.get(code=nev).status == "installed"


def test_the_pages_are_chinese_and_english(dismantler, nev):
    client = signed_in(dismantler)
    zh = page_text(client.get(NEW))
    assert "报废" in zh and "车电一体报废" in zh
    en = page_text(client.get(f"/en{NEW}"))
    assert "Take in a scrapped vehicle" in en


@pytest.mark.parametrize("overrides,field", [
    ({"vin": "LSVAU218XN218329I"}, "vin"),
    ({"declared_not_mortgaged": None}, "declared_not_mortgaged"),
    ({"declared_not_stolen": None}, "declared_not_stolen"),
    ({"owner_id_number": "440301199003071512"}, "owner_id_number"),
    ({"photo_front": None}, "photo_front"),
])
def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(dismantler, nev, overrides, field):
    response = signed_in(dismantler).post(NEW, form_data(codes=nev, **overrides))
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert OWNER_ID not in str(response.context["form"].errors)
    assert ScrappingIntake.objects.count() == 0


def test_the_same_battery_twice_is_shown_on_the_codes(dismantler, nev):
    response = signed_in(dismantler).post(NEW, form_data(codes=f"{nev}\n{nev.lower()}"))
    errors = response.context["form"].errors["battery_codes"]
    assert nev in errors[0]
    assert ScrappingIntake.objects.count() == 0 and IntakeBattery.objects.count() == 0


def test_an_unknown_vin_is_shown_on_the_vin(dismantler):
    response = signed_in(dismantler).post(NEW, form_data(vin=VIN2))
    assert response.context["form"].errors["vin"]
    assert ScrappingIntake.objects.count() == 0


def test_a_vin_taken_in_by_another_dismantler_is_refused(dismantler, dismantler2, nev):
    take_in(dismantler, VIN, [nev])
    response = signed_in(dismantler2).post(NEW, form_data(codes=nev))
    assert response.context["form"].errors["vin"]
    assert ScrappingIntake.objects.count() == 1


def test_a_photo_attached_later_allows_the_certificate(dismantler, nev):
    intake = take_in(dismantler, VIN, [nev], photo_vin=None)
    client = signed_in(dismantler)
    page = client.get(intake_url(intake))
    assert "photo_form" in page.context
    response = client.post(f"{intake_url(intake)}photos/", {"kind": "vin", "file": image_upload("png")})
    assert redirect_path(response) == intake_url(intake)
    intake.refresh_from_db()
    assert intake.photo_vin.name.endswith(".png")
    bad = client.post(f"{intake_url(intake)}photos/", {"kind": "front", "file": image_upload(name="x.pdf")})
    assert redirect_path(bad) == intake_url(intake)  # a JPEG under any name is a JPEG
    not_image = client.post(f"{intake_url(intake)}photos/",
                            {"kind": "front", "file": pdf_upload()})
    assert not_image.status_code == 200 and not_image.context["photo_form"].errors["file"]


def test_photos_are_served_only_to_who_may_see_the_intake(dismantler, dismantler2, nev, reviewer_hb, reviewer_gd):
    intake = take_in(dismantler, VIN, [nev])
    url = f"{intake_url(intake)}photos/front/"
    response = signed_in(dismantler).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    assert signed_in(reviewer_hb).get(url).status_code == 200
    assert signed_in(dismantler2).get(url).status_code == 404
    assert signed_in(reviewer_gd).get(url).status_code == 404
    assert signed_in(dismantler).get(f"{intake_url(intake)}photos/other/").status_code == 404


def test_withdrawing_frees_the_vin(dismantler, nev):
    intake = take_in(dismantler, VIN, [nev])
    client = signed_in(dismantler)
    assert redirect_path(client.post(f"{intake_url(intake)}withdraw/")) == intake_url(intake)
    intake.refresh_from_db()
    assert intake.status == "withdrawn"
    assert client.post(NEW, form_data(codes=nev)).status_code == 302


# --- mismatch and the reviewer -----------------------------------------------------------------------------------------


def test_a_mismatch_is_explained_decided_by_a_reviewer_and_certified(dismantler, nev, spare, reviewer_hb, repairer):
    client = signed_in(dismantler)
    response = client.post(NEW, form_data(codes=spare), follow=True)
    intake = ScrappingIntake.objects.get()
    assert intake.status == "awaiting_decision"
    assert "explanation_form" in response.context and "issue_form" not in response.context
    assert repairer.enterprise.name not in page_text(response)  # the dismantler does not see others' holdings
    client.post(f"{intake_url(intake)}explanation/", {"explanation": "车主称在维修店更换过电池"})

    reviewer = signed_in(reviewer_hb)
    page = reviewer.get(intake_url(intake))
    text = page_text(page)
    assert "车主称在维修店更换过电池" in text
    assert repairer.enterprise.name in text  # the lead: the spare's holder, whose report is missing
    assert "decision_form" in page.context
    empty = reviewer.post(f"{intake_url(intake)}decision/", {"decision": "approved", "reason": ""})
    assert empty.status_code == 200 and empty.context["decision_form"].errors["reason"]
    decided = reviewer.post(f"{intake_url(intake)}decision/", {"decision": "approved", "reason": "维修记录已核实"})
    assert redirect_path(decided) == intake_url(intake)
    intake.refresh_from_db()
    assert intake.status == "ready"
    client.post(f"{intake_url(intake)}issue/", {"number": "ZB-2026-000007", "confirm": "on"})
    assert ScrappingCertificate.objects.get().number == "ZB-2026-000007"


def test_a_reviewer_outside_the_province_cannot_see_or_decide(dismantler, nev, spare, reviewer_gd):
    intake = take_in(dismantler, VIN, [spare])
    client = signed_in(reviewer_gd)
    assert client.get(intake_url(intake)).status_code == 404
    assert client.post(f"{intake_url(intake)}decision/", {"decision": "approved", "reason": "x"}).status_code == 404
    intake.refresh_from_db()
    assert intake.status == "awaiting_decision"


def test_the_reviewers_lead_list_counts_by_province_and_dismantler(dismantler, dismantler2, maker, carmaker, nev,
                                                                  spare, reviewer, reviewer_hb):
    take_in(dismantler, VIN, [])  # blocked
    other = installed(maker, carmaker, VIN2)
    take_in(dismantler2, VIN2, [spare])  # mismatch, in Guangdong
    client = signed_in(reviewer)  # one session: a 2FA code is accepted only once
    response = client.get(LEADS)
    counts = response.context["counts"]
    assert counts["totals"] == {"blocked": 1, "mismatched": 1}
    assert {r["dismantler__province"]: (r["blocked"], r["mismatched"]) for r in counts["by_province"]} == {
        "42": (1, 0), "44": (0, 1)}
    assert len(response.context["page"].object_list) == 2
    only_gd = client.get(LEADS, {"province": "44"})
    assert [i.vin for i in only_gd.context["page"].object_list] == [VIN2]
    by_dismantler = client.get(LEADS, {"dismantler": dismantler.enterprise.pk})
    assert [i.vin for i in by_dismantler.context["page"].object_list] == [VIN]
    hubei = signed_in(reviewer_hb).get(LEADS)
    assert hubei.context["counts"]["totals"] == {"blocked": 1, "mismatched": 0}
    assert other not in page_text(hubei)


def test_the_lead_list_has_an_empty_state(reviewer):
    response = signed_in(reviewer).get(LEADS)
    assert response.status_code == 200 and "empty" in response.content.decode()


# --- exemption, conventional cars --------------------------------------------------------------------------------------


def test_a_swap_model_is_certified_with_the_exemption_on_it(dismantler, swap_nev):
    client = signed_in(dismantler)
    client.post(NEW, form_data(vin=VIN2))
    intake = ScrappingIntake.objects.get()
    assert intake.outcome == "swap_exempt"
    client.post(f"{intake_url(intake)}issue/", {"number": "ZB-SWAP-0001", "confirm": "on"})
    certificate = ScrappingCertificate.objects.get()
    assert certificate.swap_exemption
    assert "换电车型" in page_text(client.get(certificate_url(certificate)))


def test_a_conventional_car_needs_no_battery(dismantler):
    client = signed_in(dismantler)
    response = client.post(NEW, form_data(vin=CONVENTIONAL_VIN, vehicle_kind="other"))
    intake = ScrappingIntake.objects.get()
    assert redirect_path(response) == intake_url(intake)
    assert intake.outcome == "not_nev"
    client.post(f"{intake_url(intake)}issue/", {"number": "ZB-ICE-0001", "confirm": "on"})
    assert ScrappingCertificate.objects.get().vehicle is None


# --- voiding, re-issue, the public page -----------------------------------------------------------------------------


@pytest.fixture
def certificate(dismantler, nev):
    return issue(dismantler, take_in(dismantler, VIN, [nev]))


def test_a_reviewer_voids_with_a_confirmation_and_the_public_page_says_voided(certificate, reviewer_hb, anon):
    client = signed_in(reviewer_hb)
    page = client.get(certificate_url(certificate))
    assert "void_form" in page.context
    unconfirmed = client.post(f"{certificate_url(certificate)}void/", {"reason": "车辆被报盗抢"})
    assert unconfirmed.context["void_form"].errors["confirm"]
    certificate.refresh_from_db()
    assert certificate.status == "valid"
    done = client.post(f"{certificate_url(certificate)}void/", {"reason": "车辆被报盗抢", "confirm": "on"})
    assert redirect_path(done) == certificate_url(certificate)
    certificate.refresh_from_db()
    assert certificate.status == "voided"
    history = page_text(client.get(certificate_url(certificate)))
    assert "车辆被报盗抢" in history

    from apps.scrapping.verification import verification_path

    public = anon.get(verification_path(certificate.pk))
    assert public.status_code == 200 and public.context["state"] == "voided"


def test_a_reviewer_reissues_under_a_new_number(certificate, reviewer_hb):
    client = signed_in(reviewer_hb)
    response = client.post(f"{certificate_url(certificate)}reissue/",
                           {"number": "ZB-2026-000002", "reason": "证明遗失", "confirm": "on"})
    new = ScrappingCertificate.objects.get(number="ZB-2026-000002")
    assert redirect_path(response) == certificate_url(new)
    assert new.replaces == certificate
    text = page_text(client.get(certificate_url(certificate)))
    assert "ZB-2026-000002" in text  # the old page points to its re-issue
    taken = client.post(f"{certificate_url(new)}reissue/",
                        {"number": "ZB-2026-000002", "reason": "x", "confirm": "on"})
    assert taken.context["reissue_form"].errors["number"]


def test_the_dismantler_cannot_void_or_reissue(certificate, dismantler):
    client = signed_in(dismantler)
    page = client.get(certificate_url(certificate))
    assert "void_form" not in page.context and "reissue_form" not in page.context
    assert client.post(f"{certificate_url(certificate)}void/", {"reason": "x", "confirm": "on"}).status_code == 403
    assert client.post(f"{certificate_url(certificate)}reissue/",
                       {"number": "ZB-X-0001", "reason": "x", "confirm": "on"}).status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == "valid"


# --- lists ---------------------------------------------------------------------------------------------------------------


def test_the_dismantler_lists_only_its_own_intakes_and_searches_them(dismantler, dismantler2, nev):
    mine = take_in(dismantler, VIN, [nev])
    theirs = take_in(dismantler2, CONVENTIONAL_VIN, [], is_nev=False)
    response = signed_in(dismantler).get(INTAKES)
    assert [i.pk for i in response.context["page"].object_list] == [mine.pk]
    assert theirs.vin not in page_text(response)
    assert signed_in(dismantler).get(INTAKES, {"q": VIN[:8].lower()}).context["page"].object_list[0] == mine
    empty = signed_in(dismantler).get(INTAKES, {"q": "LZZZ"})
    assert not empty.context["page"].object_list and "empty" in empty.content.decode()


def test_the_certificate_list_highlights_overdue_handovers(certificate, dismantler):
    ScrappingCertificate.objects.filter(pk=certificate.pk).update(
        handover_deadline=timezone.localdate() - dt.timedelta(days=1))
    response = signed_in(dismantler).get(CERTIFICATES)
    assert response.context["rows"][0][1] == "overdue"
    assert "row-overdue" in response.content.decode()
    assert signed_in(dismantler).get(CERTIFICATES, {"deadline": "overdue"}).context["rows"][0][0] == certificate
    assert not signed_in(dismantler).get(CERTIFICATES, {"status": "voided"}).context["rows"]


def test_empty_lists_say_what_to_do(dismantler):
    client = signed_in(dismantler)
    assert "empty" in client.get(INTAKES).content.decode()
    assert "empty" in client.get(CERTIFICATES).content.decode()


def _bulk_intakes(dismantler, start: int, n: int):
    for i in range(start, start + n):
        intake = take_in(dismantler, conventional_vin(i), [], is_nev=False, photo_front=None, photo_vin=None)
        if i % 2:
            ScrappingIntake.objects.filter(pk=intake.pk).update(status="blocked", outcome="not_nev")


def _queries(client, path) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path,who", [(INTAKES, "dismantler"), (INTAKES, "reviewer"), (LEADS, "reviewer")])
def test_intake_lists_run_a_fixed_number_of_queries(request, dismantler, path, who):
    client = signed_in(request.getfixturevalue(who))
    _bulk_intakes(dismantler, 1, 3)
    few = _queries(client, path)
    _bulk_intakes(dismantler, 100, 27)
    many = _queries(client, path)
    assert few == many, (few, many)
    assert many <= 14


@pytest.mark.parametrize("who", ["dismantler", "reviewer"])
def test_the_certificate_list_runs_a_fixed_number_of_queries(request, dismantler, who):
    client = signed_in(request.getfixturevalue(who))

    def add(start, n):
        for i in range(start, start + n):
            intake = take_in(dismantler, conventional_vin(i), [], is_nev=False)
            issue(dismantler, intake, number=f"ZB-Q-{i:06d}")

    add(1, 3)
    few = _queries(client, CERTIFICATES)
    add(100, 27)
    many = _queries(client, CERTIFICATES)
    assert few == many, (few, many)
    assert many <= 14


# --- outsiders ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def objects(dismantler, nev, spare):
    certificate = issue(dismantler, take_in(dismantler, VIN, [nev]))
    return {"intake": certificate.intake_id, "certificate": certificate.pk}


OBJECT_PAGES = [
    ("get", "/scrapping/intakes/{intake}/"),
    ("get", "/scrapping/intakes/{intake}/photos/front/"),
    ("post", "/scrapping/intakes/{intake}/issue/"),
    ("post", "/scrapping/intakes/{intake}/photos/"),
    ("post", "/scrapping/intakes/{intake}/explanation/"),
    ("post", "/scrapping/intakes/{intake}/withdraw/"),
    ("get", "/scrapping/certificates/{certificate}/"),
    ("get", "/scrapping/certificates/{certificate}/certificate.pdf"),
]
COMPANY_PAGES = [("get", INTAKES), ("get", NEW), ("post", NEW), ("get", CERTIFICATES)]
REGULATOR_ONLY = [("get", LEADS), ("post", "/scrapping/intakes/{intake}/decision/"),
                  ("post", "/scrapping/certificates/{certificate}/void/"),
                  ("post", "/scrapping/certificates/{certificate}/reissue/")]
ALL_PAGES = OBJECT_PAGES + COMPANY_PAGES + REGULATOR_ONLY


def _call(client, method, path):
    return getattr(client, method)(path)


@pytest.mark.parametrize("method,path", ALL_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(objects, anon, method, path):
    assert_redirects_to_login(_call(anon, method, path.format(**objects)))


@pytest.mark.parametrize("method,path", OBJECT_PAGES)
def test_another_dismantler_gets_404(objects, dismantler2, method, path):
    assert _call(signed_in(dismantler2), method, path.format(**objects)).status_code == 404


@pytest.mark.parametrize("method,path", [p for p in OBJECT_PAGES if p[0] == "get"])
def test_a_reviewer_of_another_province_gets_404(objects, reviewer_gd, method, path):
    assert _call(signed_in(reviewer_gd), method, path.format(**objects)).status_code == 404


@pytest.mark.parametrize("method,path", [(m, p) for m, p in REGULATOR_ONLY if "certificates" in p])
def test_a_reviewer_of_another_province_cannot_void_or_reissue(objects, reviewer_gd, method, path):
    assert _call(signed_in(reviewer_gd), method, path.format(**objects)).status_code == 404


@pytest.mark.parametrize("method,path", ALL_PAGES)
def test_a_company_that_is_not_a_dismantler_gets_403(objects, carmaker, method, path):
    assert _call(signed_in(carmaker), method, path.format(**objects)).status_code == 403


@pytest.mark.parametrize("method,path", [p for p in REGULATOR_ONLY])
def test_the_dismantler_is_refused_regulator_pages(objects, dismantler, method, path):
    assert _call(signed_in(dismantler), method, path.format(**objects)).status_code == 403


@pytest.mark.parametrize("method,path", [("get", NEW), ("post", NEW), ("post", "/scrapping/intakes/{intake}/issue/"),
                                         ("post", "/scrapping/intakes/{intake}/withdraw/")])
def test_regulators_do_not_take_in_vehicles(objects, reviewer, method, path):
    assert _call(signed_in(reviewer), method, path.format(**objects)).status_code == 403


def test_outsiders_posting_changed_nothing(objects, dismantler2, reviewer_gd, carmaker, anon):
    for client in (signed_in(dismantler2), signed_in(reviewer_gd), signed_in(carmaker), anon):
        for method, path in ALL_PAGES:
            if method == "post":
                client.post(path.format(**objects), {"number": "ZB-OUT-0001", "reason": "x", "confirm": "on",
                                                     "decision": "approved", "explanation": "x"})
    certificate = ScrappingCertificate.objects.get()
    assert (certificate.status, ScrappingCertificate.objects.count()) == ("valid", 1)
    assert ScrappingIntake.objects.get().status == "issued"
