"""Admins add reviewers (optionally per province) and other admins; nobody else can."""
import re

import pytest

from apps.accounts.models import User
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_admin_invites_a_provincial_reviewer_who_sets_a_password_and_must_enrol_2fa(
        admin_user, mailoutbox, django_capture_on_commit_callbacks):
    client = signed_in(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/regulators/", {"email": "gd.reviewer@miit.example.cn", "full_name": "粤审核",
                                                         "kind": "reviewer", "provinces": ["44", "45"]})
    assert response.status_code == 302
    reviewer = User.objects.get(email="gd.reviewer@miit.example.cn")
    assert (reviewer.kind, reviewer.reviewer_provinces, reviewer.has_usable_password()) == ("reviewer", ["44", "45"], False)

    link = re.search(r"https?://\S+/password-reset/\S+/", mailoutbox[0].body).group(0)
    path = link.split("8000", 1)[-1]
    from django.test import Client

    invited = Client()
    set_form = invited.get(path, follow=True)
    post_url = set_form.redirect_chain[-1][0] if set_form.redirect_chain else path
    done = invited.post(post_url, {"new_password1": "Brand-new-pass-77", "new_password2": "Brand-new-pass-77"})
    assert done.status_code == 302, (post_url, done.context and done.context.get('form') and done.context['form'].errors, done.context and done.context.get('validlink'))
    assert invited.post("/accounts/login/", {"username": reviewer.username, "password": "Brand-new-pass-77"}).status_code == 302
    # a regulator without a device is sent to enrol before anything else
    assert invited.get("/review/enterprises/")["Location"].startswith("/accounts/two-factor/verify/")


def test_duplicate_email_is_refused_on_the_form(admin_user, reviewer):
    client = signed_in(admin_user)
    before = User.objects.count()
    response = client.post("/accounts/regulators/", {"email": reviewer.email, "kind": "reviewer"})
    assert response.status_code == 200
    assert User.objects.count() == before
    assert response.context["form"].errors["email"]


def test_admin_deactivates_a_reviewer(admin_user, reviewer):
    client = signed_in(admin_user)
    assert client.post(f"/accounts/regulators/{reviewer.pk}/deactivate/").status_code == 302
    reviewer.refresh_from_db()
    assert not reviewer.is_active
    client.post(f"/accounts/regulators/{reviewer.pk}/reactivate/")
    reviewer.refresh_from_db()
    assert reviewer.is_active


def test_admin_cannot_deactivate_themself(admin_user):
    client = signed_in(admin_user)
    client.post(f"/accounts/regulators/{admin_user.pk}/deactivate/")
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_company_accounts_are_not_reachable_through_the_regulator_pages(admin_user, alice):
    client = signed_in(admin_user)
    assert client.post(f"/accounts/regulators/{alice.pk}/deactivate/").status_code == 404
    alice.refresh_from_db()
    assert alice.is_active


@pytest.mark.parametrize("persona", ["reviewer", "alice", "bob"])
def test_only_admins_manage_regulators(request, persona, reviewer):
    user = request.getfixturevalue(persona)
    client = signed_in(user)
    assert client.get("/accounts/regulators/").status_code == 403
    assert client.post(f"/accounts/regulators/{reviewer.pk}/deactivate/").status_code == 403
    reviewer.refresh_from_db()
    assert reviewer.is_active


def test_anonymous_is_sent_to_sign_in(anon):
    response = anon.get("/accounts/regulators/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_regulator_list_query_count_does_not_grow_with_rows(admin_user, django_assert_max_num_queries):
    from tests.factories import UserFactory

    client = signed_in(admin_user)
    for i in range(3):
        UserFactory(kind="reviewer", username=f"r{i}")
    with django_assert_max_num_queries(12) as small:
        client.get("/accounts/regulators/")
    for i in range(3, 30):
        UserFactory(kind="reviewer", username=f"r{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/accounts/regulators/")


def test_an_applicant_awaiting_review_may_read_the_public_pages(db):
    """Public pages (certificate verification, a battery's public card) are open to everyone, including a
    signed-in applicant whose enterprise is not active yet."""
    from apps.enterprises.models import Membership
    from tests.factories import EnterpriseFactory, MembershipFactory

    applicant = MembershipFactory(enterprise=EnterpriseFactory(status="pending"), role=Membership.Role.ADMIN).user
    client = signed_in(applicant)
    assert client.get("/verify/not-a-token").status_code == 404  # "unknown", not a redirect to the application
    assert client.get("/b/0PAPE01ABCDEFGT3F0000001").status_code == 404
    assert client.get("/enterprise/staff/")["Location"].endswith("/application/")
