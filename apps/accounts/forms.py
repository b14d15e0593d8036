import unicodedata

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
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


class PasswordResetForm(DjangoPasswordResetForm):
    """Django skips accounts without a usable password. Here those are only invited people who have not chosen
    one yet (their invitation link may have expired, and the address cannot be invited again), so include them;
    deactivated accounts stay excluded."""

    def get_users(self, email):
        def fold(value):
            return unicodedata.normalize("NFKC", value).casefold()

        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        return (u for u in users if fold(u.email) == fold(email))


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
