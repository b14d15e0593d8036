"""What the detail and review pages show of a filing's own content, by kind (templates/filings/_kind_content.html):
the workflow's views stay the same for every kind."""
from django import template

register = template.Library()


@register.simple_tag
def recovery_content(filing) -> dict:
    """The recovery report's inputs and its per-metal table (expected content, output, rate, threshold)."""
    from apps.core.choices import Chemistry
    from apps.filings import kind_selectors

    labels = dict(Chemistry.choices)
    return {"inputs": [(labels[row.chemistry], row.weight_kg) for row in filing.recovery_report.input_rows.all()],
            "rows": kind_selectors.recovery_rows(filing)}


@register.simple_tag
def recovery_received(filing) -> tuple:
    """(packs, kg) the ledger records as received by the recycler in the report's month: one aggregate."""
    from apps.filings import kind_selectors

    return kind_selectors.ledger_received_weight(enterprise_id=filing.enterprise_id, month=filing.period)


@register.simple_tag
def explanation_content(filing) -> dict:
    explanation = filing.explanation
    return {"explanation": explanation, "discrepancy": explanation.discrepancy, "intake": explanation.intake}


@register.simple_tag
def live_explanation(subject, of: str = "discrepancy"):
    """The live (not rejected) explanation filing of a discrepancy (of="discrepancy") or a scrapping intake
    (of="intake"), or None: the subject's page links to it instead of offering a second one."""
    from apps.filings import kind_selectors

    return kind_selectors.explanation_filing_for(subject, discrepancy=of == "discrepancy")
