"""Writes of the recovery (utilization) report: a licensed recycler declares, for one month, the weight of packs it
put into recovery by chemistry and the mass of each metal it recovered. The workflow (submit, review, return,
approve) is the shared one in apps.filings.services; these services save the content and set the filing's flags
(below_threshold, impossible_yield) from apps.filings.recovery_rules (ADR 0014)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Chemistry
from apps.core.errors import DomainError, ErrorCode
from apps.core.services import service
from apps.core.validators import reject_markup
from apps.filings import recovery_rules, rules
from apps.filings.models import (
    METAL_FIELDS,
    ChemistryComposition,
    ChemistryCompositionChange,
    Filing,
    FilingKind,
    FilingStatus,
    Metal,
    RecoveryInput,
    RecoveryReport,
)
from apps.filings.services import _clean_month, _locked, _require_side

WEIGHT_MESSAGES = {
    "not_number": _("%(label)s: “%(value)s” is not a weight; give kilograms as a number, e.g. 1250.5."),
    "negative": _("%(label)s: a weight cannot be negative (%(value)s was given)."),
    "too_precise": _("%(label)s: give kilograms to the gram at most (three decimals; %(value)s was given)."),
    "too_large": _("%(label)s: %(value)s kg is more than one plant can process in a month."),
}


def thresholds() -> dict[str, Decimal]:
    """DOMAIN.md rule 6, unless settings.FILINGS_RECOVERY_THRESHOLDS overrides it (values as text or Decimal)."""
    configured = getattr(settings, "FILINGS_RECOVERY_THRESHOLDS", None) or recovery_rules.DEFAULT_THRESHOLDS
    return {metal: Decimal(str(value)) for metal, value in configured.items()}


def _clean_weight(value, *, field: str, label) -> Decimal:
    number, problem = recovery_rules.weight_problem(value)
    if problem:
        raise DomainError(code=ErrorCode.WEIGHT_INVALID, field=field,
                          message=WEIGHT_MESSAGES[problem] % {"label": label, "value": value})
    return number


def _clean_content(inputs: dict | None, outputs: dict | None) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Inputs {chemistry code: kg} and outputs {metal code: kg}, each weight checked; zero inputs dropped."""
    inputs, outputs = inputs or {}, outputs or {}
    if not isinstance(inputs, dict) or not isinstance(outputs, dict):
        raise DomainError(code=ErrorCode.INVALID, field="inputs" if not isinstance(inputs, dict) else "outputs",
                          message=_("Give the weights as an object of code → kilograms."))
    chemistries = dict(Chemistry.choices)
    metals = dict(Metal.choices)
    for key in inputs:
        if key not in chemistries:
            raise DomainError(code=ErrorCode.INVALID, field=f"input_{key}",
                              message=_("“%(key)s” is not a battery chemistry; use one of %(codes)s.")
                              % {"key": key, "codes": ", ".join(chemistries)})
    for key in outputs:
        if key not in metals:
            raise DomainError(code=ErrorCode.INVALID, field=f"output_{key}",
                              message=_("“%(key)s” is not a declared metal; use one of %(codes)s.")
                              % {"key": key, "codes": ", ".join(metals)})
    clean_inputs = {}
    for code, label in Chemistry.choices:
        weight = _clean_weight(inputs.get(code), field=f"input_{code}", label=label)
        if weight > 0:
            clean_inputs[code] = weight
    clean_outputs = {code: _clean_weight(outputs.get(code), field=f"output_{code}", label=label)
                     for code, label in Metal.choices}
    metal = recovery_rules.outputs_without_inputs(clean_inputs, clean_outputs)
    if metal is not None:
        raise DomainError(code=ErrorCode.RECOVERY_OUTPUT_WITHOUT_INPUT, field=f"output_{metal}",
                          message=_("%(metal)s recovered, but no input weight is declared: declare the weight of "
                                    "packs put into recovery by chemistry, or leave the outputs at 0.")
                          % {"metal": Metal(metal).label})
    return clean_inputs, clean_outputs


def _licence_date(month: dt.date) -> dt.date:
    """The licence must be in force on the last day of the month (today, for the current month)."""
    return min(rules.next_month(month) - dt.timedelta(days=1), timezone.localdate())


def _require_licensed(enterprise, month: dt.date, inputs: dict[str, Decimal]) -> None:
    """DOMAIN.md rule 3: only a licensed recycler recovers waste batteries, within its licence's chemistries."""
    from apps.enterprises.models import LicenceScope, RecyclerLicence
    from apps.enterprises.selectors import recycler_licence_in_force

    if not enterprise.has_role("recycler"):
        raise DomainError(code=ErrorCode.NOT_A_RECYCLER, status=403,
                          message=_("Only recyclers (comprehensive utilization enterprises) file recovery reports."))
    on_date = _licence_date(month)
    if not RecyclerLicence.objects.in_force_on(on_date).filter(enterprise=enterprise).exists():
        raise DomainError(code=ErrorCode.RECYCLER_NOT_LICENSED, field="month", status=409,
                          message=_("Your enterprise held no recycler licence in force on %(date)s; only licensed "
                                    "recyclers file recovery reports.") % {"date": on_date.isoformat()})
    for chemistry in inputs:
        if not any(recycler_licence_in_force(enterprise=enterprise, chemistry=chemistry, scope=scope,
                                             on_date=on_date)
                   for scope in (LicenceScope.HYDROMETALLURGY, LicenceScope.PYROMETALLURGY, LicenceScope.DISMANTLING)):
            raise DomainError(code=ErrorCode.RECYCLER_NOT_LICENSED, field=f"input_{chemistry}", status=409,
                              message=_("Your licence in force on %(date)s does not cover %(chemistry)s batteries.")
                              % {"date": on_date.isoformat(), "chemistry": Chemistry(chemistry).label})


def _period_must_be_free(enterprise, month: dt.date) -> None:
    live = (Filing.objects.filter(enterprise=enterprise, kind=FilingKind.RECOVERY_REPORT, period=month)
            .exclude(status=FilingStatus.REJECTED).first())
    if live is None:
        return
    if live.status == FilingStatus.APPROVED:
        raise DomainError(code=ErrorCode.REPORT_MONTH_APPROVED, field="month", status=409,
                          message=_("The recovery report for %(month)s was already approved; it can no longer be "
                                    "changed.") % {"month": month.strftime("%Y-%m")})
    raise DomainError(code=ErrorCode.REPORT_MONTH_DUPLICATE, field="month", status=409,
                      message=_("Your enterprise already has a recovery report for %(month)s (no. %(pk)s, "
                                "%(status)s): correct that one instead of filing a second.")
                      % {"month": month.strftime("%Y-%m"), "pk": live.pk, "status": live.get_status_display()})


def composition_fractions() -> dict[str, dict[str, Decimal]]:
    return {row.chemistry: row.fractions() for row in ChemistryComposition.objects.all()}


def _save_content(filing: Filing, report: RecoveryReport, inputs: dict, outputs: dict) -> None:
    fractions = composition_fractions()
    for code, value in outputs.items():
        setattr(report, f"output_{METAL_FIELDS[code]}", value)
    report.fractions = {chem: {metal: str(share) for metal, share in shares.items()}
                        for chem, shares in fractions.items()}
    report.save()
    RecoveryInput.objects.filter(report=report).delete()
    RecoveryInput.objects.bulk_create([RecoveryInput(report=report, chemistry=chem, weight_kg=weight)
                                       for chem, weight in inputs.items()])
    results = recovery_rules.recovery_assessment(inputs=inputs, outputs=outputs, fractions=fractions,
                                                 thresholds=thresholds())
    own = {recovery_rules.BELOW_THRESHOLD, recovery_rules.IMPOSSIBLE_YIELD}
    filing.flags = [f for f in (filing.flags or []) if f not in own] + recovery_rules.recovery_flags(results)


@service
def recovery_report_create(*, actor, month, inputs: dict, outputs: dict) -> Filing:
    """A draft recovery report of the actor's enterprise (a licensed recycler) for `month`."""
    from apps.enterprises.models import Enterprise

    _require_side(actor, rules.COMPANY)
    month = _clean_month(month)
    clean_inputs, clean_outputs = _clean_content(inputs, outputs)
    # Serialise the enterprise's filings: the duplicate check below cannot race.
    enterprise = Enterprise.objects.select_for_update().get(pk=actor.membership.enterprise_id)
    _require_licensed(enterprise, month, clean_inputs)
    _period_must_be_free(enterprise, month)
    due = rules.monthly_report_due_date(month, due_day=settings.FILINGS_MONTHLY_REPORT_DUE_DAY)
    try:
        with transaction.atomic():
            filing = Filing.objects.create(kind=FilingKind.RECOVERY_REPORT, enterprise=enterprise,
                                           province=enterprise.province, period=month, due_date=due,
                                           created_by=actor, updated_by=actor)
    except IntegrityError:
        _period_must_be_free(enterprise, month)
        raise
    report = RecoveryReport(filing=filing)
    _save_content(filing, report, clean_inputs, clean_outputs)
    filing.save(update_fields=["flags"])
    return filing


@service
def recovery_report_update(*, actor, filing_id, inputs: dict, outputs: dict) -> Filing:
    """Change the weights of a draft, or of a report returned for correction (the same row: never a second)."""
    _require_side(actor, rules.COMPANY)
    filing = _locked(actor, filing_id)
    if filing.kind != FilingKind.RECOVERY_REPORT:
        raise DomainError(code=ErrorCode.NOT_FOUND, message=_("Not found."), status=404)
    if filing.status not in rules.EDITABLE_STATUSES:
        raise DomainError(code=ErrorCode.FILING_NOT_EDITABLE, status=409,
                          message=_("Only a draft or a filing returned for correction can be changed."))
    clean_inputs, clean_outputs = _clean_content(inputs, outputs)
    _require_licensed(filing.enterprise, filing.period, clean_inputs)
    _save_content(filing, filing.recovery_report, clean_inputs, clean_outputs)
    filing.updated_by = actor
    filing.save(update_fields=["flags", "updated_by", "updated_at"])
    return filing


# --- the composition table (ADR 0014), changed by administrators ---------------------------------------------------

FRACTION_MESSAGES = {
    "not_number": _("%(label)s: “%(value)s” is not a share; give the mass fraction as a number from 0 to 1, e.g. "
                    "0.076 for 7.6 %%."),
    "out_of_range": _("%(label)s: a mass fraction is from 0 to 1 (%(value)s was given)."),
    "too_precise": _("%(label)s: give at most four decimals (0.01 %%; %(value)s was given)."),
}


@service
def chemistry_composition_set(*, actor, chemistry: str, fractions: dict, reason: str) -> ChemistryComposition:
    """An administrator sets a chemistry's typical mass fractions (ADR 0014). Each fraction is within 0–1 with at
    most four decimals, and together they are at most 1 (the metals cannot outweigh the pack); the reason is
    required. The change is recorded (who, when, old → new, why) in the same transaction; setting the same values
    records nothing. Reports already saved keep their snapshot (RecoveryReport.fractions); reports saved afterwards
    use the new values."""
    if actor is None or not actor.is_authenticated or not actor.is_active or actor.kind != "admin":
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403,
                          message=_("Only administrators change the composition table."))
    if chemistry not in Chemistry.values:
        raise DomainError(code=ErrorCode.COMPOSITION_INVALID, field="chemistry",
                          message=_("“%(value)s” is not a battery chemistry.") % {"value": chemistry})
    fractions = fractions or {}
    unknown = sorted(set(fractions) - set(METAL_FIELDS))
    if unknown:
        raise DomainError(code=ErrorCode.COMPOSITION_INVALID, field=unknown[0],
                          message=_("“%(value)s” is not a metal of the composition table.") % {"value": unknown[0]})
    clean: dict[str, Decimal] = {}
    for metal in Metal:
        value, problem = recovery_rules.fraction_problem(fractions.get(metal.value))
        if problem is not None:
            raise DomainError(code=ErrorCode.COMPOSITION_INVALID, field=metal.value,
                              message=FRACTION_MESSAGES[problem] % {"label": metal.label,
                                                                    "value": fractions.get(metal.value)})
        clean[metal.value] = value
    if recovery_rules.fractions_sum_problem(clean):
        raise DomainError(code=ErrorCode.COMPOSITION_INVALID, field="__all__",
                          message=_("Together the fractions make %(total)s: the metals of a pack cannot weigh more "
                                    "than the pack (at most 1).") % {"total": sum(clean.values(), Decimal(0))})
    reason = reject_markup((reason or "").strip(), field="reason")[:500]
    if not reason:
        raise DomainError(code=ErrorCode.REASON_REQUIRED, field="reason",
                          message=_("Say why the fractions change (e.g. the source of the new values)."))
    row = ChemistryComposition.objects.select_for_update().filter(chemistry=chemistry).first()
    if row is None:  # a chemistry added to the choices after the seeding migration
        row = ChemistryComposition.objects.create(chemistry=chemistry)
    old = row.fractions()
    if old == clean:
        return row
    for code, value in clean.items():
        setattr(row, METAL_FIELDS[code], value)
    row.save()
    ChemistryCompositionChange.objects.create(
        composition=row, old_fractions={k: str(v) for k, v in old.items()},
        new_fractions={k: str(v) for k, v in clean.items()}, reason=reason, actor=actor)
    return row
