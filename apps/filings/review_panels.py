"""What the review page shows for each kind of filing: the filing's content on the left, the ledger data it
concerns on the right (issue 5, item 3: "the reviewer sees the filing side by side with the ledger data").

A kind plugs in with two templates and, if they need data, one function:

    templates/filings/review/<kind>_content.html   the filing as filed (left column)
    templates/filings/review/<kind>_ledger.html    the ledger (or other portal data) it concerns (right column)

    @review_panel(FilingKind.RECOVERY_REPORT)
    def _recovery_report(filing) -> dict:
        return {"rates": ...}      # extra context for both templates

A kind without its own templates falls back to `_default_content.html` / `_default_ledger.html`. The function
runs only for the filing being reviewed (a few queries at most); both templates get `filing` and its result.
"""
from __future__ import annotations

from collections.abc import Callable

from apps.filings.models import Filing, FilingKind

REVIEW_PANELS: dict[str, Callable[[Filing], dict]] = {}


def review_panel(kind: str):
    def register(func: Callable[[Filing], dict]):
        REVIEW_PANELS[str(kind)] = func
        return func

    return register


def panel_context(filing: Filing) -> dict:
    func = REVIEW_PANELS.get(filing.kind)
    return {
        "panel": func(filing) if func else {},
        "panel_content_templates": [f"filings/review/{filing.kind}_content.html", "filings/review/_default_content.html"],
        "panel_ledger_templates": [f"filings/review/{filing.kind}_ledger.html", "filings/review/_default_ledger.html"],
    }


@review_panel(FilingKind.MONTHLY_REPORT)
def _monthly_report(filing: Filing) -> dict:
    from apps.filings.selectors import monthly_report_comparison

    rows = monthly_report_comparison(filing)
    return {"comparison": rows, "differing": [row for row in rows if row["differs"]]}
