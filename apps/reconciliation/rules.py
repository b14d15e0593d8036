"""Pure arithmetic of the reconciliation checks. No ORM."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from apps.core.workdays import MAX_CALENDAR_DAYS, DayVerdict, add_working_days_with


def handover_overdue_through(today: dt.date, working_days: int, verdict: Callable[[dt.date], DayVerdict]) -> dt.date:
    """The last handover date that is overdue today: a battery handed over on day D and still in transit is overdue
    once today is past the `working_days`-th working day after D (DOMAIN.md rule 5 counts in working days, with the
    official holidays and make-up working days). The deadline only moves forward with D, so walking back from
    yesterday, the first overdue D is the latest one."""
    day = today - dt.timedelta(days=1)
    for _step in range(MAX_CALENDAR_DAYS):
        if add_working_days_with(day, working_days, verdict).date < today:
            return day
        day -= dt.timedelta(days=1)
    raise ValueError(f"no working days within {MAX_CALENDAR_DAYS} days before {today}")


def count_severity(expected: int, found: int) -> str:
    """A reported count that misses the ledger by a tenth or more of the larger of the two is high, else medium.
    (Mirrored in SQL by checks.REPORTED_VS_LEDGER; a test holds the two together.)"""
    return "high" if abs(found - expected) * 10 >= max(expected, found) else "medium"


# --- stock balance -------------------------------------------------------------------------------------------------
# An enterprise's stock is what it holds and has in hand: packs whose holder it is, neither installed in a vehicle
# nor in transit (the monthly report's `in_stock`, "in stock at month end"). How each declared figure moves it,
# whatever the enterprise's roles (a figure a role never does is 0 on its report, so one formula serves all):
#   in : produced (battery maker), received (anyone), swapped_out (swap operator: out of a vehicle into its pool),
#        removed (dismantler: out of a scrapped vehicle);
#   out: installed (vehicle maker), swapped_in (swap operator: from its pool into a vehicle), handed_over (anyone),
#        recycled (recycler: final disposal), remanufactured (recycler: used up in a remanufactured product).
# `replaced` (repairer) counts the old battery taken out of the vehicle into its stock AND the new one taken from its
# stock into the vehicle (the ledger records a replacement as one replaced_out plus one replaced_in), so it cancels.
STOCK_IN_FIGURES = ("produced", "received", "swapped_out", "removed")
STOCK_OUT_FIGURES = ("installed", "swapped_in", "handed_over", "recycled", "remanufactured")
# Two movements have no figure on the report, so they are taken from the ledger for the month: a battery the
# recipient refused comes back into the sender's stock (event `refused`, the sender as counterparty), and the
# product of remanufacturing enters its maker's stock (event `remanufacture_produced`).
STOCK_IN_UNDECLARED_EVENTS = ("remanufacture_produced",)
# The same movements as ledger events of the enterprise as actor, for the ledger's stock at the start of a month
# (when there is no previous report to take the opening stock from); `refused` counts for its counterparty.
STOCK_DELTA_BY_EVENT = {
    "produced": 1, "received": 1, "swapped_out": 1, "removed": 1, "replaced_out": 1, "remanufacture_produced": 1,
    "installed": -1, "swapped_in": -1, "replaced_in": -1, "handed_over": -1, "recycled": -1, "remanufactured": -1,
}


def expected_closing_stock(*, opening: int, declared: dict[str, int], undeclared_in: int = 0) -> int:
    """Stock balance (issue 6): opening + in − out = closing. `declared` are the monthly report's figures;
    `undeclared_in` the refused batteries that came back and the remanufactured products of the month (ledger).
    Mirrored in SQL by checks.reports.STOCK_BALANCE (a test holds the two together)."""
    return (opening + sum(declared.get(f, 0) for f in STOCK_IN_FIGURES)
            - sum(declared.get(f, 0) for f in STOCK_OUT_FIGURES) + undeclared_in)


# --- licensed capacity -----------------------------------------------------------------------------------------------


def prorated_capacity_kg(*, annual_tonnes, valid_from: dt.date, valid_to: dt.date, year: int) -> float:
    """A licence's capacity for a calendar year, in kg: its annual capacity times the share of the year it is valid
    (a renewal mid-year then adds up to one full year, two licences side by side add up). Mirrored in SQL by
    checks.licences.LICENCE_CAPACITY_EXCEEDED."""
    start, end = max(valid_from, dt.date(year, 1, 1)), min(valid_to, dt.date(year, 12, 31))
    if end < start:
        return 0.0
    days_in_year = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    return float(annual_tonnes) * 1000 * ((end - start).days + 1) / days_in_year
