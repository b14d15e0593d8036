from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from apps.enterprises.models import Membership


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "enterprise_suspended": _("Your enterprise is suspended: %(reason)s"),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        enterprise = user.enterprise if user.kind == "company" else None
        if enterprise is not None and enterprise.status == "suspended":
            raise forms.ValidationError(
                self.error_messages["enterprise_suspended"],
                code="enterprise_suspended",
                params={"reason": enterprise.status_reason or "-"},
            )


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("6-digit code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits shown by your authenticator app.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.FILER)


class APIKeyCreateForm(forms.Form):
    name = forms.CharField(label=_("Key name (e.g. the system that will use it)"), max_length=100)
