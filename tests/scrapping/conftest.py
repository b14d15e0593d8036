"""Scrapping personas and set-ups. The battery personas come from tests/batteries/conftest.py: a battery maker, a
vehicle maker, a swap operator, a repairer and the dismantler 江城拆解 (Hubei, 42); added here a second dismantler
(Guangdong, 44) who must see nothing of the first's, and a Hubei reviewer. The Guangdong reviewer (tests/conftest)
is the regulator outside the dismantler's province.

Batteries get into vehicles through the real services: registered by the maker, handed over to the carmaker,
received, installed in the VIN (tests.batteries.flows.installed)."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.accounts.models import User
from apps.scrapping import services
from tests.batteries.conftest import (  # noqa: F401 — fixtures shared with the battery tests
    VIN,
    VIN2,
    VIN3,
    carmaker,
    collector,
    dismantler,
    maker,
    maker_co,
    make_code,
    recycler,
    repairer,
    staff,
    swapper,
)
from tests.batteries.flows import installed, registered
from tests.factories import EnterpriseFactory, UserFactory

OWNER_ID = "440301199003071513"  # a valid resident identity number (GB 11643 check character 3)
CONVENTIONAL_VIN = "LFV2A21K7G3000001"  # a petrol car the ledger does not know
VIN4 = "LVSHCAME4JE000001"


def image_upload(kind: str = "jpeg", name: str | None = None, size=(8, 6)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 20, 30)).save(buffer, format="JPEG" if kind == "jpeg" else "PNG")
    suffix = "jpg" if kind == "jpeg" else "png"
    return SimpleUploadedFile(name or f"photo.{suffix}", buffer.getvalue(),
                              content_type="image/jpeg" if kind == "jpeg" else "image/png")


def intake_args(vin: str = VIN, codes=(), **overrides) -> dict:
    """Everything a service intake needs, valid, with the photos; `overrides` spoil one argument at a time."""
    data = {
        "vin": vin, "plate_number": "鄂A12345", "engine_number": "TZ220XS0001", "is_nev": True,
        "owner_id_kind": "resident_id", "owner_id_number": OWNER_ID, "declared_not_mortgaged": True,
        "declared_not_stolen": True, "battery_codes": list(codes), "photo_front": image_upload(),
        "photo_vin": image_upload("png"),
    }
    data.update(overrides)
    return data


def take_in(dismantler_user, vin: str = VIN, codes=(), **overrides):
    return services.scrapping_intake_create(actor=dismantler_user, **intake_args(vin, codes, **overrides))


@pytest.fixture
def dismantler2(db):
    return staff(EnterpriseFactory(name="珠江拆解", roles=["dismantler"], province="44"), "dismantler2")


@pytest.fixture
def reviewer_hb(db):
    """A reviewer limited to Hubei (42), the province of 江城拆解."""
    return UserFactory(username="hb_rita", kind=User.Kind.REVIEWER, reviewer_provinces=["42"])


@pytest.fixture
def nev(maker, carmaker):
    """VIN with one pack installed through the services; returns the pack's code."""
    return installed(maker, carmaker, VIN)


@pytest.fixture
def swap_nev(maker, carmaker):
    """VIN2 is a battery-swap model with one pack installed."""
    return installed(maker, carmaker, VIN2, is_swap_model=True)


@pytest.fixture
def spare(maker, repairer):
    """A pack in the repairer's stock, never reported in any vehicle: what an unreported replacement puts in."""
    from tests.batteries.flows import delivered

    return delivered(registered(maker), maker, repairer)
