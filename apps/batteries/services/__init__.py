"""Writes on the battery ledger: lifecycle operations (lifecycle.py) and bulk files (imports.py)."""
from apps.batteries.services.imports import bulk_import_create  # noqa: F401
from apps.batteries.services.lifecycle import *  # noqa: F401,F403
from apps.batteries.services.lifecycle import (  # noqa: F401
    acting_enterprise,
    check_battery_code,
    check_occurred_at,
    check_vin,
    positive_decimal,
    registration_problem_for_maker,
    resolve_recipient,
    waste_recipient_refusal,
)
