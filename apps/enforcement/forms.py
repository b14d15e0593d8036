"""Forms check shape only; the services decide (amount rules, evidence ownership, four eyes)."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Province
from apps.core.forms import DateInput
from apps.enforcement.models import ActionKind, ActionStatus, Outcome

IDS_HELP = _("Numbers separated by commas or spaces.")


class ActionForm(forms.Form):
    enterprise = forms.IntegerField(label=_("Enterprise no."), min_value=1,
                                    help_text=_("The number shown on the enterprise's page in the review lists."))
    kind = forms.ChoiceField(label=_("Kind of action"), choices=ActionKind.choices, widget=forms.RadioSelect)
    # Text, not a number field: the service says what is wrong with the amount and which rule it breaks.
    amount = forms.CharField(label=_("Fine amount (yuan)"), required=False, max_length=20,
                             help_text=_("Only for a fine: more than 0, at most two decimals."))
    facts = forms.CharField(label=_("Facts"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000)
    legal_basis = forms.CharField(label=_("Legal basis"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    deadline = forms.DateField(label=_("Deadline to comply"), widget=DateInput)
    event_ids = forms.CharField(label=_("Ledger event numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                help_text=IDS_HELP)
    battery_codes = forms.CharField(label=_("Battery codes"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text=_("Each battery's events recorded by this enterprise are linked."))
    filing_ids = forms.CharField(label=_("Filing numbers"), required=False, help_text=IDS_HELP)
    discrepancy_ids = forms.CharField(label=_("Discrepancy numbers"), required=False, help_text=IDS_HELP)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["enterprise"]

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("kind", "amount", "facts", "legal_basis", "deadline", "event_ids",
                                              "battery_codes", "filing_ids", "discrepancy_ids")}


class ConfirmForm(forms.Form):
    comment = forms.CharField(label=_("Comment (optional)"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I have checked the facts, the legal basis and the evidence, and I approve "
                                         "issuing this sanction to the enterprise."), required=False)


class RefuseForm(forms.Form):
    comment = forms.CharField(label=_("Why it goes back to the drafter"), max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(forms.Form):
    text = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000,
                           required=False, help_text=_("What you did to comply, or why you disagree."))
    attachment = forms.FileField(label=_("Attachment (PDF, optional)"), required=False)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect, required=False)
    comment = forms.CharField(label=_("Comment to the enterprise"), max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I confirm closing this action; it cannot be reopened."), required=False)


class ListFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        help_text=_("Number, enterprise name or credit code, words of the facts"))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All"))] + list(ActionKind.choices))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + list(ActionStatus.choices))
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All"))] + list(Province.choices))
    enterprise = forms.IntegerField(label=_("Enterprise no."), required=False, min_value=1, max_value=10 ** 15)
    overdue = forms.BooleanField(label=_("Only overdue (issued, not answered by the deadline)"), required=False)

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"q": data["q"], "kind": data["kind"] or None, "status": data["status"] or None,
                "province": data["province"] or None, "enterprise": data["enterprise"], "overdue": data["overdue"]}


class DiscrepancyDecisionForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(label=_("Kind of action to draft"), choices=ActionKind.choices, required=False)
