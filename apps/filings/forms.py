"""Forms check shape only (present, a whole number, a month); the services decide everything else."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Province
from apps.filings.models import MONTHLY_COUNT_FIELDS, FilingKind, MonthlyReport
from apps.filings.selectors import OPEN_STATUS_CHOICES


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value):
        return value.strftime("%Y-%m") if hasattr(value, "strftime") else value


class MonthlyReportForm(forms.Form):
    month = forms.DateField(label=_("Month"), input_formats=["%Y-%m", "%Y-%m-%d"], widget=MonthInput,
                            help_text=_("The calendar month the counts cover (YYYY-MM)."))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["month"]
        for name, _kind in MONTHLY_COUNT_FIELDS:
            label = MonthlyReport._meta.get_field(name).verbose_name
            # Deliberately no min_value: the service names the rule (a count cannot be negative).
            self.fields[name] = forms.IntegerField(label=label.capitalize() if hasattr(label, "capitalize") else label,
                                                   initial=0, error_messages={
                                                       "invalid": _("A count is a whole number of packs.")})

    def counts(self) -> dict:
        return {name: self.cleaned_data[name] for name, _kind in MONTHLY_COUNT_FIELDS}


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    attachment = forms.FileField(label=_("Attachment (PDF, JPEG or PNG; optional)"), required=False)


class ResubmitForm(forms.Form):
    comment = forms.CharField(label=_("What did you correct?"), widget=forms.Textarea(attrs={"rows": 2}),
                              required=False, max_length=4000)


class DecisionForm(forms.Form):
    DECISIONS = [("approve", _("Approve")), ("return", _("Return for correction")), ("reject", _("Reject"))]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment to the enterprise (required to reject or return)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    confirm = forms.BooleanField(label=_("I have checked the filing against the ledger and confirm this decision."),
                                 required=False)


class AssignForm(forms.Form):
    reviewer = forms.ChoiceField(label=_("Assign to"))

    def __init__(self, *args, reviewers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [(u.pk, u.get_full_name() or u.username) for u in reviewers]


class QueueFilterForm(forms.Form):
    SORTS = [("risk", _("Risk (overdue, flagged, repeat offender, then oldest)")), ("oldest", _("Oldest first")),
             ("newest", _("Newest first"))]
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All"))] + list(FilingKind.choices))
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All"))] + list(Province.choices))
    search = forms.CharField(label=_("Enterprise (name or credit code)"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + OPEN_STATUS_CHOICES)
    older_than_days = forms.IntegerField(label=_("Waiting more than (days)"), required=False, min_value=0,
                                         max_value=3650)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)
    # Not shown: set by links from an enterprise's page.
    enterprise = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"kind": data["kind"] or None, "province": data["province"] or None,
                "enterprise": data["enterprise"], "search": data["search"] or None, "status": data["status"] or None,
                "older_than_days": data["older_than_days"], "sort": data["sort"] or "risk"}


class BulkActionForm(forms.Form):
    """The queue's bulk action: which filings (ticked rows), what to do, and to whom or why."""

    ACTIONS = [("claim", _("Claim them")), ("assign", _("Assign them to a reviewer")),
               ("return", _("Return them for correction"))]
    ids = forms.TypedMultipleChoiceField(coerce=int, required=True, error_messages={
        "required": _("Select at least one filing.")})
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    reviewer = forms.CharField(label=_("Reviewer (username)"), required=False, max_length=150,
                               widget=forms.TextInput(attrs={"list": "reviewer-options", "autocomplete": "off"}))
    comment = forms.CharField(label=_("Comment to the enterprise (required to return)"), required=False,
                              max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any whole numbers: the service decides which of them the reviewer may act on.
        data = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(v, v) for v in data if str(v).isdigit()][:400]
