"""The public verification page /verify/<token> (and /en/verify/<token>): valid, voided or unknown, with only
non-personal facts; a bad or tampered token reads "unknown", never a server error."""
from __future__ import annotations

import pytest
from django.core import signing

from apps.scrapping import services
from apps.scrapping.verification import SALT, certificate_token, verification_path
from tests.conftest import signed_in
from tests.scrapping.conftest import OWNER_ID, VIN, take_in
from tests.web import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(dismantler, nev):
    return services.scrapping_certificate_issue(actor=dismantler, intake_id=take_in(dismantler, VIN, [nev]).pk,
                                                number="ZB-2026-000555")


def test_a_valid_certificate_shows_only_non_personal_facts(certificate, anon):
    response = anon.get(verification_path(certificate.pk))
    assert response.status_code == 200 and response.context["state"] == "valid"
    text = page_text(response)
    assert "ZB-2026-000555" in text and "江城拆解" in text
    assert f"{VIN[:3]}{'*' * 10}{VIN[-4:]}" in text
    intake = certificate.intake
    for private in (VIN, intake.plate_number, intake.owner_id_masked, OWNER_ID, intake.engine_number):
        assert private not in text, private


def test_the_page_is_in_english_under_en(certificate, anon):
    response = anon.get("/en" + verification_path(certificate.pk))
    assert response.status_code == 200
    assert "Valid" in page_text(response) and "Verify a scrapping certificate" in page_text(response)


def test_a_voided_certificate_reads_voided(certificate, reviewer_hb, anon):
    services.scrapping_certificate_void(actor=reviewer_hb, certificate_id=certificate.pk, reason="车辆被报盗抢")
    response = anon.get(verification_path(certificate.pk))
    assert response.context["state"] == "voided"
    assert "车辆被报盗抢" not in page_text(response)  # the reason may name people: not public


def test_a_reissued_certificate_points_to_the_new_number(certificate, reviewer_hb, anon):
    new = services.scrapping_certificate_reissue(actor=reviewer_hb, certificate_id=certificate.pk,
                                                 number="ZB-2026-000556", reason="证明遗失")
    old_page = anon.get(verification_path(certificate.pk))
    assert old_page.context["state"] == "voided" and "ZB-2026-000556" in page_text(old_page)
    assert anon.get(verification_path(new.pk)).context["state"] == "valid"


@pytest.mark.parametrize("token", [
    "nonsense", "MQ:1vabc:xyz", "%F0%9F%92%A5", "a" * 500, signing.Signer(salt="another.salt").sign_object(1),
    signing.dumps(1, salt=SALT), signing.Signer(salt=SALT).sign_object("1"),
    signing.Signer(salt=SALT).sign_object(-5), signing.Signer(salt=SALT).sign_object(True),
])
def test_bad_or_tampered_tokens_read_unknown(certificate, anon, token):
    response = anon.get(f"/verify/{token}")
    assert response.status_code == 404 and response.context["state"] == "unknown"
    assert "ZB-2026-000555" not in page_text(response)


def test_a_tampered_signature_reads_unknown(certificate, anon):
    token = certificate_token(certificate.pk)
    value, signature = token.rsplit(":", 1)
    forged = f"{value}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert anon.get(f"/verify/{forged}").context["state"] == "unknown"
    other_id = certificate_token(certificate.pk + 1000)
    assert anon.get(f"/verify/{other_id}").context["state"] == "unknown"


def test_a_token_works_with_and_without_the_trailing_slash_and_for_signed_in_users(certificate, anon, dismantler2):
    path = verification_path(certificate.pk)
    assert not path.endswith("/")
    assert anon.get(path + "/").context["state"] == "valid"
    assert signed_in(dismantler2).get(path).context["state"] == "valid"  # public: anyone may check
