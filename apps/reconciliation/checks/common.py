"""What every check statement shares: the scope filter, the codes aggregate, the filed statuses."""
from __future__ import annotations

from apps.filings import rules as filing_rules

# A monthly (or recovery) report counts once it is filed: awaiting review, in review, resubmitted or approved.
FILED_STATUSES = (*filing_rules.OPEN_STATUSES, filing_rules.APPROVED)

# The first `cap` battery codes behind a discrepancy, sorted (the alias `b` is the battery).
CODES = "(array_agg(b.code ORDER BY b.code))[1:%(cap)s]"


def month_of(column: str) -> str:
    """The month (its first day, on the Asia/Shanghai calendar) of an instant column."""
    return f"date_trunc('month', {column} AT TIME ZONE 'Asia/Shanghai')::date"


def in_scope(column: str) -> str:
    """The run's scope: every enterprise (%(enterprises)s is null) or the listed ones (one enterprise when it files
    a report, a batch of them in a split run). With client-side parameter binding the planner sees the constant and
    drops the branch it does not need, so an index on `column` serves a scoped run."""
    return f"(%(enterprises)s::bigint[] IS NULL OR {column} = ANY(%(enterprises)s::bigint[]))"


def sql_list(values) -> str:
    """Constants from code (status names, event kinds), never input: safe to place in a statement."""
    return ", ".join(f"'{v}'" for v in values)


def default_weight_kg() -> str:
    """The weight assumed for a battery without one (settings.RECONCILIATION_DEFAULT_WEIGHT_KG, by product type);
    the alias `b` is the battery."""
    return ("coalesce(b.weight_kg, CASE b.product_type WHEN 'P' THEN %(default_pack_kg)s "
            "WHEN 'M' THEN %(default_module_kg)s ELSE %(default_cell_kg)s END)")
