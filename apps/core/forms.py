from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form, next to its field when the field is on the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


class DateInput(forms.DateInput):
    """A browser date picker. Its value is always ISO (YYYY-MM-DD), whatever the language: <input type=date>
    accepts nothing else, and the Chinese locale's first input format (2026/11/26) left the box empty, so a
    form opened to correct a saved date lost it."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):  # noqa: A002 — Django's argument name
        super().__init__(attrs, format=format or "%Y-%m-%d")


class WorkdayOverrideForm(forms.Form):
    KINDS = [("workday", _("Working day (e.g. a make-up working day on a weekend)")),
             ("day_off", _("Day off (e.g. a public holiday on a weekday)"))]

    date = forms.DateField(label=_("Date"), widget=DateInput)
    kind = forms.ChoiceField(label=_("This day is a"), choices=KINDS, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, max_length=200,
                           help_text=_("e.g. National Day holiday, or make-up working day for the Spring Festival."))


class WorkdayCalculatorForm(forms.Form):
    start = forms.DateField(label=_("Start date"), widget=DateInput)
    days = forms.IntegerField(label=_("Working days"), min_value=0, max_value=250, initial=15)
