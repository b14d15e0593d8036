"""The security suites share one world (tests/security/world.py)."""
from __future__ import annotations

import pytest

from tests.security.world import build_world


@pytest.fixture
def world(alice_co, alice, alice_filer, bob, reviewer):
    return build_world(alice_co=alice_co, alice=alice, alice_filer=alice_filer, bob=bob, reviewer=reviewer)
