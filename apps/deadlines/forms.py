"""Forms check shape only; the services decide."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.batteries.models import EventKind
from apps.core.choices import Province
from apps.deadlines.rules import DUTY_SCOPE, PERIODIC_REPORTS
from apps.filings.models import FilingKind


class DeadlineForm(forms.Form):
    # Deliberately no min/max: the service names the rule (1–250 working days).
    working_days = forms.IntegerField(label=_("Working days"), error_messages={
        "invalid": _("A deadline is a whole number of working days.")})
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500,
                             help_text=_("e.g. the 2026 Interim Measures' implementing rules"))


class MonthField(forms.DateField):
    def __init__(self, **kwargs):
        from apps.filings.forms import MonthInput

        super().__init__(input_formats=["%Y-%m", "%Y-%m-%d"], widget=MonthInput, **kwargs)


DEADLINE_KINDS = sorted({k for _role, kinds in DUTY_SCOPE.values() for k in kinds})


class OverdueFilterForm(forms.Form):
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All"))] + list(Province.choices))
    enterprise = forms.IntegerField(label=_("Enterprise no."), required=False, min_value=1)
    report_kind = forms.ChoiceField(label=_("Report"), required=False, choices=[("", _("All"))] + [
        (k, label) for k, label in FilingKind.choices if k in PERIODIC_REPORTS])
    kind = forms.ChoiceField(label=_("Event"), required=False, choices=[("", _("All"))] + [
        (k, label) for k, label in EventKind.choices if k in DEADLINE_KINDS])
    month = MonthField(label=_("Month of the events"), required=False)

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {"province": None, "enterprise": None, "report_kind": None, "kind": None, "month": None}
        data = self.cleaned_data
        return {"province": data["province"] or None, "enterprise": data["enterprise"],
                "report_kind": data["report_kind"] or None, "kind": data["kind"] or None, "month": data["month"]}


class LateEventFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Event"), choices=[(k, label) for k, label in EventKind.choices
                                                        if k in DEADLINE_KINDS])
    month = MonthField(label=_("Month"))
    enterprise = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
