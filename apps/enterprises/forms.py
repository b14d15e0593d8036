from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Chemistry, Province
from apps.core.forms import DateInput
from apps.enterprises.models import Enterprise, EnterpriseRole, LicenceApplication, LicenceScope


class CompanyForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200)
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=40,
                           help_text=_("18 characters, as printed on the business licence."))
    province = forms.ChoiceField(label=_("Province"), choices=[("", "—")] + list(Province.choices))
    address = forms.CharField(label=_("Address"), max_length=300)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32)
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=EnterpriseRole.choices,
                                      widget=forms.CheckboxSelectMultiple)
    business_licence = forms.FileField(label=_("Business licence (PDF, at most 10 MB)"),
                                       widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))

    COMPANY_FIELDS = ("name", "uscc", "province", "address", "contact_name", "contact_phone", "contact_email", "roles")

    def company(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.COMPANY_FIELDS}


class RegistrationForm(CompanyForm):
    applicant_full_name = forms.CharField(label=_("Your full name"), max_length=100)
    applicant_username = forms.CharField(label=_("User name for signing in"), max_length=150)
    applicant_email = forms.EmailField(label=_("Your e-mail"))
    applicant_password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=10)
    applicant_password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput)
    confirm_truth = forms.BooleanField(label=_("I confirm that the information is true and complete."))

    def clean(self):
        data = super().clean()
        if data.get("applicant_password") and data.get("applicant_password") != data.get("applicant_password2"):
            self.add_error("applicant_password2", _("The two passwords differ."))
        return data


class ResubmitForm(CompanyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_licence"].required = False
        self.fields["business_licence"].label = _("New business licence (PDF; leave empty to keep the current one)")


class DecisionForm(forms.Form):
    DECISIONS = [("approve", _("Approve")), ("return", _("Return for correction")), ("reject", _("Reject"))]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment to the applicant"), widget=forms.Textarea(attrs={"rows": 3}),
                              required=False, max_length=2000)
    confirm = forms.BooleanField(label=_("I have checked the application and its business licence."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    confirm = forms.BooleanField(label=_("I understand this takes effect immediately."))


class ManufacturerCodeForm(forms.Form):
    code = forms.CharField(label=_("Manufacturer code (3 characters)"), max_length=10)


class LicenceGrantForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("Recycler"), queryset=Enterprise.objects.none())
    number = forms.CharField(label=_("Licence number"), max_length=64)
    scopes = forms.MultipleChoiceField(label=_("Scope"), choices=LicenceScope.choices, widget=forms.CheckboxSelectMultiple)
    chemistries = forms.MultipleChoiceField(label=_("Permitted chemistries"), choices=Chemistry.choices,
                                            widget=forms.CheckboxSelectMultiple)
    annual_capacity_tonnes = forms.DecimalField(label=_("Annual capacity (tonnes)"), max_digits=12, decimal_places=3)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)
    valid_to = forms.DateField(label=_("Valid to"), widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = Enterprise.objects.filter(
            roles__contains=["recycler"], status="active").order_by("name")


class LicenceActionForm(ReasonForm):
    ACTIONS = [("suspend", _("Suspend")), ("reinstate", _("Reinstate")), ("revoke", _("Revoke"))]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS, widget=forms.RadioSelect)


class RecyclerSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or licence number"), required=False, max_length=100)
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All provinces"))] + list(Province.choices))
    scope = forms.ChoiceField(label=_("Scope"), required=False, choices=[("", _("All scopes"))] + list(LicenceScope.choices))


class EnterpriseSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or credit code"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All statuses"))] + list(Enterprise.Status.choices))
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All provinces"))] + list(Province.choices))


class LicenceApplicationForm(forms.Form):
    """Shape only; the service names the rule a value breaks (capacity, dates, overlap, recycler role)."""

    number = forms.CharField(label=_("Licence number"), max_length=64,
                             help_text=_("As printed on the licence document issued by the provincial authority."))
    scopes = forms.MultipleChoiceField(label=_("Scope"), choices=LicenceScope.choices,
                                       widget=forms.CheckboxSelectMultiple)
    chemistries = forms.MultipleChoiceField(label=_("Chemistries"), choices=Chemistry.choices,
                                            widget=forms.CheckboxSelectMultiple)
    # Text, not a number field: the service says why a value is not a capacity.
    annual_capacity_tonnes = forms.CharField(label=_("Annual capacity (tonnes)"), max_length=30)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)
    valid_to = forms.DateField(label=_("Valid to"), widget=DateInput)
    address = forms.CharField(label=_("Plant address"), max_length=300)
    document = forms.FileField(label=_("Licence document (PDF)"))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["document"].required = False
            self.fields["document"].help_text = _("Leave empty to keep the document already attached.")

    def data_for_service(self) -> dict:
        return {k: self.cleaned_data[k] for k in LicenceApplication.TERMS}
