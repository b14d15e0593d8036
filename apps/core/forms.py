from django import forms

from apps.core.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form, next to its field when the field is on the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


class DateInput(forms.DateInput):
    input_type = "date"
