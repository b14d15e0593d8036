"""Named personas, as in healthchecks' tests: Alice's enterprise, Bob's enterprise (who must see nothing of
Alice's), a reviewer, a Guangdong-only reviewer, an admin and an anonymous visitor."""
from __future__ import annotations

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.enterprises.models import Membership
from tests.factories import EnterpriseFactory, MembershipFactory, UserFactory

PASSWORD = "Correct-horse-42"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def alice_co(db):
    return EnterpriseFactory(name="爱丽丝动力电池有限公司", province="35", roles=["battery_maker"])


@pytest.fixture
def bob_co(db):
    return EnterpriseFactory(name="鲍勃汽车有限公司", province="31", roles=["vehicle_maker"])


@pytest.fixture
def alice(alice_co):
    """Alice administers Alice's enterprise."""
    return MembershipFactory(enterprise=alice_co, role=Membership.Role.ADMIN, user__username="alice").user


@pytest.fixture
def alice_filer(alice_co):
    return MembershipFactory(enterprise=alice_co, role=Membership.Role.FILER, user__username="alice_filer").user


@pytest.fixture
def bob(bob_co):
    """Bob administers another enterprise and must never see Alice's data."""
    return MembershipFactory(enterprise=bob_co, role=Membership.Role.ADMIN, user__username="bob").user


@pytest.fixture
def reviewer(db):
    return UserFactory(username="rita", kind=User.Kind.REVIEWER)


@pytest.fixture
def reviewer_gd(db):
    """A reviewer limited to Guangdong (44)."""
    return UserFactory(username="gd_rita", kind=User.Kind.REVIEWER, reviewer_provinces=["44"])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="adam", kind=User.Kind.ADMIN, is_staff=True, is_superuser=True)


def totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "test"})[0]


def current_token(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def signed_in(user, *, verified: bool = True) -> Client:
    """A browser session for `user`; regulators pass 2FA unless `verified=False`."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if verified and user.requires_two_factor:
        device = totp_device(user)
        response = client.post("/accounts/two-factor/verify/", {"token": current_token(device)})
        assert response.status_code == 302, response.content
    return client


@pytest.fixture
def client_for():
    return signed_in


@pytest.fixture
def api_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if user.requires_two_factor:
            device = totp_device(user)
            client.post("/accounts/two-factor/verify/", {"token": current_token(device)})
        return client

    return make


@pytest.fixture
def anon() -> Client:
    return Client()
