"""Factories for tests. Enterprises are created directly (not through registration) unless a test is about
registration itself; everything stateful that a test asserts on goes through the services."""
from __future__ import annotations

import itertools
from datetime import date

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.enterprises.models import Enterprise, Membership, RecyclerLicence
from apps.enterprises.rules import uscc_expected_check_character

_serial = itertools.count(1)


def valid_uscc(n: int | None = None) -> str:
    n = next(_serial) if n is None else n
    body = f"91{n % 100:02d}0000MA{n:07d}"[:17]
    body = body.replace("I", "1").replace("O", "0")
    return body + uscc_expected_check_character(body)


def pdf_upload(name: str = "licence.pdf", size: int = 0) -> SimpleUploadedFile:
    body = b"%PDF-1.4\n% test\n" + b"0" * size + b"\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    kind = User.Kind.COMPANY
    password = factory.PostGenerationMethodCall("set_password", "Correct-horse-42")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    uscc = factory.LazyFunction(valid_uscc)
    province = "44"
    address = "广州市天河区1号"
    contact_name = "王芳"
    contact_phone = "020-12345678"
    contact_email = factory.Sequence(lambda n: f"contact{n}@example.cn")
    roles = factory.LazyFunction(lambda: ["battery_maker"])
    status = Enterprise.Status.ACTIVE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    enterprise = factory.SubFactory(EnterpriseFactory)
    role = Membership.Role.FILER


class LicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecyclerLicence

    enterprise = factory.SubFactory(EnterpriseFactory, roles=["recycler"])
    number = factory.Sequence(lambda n: f"LIC-{n:05d}")
    scopes = factory.LazyFunction(lambda: ["dismantling", "hydrometallurgy"])
    chemistries = factory.LazyFunction(lambda: ["B", "E"])
    annual_capacity_tonnes = 1000
    valid_from = date(2026, 1, 1)
    valid_to = date(2028, 12, 31)
