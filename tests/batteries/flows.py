"""Short lifecycle set-ups for page tests, through the services (what a test asserts on is then done through
the page under test)."""
from __future__ import annotations

from apps.batteries import services
from tests.batteries.conftest import make_code


def registered(maker, code: str | None = None, **kwargs) -> str:
    code = code or make_code()
    services.battery_register(actor=maker, code=code, **kwargs)
    return code


def delivered(code: str, sender, recipient) -> str:
    """`sender` hands the battery to `recipient`'s enterprise, which receives it."""
    services.battery_hand_over(actor=sender, code=code, recipient=recipient.enterprise)
    services.battery_receive(actor=recipient, code=code)
    return code


def in_transit(code: str, sender, recipient) -> str:
    services.battery_hand_over(actor=sender, code=code, recipient=recipient.enterprise)
    return code


def installed(maker, carmaker, vin: str, *, is_swap_model: bool = False, code: str | None = None) -> str:
    """A pack made by `maker`, delivered to `carmaker` and installed in `vin`."""
    code = delivered(registered(maker, code), maker, carmaker)
    services.battery_install(actor=carmaker, code=code, vin=vin, model_name="申城 E5", is_swap_model=is_swap_model)
    return code


def waste_held_by(maker, holder, code: str | None = None) -> str:
    """A waste battery held by `holder` (delivered by the maker, then declared waste by the holder)."""
    code = registered(maker, code)
    if holder != maker:
        delivered(code, maker, holder)
    services.battery_declare_waste(actor=holder, code=code)
    return code
