"""Forms of the recovery report and the explanation: shape only. Weights are taken as typed (text) so that the
service names the rule a bad one breaks (not a number, negative, more than three decimals), on its own field."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Chemistry
from apps.filings.forms import MonthInput
from apps.filings.models import Metal


def _weight_field(label) -> forms.CharField:
    return forms.CharField(label=label, required=False, initial="0", max_length=32,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))


class RecoveryReportForm(forms.Form):
    month = forms.DateField(label=_("Month"), input_formats=["%Y-%m", "%Y-%m-%d"], widget=MonthInput,
                            help_text=_("The calendar month the report covers (YYYY-MM)."))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["month"]
        for code, label in Chemistry.choices:
            self.fields[f"input_{code}"] = _weight_field(_("Input, %(chemistry)s (kg)") % {"chemistry": label})
        for code, label in Metal.choices:
            self.fields[f"output_{code}"] = _weight_field(_("%(metal)s recovered (kg)") % {"metal": label})

    def input_fields(self):
        return [self[f"input_{code}"] for code in Chemistry.values]

    def output_fields(self):
        return [self[f"output_{code}"] for code in Metal.values]

    def inputs(self) -> dict:
        return {code: self.cleaned_data[f"input_{code}"] for code in Chemistry.values}

    def outputs(self) -> dict:
        return {code: self.cleaned_data[f"output_{code}"] for code in Metal.values}

    @staticmethod
    def initial_from(report) -> dict:
        initial = {f"input_{code}": 0 for code in Chemistry.values}
        initial.update({f"input_{code}": weight for code, weight in report.inputs().items()})
        initial.update({f"output_{code}": weight for code, weight in report.outputs().items()})
        return initial


class ExplanationForm(forms.Form):
    text = forms.CharField(label=_("Explanation"), max_length=8000, widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_("What happened, why, and what your enterprise has done about it. Attach "
                                       "documents on the comment thread once the draft is saved."))


class CompositionForm(forms.Form):
    """An administrator's change of one chemistry's mass fractions (ADR 0014). Fractions are taken as typed (text):
    the service names the rule a bad one breaks (0–1, four decimals, a sum of at most 1)."""

    reason = forms.CharField(label=_("Reason for the change"), max_length=500,
                             help_text=_("e.g. the source of the new values; kept in the change history."),
                             error_messages={"required": _("Say why the fractions change.")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {}
        for metal in Metal:
            fields[metal.value] = forms.CharField(
                label=metal.label, required=False, max_length=32,
                help_text=_("Mass fraction of the whole pack, 0 to 1 (0.076 = 7.6 %)."),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        fields["reason"] = self.fields.pop("reason")
        self.fields.update(fields)

    @staticmethod
    def initial_from(composition) -> dict:
        return {code: str(share.normalize()) if share else "0" for code, share in composition.fractions().items()}

    def fractions(self) -> dict[str, str]:
        return {metal.value: self.cleaned_data.get(metal.value, "") for metal in Metal}
