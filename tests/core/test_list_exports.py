"""Every reviewer list's export (apps.core.exports) answers with the page's own rows: same permission check, same
tenant scoping, same filters. Outsiders get what the page gives them: a refusal, or nothing of Alice's."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.reconciliation.models import Discrepancy
from tests.conftest import signed_in
from tests.factories import EnterpriseFactory, LicenceFactory

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def discrepancy(alice_co):
    now = timezone.now()
    return Discrepancy.objects.create(enterprise=alice_co, kind="gone_dark", figure="=cmd", expected=0, found=1,
                                      severity="low", first_seen=now, last_seen=now)


def test_enterprise_review_export_is_scoped_and_filtered(reviewer, reviewer_gd, bob, alice_co, bob_co):
    client = signed_in(reviewer)
    names = [row[0] for row in csv_rows(client.get("/review/enterprises/?export=csv"))[1:]]
    assert alice_co.name in names and bob_co.name in names
    filtered = csv_rows(client.get("/review/enterprises/?province=35&export=csv"))
    assert [row[0] for row in filtered[1:]] == [alice_co.name] and filtered[0][0] == "企业名称"
    gd = str(csv_rows(signed_in(reviewer_gd).get("/review/enterprises/?export=csv")))
    assert alice_co.name not in gd and alice_co.uscc not in gd
    assert signed_in(bob).get("/review/enterprises/?export=csv").status_code == 403


def test_licence_export_follows_the_status_filter(reviewer, bob):
    recycler = EnterpriseFactory(province="35", roles=["recycler"])
    licence = LicenceFactory(enterprise=recycler, valid_from=timezone.localdate() - timedelta(days=1),
                             valid_to=timezone.localdate() + timedelta(days=100))
    client = signed_in(reviewer)
    assert [row[0] for row in csv_rows(client.get("/licences/?export=csv"))[1:]] == [licence.number]
    assert csv_rows(client.get("/licences/?status=revoked&export=csv"))[1:] == []
    assert signed_in(bob).get("/licences/?export=csv").status_code == 403


def test_regulator_export_is_for_admins(admin_user, reviewer, reviewer_gd):
    rows = csv_rows(signed_in(admin_user).get("/en/accounts/regulators/?export=csv"))
    assert rows[0][0] == "User name"
    assert {"rita", "gd_rita"} <= {row[0] for row in rows[1:]}
    assert signed_in(reviewer).get("/accounts/regulators/?export=csv").status_code == 403


def test_discrepancy_exports_are_scoped_and_neutralised(reviewer, reviewer_gd, alice, bob, discrepancy, alice_co):
    client = signed_in(reviewer)
    rows = csv_rows(client.get("/review/discrepancies/?export=csv"))
    assert [row[0] for row in rows[1:]] == [str(discrepancy.pk)] and rows[1][6] == "'=cmd"
    assert csv_rows(client.get("/review/discrepancies/?severity=high&export=csv"))[1:] == []
    assert csv_rows(signed_in(reviewer_gd).get("/review/discrepancies/?export=csv"))[1:] == []
    assert [row[0] for row in csv_rows(signed_in(alice).get("/discrepancies/?export=csv"))[1:]] == [str(discrepancy.pk)]
    assert alice_co.name not in str(csv_rows(signed_in(bob).get("/discrepancies/?export=csv")))


def test_export_links_carry_the_filters(reviewer, alice_co):
    html = signed_in(reviewer).get("/review/enterprises/?province=35&page=2").content.decode()
    assert "?province=35&amp;export=csv" in html and "?province=35&amp;export=xlsx" in html
