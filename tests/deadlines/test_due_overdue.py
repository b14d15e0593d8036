"""What is due and overdue: an enterprise's page and API (its monthly reports, its late-reported events with the
drill-down to codes), the reviewers' overdue list across enterprises (province scope, filters, most overdue first),
and outsiders. Today is the real date; the events are put on either side of deadlines that cross the 2026 Spring
Festival (days off Sun 15 – Mon 23 Feb, make-up working days Sat 14 and Sat 28 Feb)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.deadlines import selectors, services
from apps.filings import services as filing_services
from tests.deadlines.conftest import at
from tests.factories import UserFactory
from tests.web import page_text

pytestmark = pytest.mark.django_db
D = dt.date
API = "/api/v1"


@pytest.fixture
def reviewer_fj(db):
    return UserFactory(username="fj_rex", kind=User.Kind.REVIEWER, reviewer_provinces=["35"])


@pytest.fixture
def spring_events(late_install):
    """Installed Fri 13 Feb 2026 (15 working days: deadline Thu 12 Mar): one recorded on the deadline day, one the
    day after (late by 1 day), one 30 days after (late by 30)."""
    return {
        "on_time": late_install(D(2026, 2, 13), D(2026, 3, 12)),
        "late_1": late_install(D(2026, 2, 13), D(2026, 3, 13)),
        "late_30": late_install(D(2026, 2, 13), D(2026, 4, 11)),
    }


def _summary(actor, **kw):
    rows = selectors.late_event_summary(actor=actor, first_month=D(2026, 1, 1), end_month=D(2026, 12, 1), **kw)
    return rows[0:100]


def test_late_events_are_counted_against_the_holiday_calendar(carmaker_staff, spring_events, carco):
    rows = _summary(carmaker_staff, enterprise=carco.pk)
    assert [(r["month"], r["kind"], r["late"], r["max_days_late"]) for r in rows] == [
        (D(2026, 2, 1), "installed", 2, 30)]
    codes = [r["code"] for r in selectors.late_event_list(actor=carmaker_staff, enterprise=carco.pk,
                                                          kind="installed", month=D(2026, 2, 1))[0:50]]
    assert sorted(codes) == sorted([spring_events["late_1"], spring_events["late_30"]])
    assert spring_events["on_time"] not in codes


def test_an_edited_deadline_changes_what_counts_as_late(admin_user, carmaker_staff, spring_events, carco):
    services.reporting_deadline_set(actor=admin_user, duty="vehicle_installation", working_days=16)
    # Day 16 is Fri 13 Mar: the event recorded on the 13th is now on time.
    assert [r["late"] for r in _summary(carmaker_staff, enterprise=carco.pk)] == [1]


def test_a_battery_makers_registration_has_no_deadline(carmaker_staff, late_install, carco):
    late_install(D(2026, 3, 2), D(2026, 3, 3))  # registered and installed on 2 Mar, recorded the next day
    assert _summary(carmaker_staff, enterprise=carco.pk) == []


def test_the_enterprise_page_shows_its_late_events_and_the_drill_down(carmaker_staff, spring_events, client_for):
    client = client_for(carmaker_staff)
    text = page_text(client.get("/deadlines/"))
    assert "2026-02" in text
    drill = page_text(client.get("/deadlines/late-events/?kind=installed&month=2026-02"))
    assert spring_events["late_1"] in drill and spring_events["late_30"] in drill
    assert spring_events["on_time"] not in drill


def test_the_enterprise_page_lists_overdue_and_due_monthly_reports(carmaker_staff, carco, client_for):
    carco.approved_at = at(D(2026, 6, 3))
    carco.save()
    today = timezone.localdate()
    schedule = selectors.monthly_report_schedule(enterprise=carco, today=D(2026, 11, 26))
    states = {row["month"]: row["state"] for row in schedule}
    assert states[D(2026, 11, 1)] == "upcoming" and states[D(2026, 10, 1)] == "overdue"
    assert states[D(2026, 6, 1)] == "overdue" and D(2026, 5, 1) not in states
    # Filing and submitting September turns it into "late" (submitted after 10 October).
    filing = filing_services.monthly_report_create(actor=carmaker_staff, month=D(2026, 9, 1), counts={})
    filing_services.filing_submit(actor=carmaker_staff, filing_id=filing.pk)
    schedule = selectors.monthly_report_schedule(enterprise=carco, today=today)
    assert {r["month"]: r["state"] for r in schedule}[D(2026, 9, 1)] == "late"
    assert "2026-06" in page_text(client_for(carmaker_staff).get("/deadlines/"))


def test_reviewers_see_overdue_reports_in_their_provinces_most_overdue_first(reviewer_fj, reviewer_gd, carco,
                                                                               carmaker_staff, client_for):
    carco.approved_at = at(D(2026, 8, 3))
    carco.save()
    filing = filing_services.monthly_report_create(actor=carmaker_staff, month=D(2026, 9, 1), counts={})
    filing_services.filing_submit(actor=carmaker_staff, filing_id=filing.pk)
    draft = filing_services.monthly_report_create(actor=carmaker_staff, month=D(2026, 10, 1), counts={})
    rows = selectors.overdue_reports(actor=reviewer_fj, enterprise=carco.pk, today=D(2026, 11, 26))[0:50]
    # August (no report) and October (a draft never submitted); September was submitted.
    assert [(r["month"], r["days_late"], r["filing_id"]) for r in rows] == [
        (D(2026, 8, 1), 77, None), (D(2026, 10, 1), 16, draft.pk)]
    assert selectors.overdue_reports(actor=reviewer_gd, enterprise=carco.pk).count() == 0
    assert selectors.overdue_reports(actor=reviewer_fj, province="44").count() == 0
    text = page_text(client_for(reviewer_fj).get(f"/review/overdue/?enterprise={carco.pk}"))
    assert "闽江汽车" in text and "2026-08" in text
    assert "闽江汽车" not in page_text(client_for(reviewer_gd).get("/review/overdue/"))


def test_reviewers_see_late_events_across_enterprises_with_filters(reviewer_fj, reviewer_gd, spring_events, carco,
                                                                    client_for):
    assert [r["late"] for r in _summary(reviewer_fj)] == [2]
    assert _summary(reviewer_fj, kind="received") == []
    assert _summary(reviewer_gd) == []
    fj = client_for(reviewer_fj)
    text = page_text(fj.get("/review/overdue/?month=2026-02"))
    assert "闽江汽车" in text
    drill = fj.get(f"/deadlines/late-events/?kind=installed&month=2026-02&enterprise={carco.pk}")
    assert spring_events["late_1"] in page_text(drill)
    out = client_for(reviewer_gd).get(f"/deadlines/late-events/?kind=installed&month=2026-02&enterprise={carco.pk}")
    assert out.status_code == 404


def test_outsiders(bob, carco, spring_events, client_for, api_for):
    browser, api = client_for(bob), api_for(bob)
    assert browser.get("/review/overdue/").status_code == 403
    # Bob's drill-down is always his own enterprise's: the enterprise parameter of another is ignored.
    response = browser.get(f"/deadlines/late-events/?kind=installed&month=2026-02&enterprise={carco.pk}")
    assert spring_events["late_1"] not in page_text(response)
    assert api.get(f"{API}/deadlines/overdue/").status_code == 403
    body = api.get(f"{API}/deadlines/late-events/?kind=installed&month=2026-02&enterprise={carco.pk}").json()
    assert body["count"] == 0


def test_the_api_for_the_enterprise_and_for_reviewers(carmaker_staff, reviewer_fj, reviewer_gd, spring_events, carco,
                                                      api_for):
    company, fj, gd = api_for(carmaker_staff), api_for(reviewer_fj), api_for(reviewer_gd)
    due = company.get(f"{API}/deadlines/due/")
    assert due.status_code == 200, due.content
    assert due.json()["late_events"][0]["late"] == 2
    codes = company.get(f"{API}/deadlines/late-events/?kind=installed&month=2026-02").json()
    assert codes["count"] == 2 and {r["code"] for r in codes["results"]} == {spring_events["late_1"],
                                                                             spring_events["late_30"]}
    assert codes["results"][0]["deadline"] == "2026-03-12"
    events = fj.get(f"{API}/deadlines/overdue/events/?month=2026-02").json()
    assert events["count"] == 1 and events["results"][0]["enterprise_id"] == carco.pk
    assert gd.get(f"{API}/deadlines/overdue/events/?month=2026-02").json()["count"] == 0
    out = gd.get(f"{API}/deadlines/late-events/?kind=installed&month=2026-02&enterprise={carco.pk}")
    assert out.status_code == 404
    assert company.get(f"{API}/deadlines/overdue/").status_code == 403
    overdue = fj.get(f"{API}/deadlines/overdue/?page_size=2")
    assert overdue.status_code == 200 and overdue.json()["page_size"] == 2
    bad = fj.get(f"{API}/deadlines/overdue/events/?month=2026-13")
    assert bad.status_code == 400


def test_list_pages_run_a_fixed_number_of_queries(carmaker_staff, reviewer_fj, late_install, client_for,
                                                  django_assert_max_num_queries):
    late_install(D(2026, 2, 13), D(2026, 4, 1))
    company, review = client_for(carmaker_staff), client_for(reviewer_fj)
    counts = {}
    for label, client, url in (("due", company, "/deadlines/"), ("overdue", review, "/review/overdue/"),
                               ("drill", company, "/deadlines/late-events/?kind=installed&month=2026-02")):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as first:
            assert client.get(url).status_code == 200
        counts[label] = len(first)
    for day in (3, 4, 5, 6):
        late_install(D(2026, 3, day), D(2026, 5, 1))
    for label, client, url in (("due", company, "/deadlines/"), ("overdue", review, "/review/overdue/"),
                               ("drill", company, "/deadlines/late-events/?kind=installed&month=2026-02")):
        with django_assert_max_num_queries(counts[label]):
            assert client.get(url).status_code == 200


def test_the_drill_down_lists_events_with_identical_moments_once_each(carmaker_staff, late_install, carco):
    # Two installations at the same instant, recorded at the same instant (as a bulk file does).
    codes = {late_install(D(2026, 2, 13), D(2026, 4, 1)), late_install(D(2026, 2, 13), D(2026, 4, 1))}
    rows = selectors.late_event_list(actor=carmaker_staff, enterprise=carco.pk, kind="installed", month=D(2026, 2, 1))
    assert rows.count() == 2 and {r["code"] for r in rows[0:10]} == codes


def test_a_dismantlers_page_lists_handovers_to_make_and_to_receive(db, client_for):
    from tests.factories import EnterpriseFactory, MembershipFactory

    co = EnterpriseFactory(name="江城拆解", roles=["dismantler", "collection_point"], province="42")
    user = MembershipFactory(enterprise=co, role="admin", user__username="dina").user
    response = client_for(user).get("/deadlines/")
    assert response.status_code == 200
    text = page_text(response)
    assert "/scrapping/certificates/?deadline=open" not in text  # nothing pending: the empty state instead
    assert response.context["is_dismantler"] and response.context["incoming_count"] == 0
    # Its own duties only: a dismantler and collection point sees no vehicle maker's deadline.
    rows = [r.duty for r in response.context["deadlines"] if r.role in co.roles]
    assert set(rows) == {"dismantler_certificate", "dismantler_handover", "collection_store"}


def test_a_recycler_owes_recovery_reports_too_and_the_kind_filter_separates_them(reviewer, db):
    from tests.factories import EnterpriseFactory

    co = EnterpriseFactory(name="湘江循环", roles=["recycler"], province="43", approved_at=at(D(2026, 9, 2)))
    rows = selectors.overdue_reports(actor=reviewer, enterprise=co.pk, today=D(2026, 11, 26))[0:50]
    assert sorted((r["kind"], r["month"]) for r in rows) == [
        ("monthly_report", D(2026, 9, 1)), ("monthly_report", D(2026, 10, 1)),
        ("recovery_report", D(2026, 9, 1)), ("recovery_report", D(2026, 10, 1))]
    only = selectors.overdue_reports(actor=reviewer, enterprise=co.pk, kind="recovery_report", today=D(2026, 11, 26))
    assert {r["kind"] for r in only[0:50]} == {"recovery_report"} and only.count() == 2
    # A vehicle maker owes no recovery report.
    car = EnterpriseFactory(roles=["vehicle_maker"], province="43", approved_at=at(D(2026, 9, 2)))
    assert selectors.overdue_reports(actor=reviewer, enterprise=car.pk, kind="recovery_report").count() == 0


def test_an_admins_working_day_override_moves_the_deadline(admin_user, carmaker_staff, spring_events, carco):
    from apps.core.services import workday_override_set

    # Explicit test data: an admin declares Mon 2 Mar 2026 a day off (say, a local holiday correction). The
    # deadline of the 13 Feb installations moves from Thu 12 to Fri 13 Mar: the one recorded on the 13th is on time.
    workday_override_set(actor=admin_user, date=D(2026, 3, 2), is_workday=False, note="test: day off")
    rows = _summary(carmaker_staff, enterprise=carco.pk)
    assert [(r["late"], r["max_days_late"]) for r in rows] == [(1, 29)]
    codes = [r["code"] for r in selectors.late_event_list(actor=carmaker_staff, enterprise=carco.pk,
                                                          kind="installed", month=D(2026, 2, 1))[0:10]]
    assert codes == [spring_events["late_30"]]
