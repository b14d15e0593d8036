"""Forms of the scrapping pages. They check shape only; every rule — the VIN, the declarations, the identity
number, the photos, the battery codes and the check against the ledger — is decided by the service the view calls,
and its refusal is shown next to the field it names."""
from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.batteries.forms import VinField
from apps.core.choices import Province
from apps.core.forms import DateInput
from apps.scrapping.models import CertificateStatus, CheckOutcome, Decision, IntakeStatus, OwnerIdKind

CODE_SEPARATORS = re.compile(r"[\s,;，；、]+")


class IntakeForm(forms.Form):
    VEHICLE_KINDS = [("nev", _("New-energy vehicle (with a power battery)")), ("other", _("Not a new-energy vehicle"))]

    vin = VinField()
    vehicle_kind = forms.ChoiceField(label=_("Vehicle type"), choices=VEHICLE_KINDS, widget=forms.RadioSelect,
                                     initial="nev")
    plate_number = forms.CharField(label=_("Plate number"), max_length=16)
    engine_number = forms.CharField(label=_("Engine or motor number"), max_length=40)
    owner_id_kind = forms.ChoiceField(label=_("Owner's identity document"), choices=OwnerIdKind.choices,
                                      initial=OwnerIdKind.RESIDENT_ID)
    owner_id_number = forms.CharField(
        label=_("Owner's identity number"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Checked, then only a masked form (first 3 and last 4 characters) and a keyed hash are stored; "
                    "the number itself is never stored."))
    declared_not_mortgaged = forms.BooleanField(
        label=_("The owner declares that the vehicle is not mortgaged."), required=False)
    declared_not_stolen = forms.BooleanField(
        label=_("The owner declares that the vehicle has not been reported stolen or robbed."), required=False)
    battery_codes = forms.CharField(
        label=_("Codes of the power batteries found in the vehicle"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_("Type or scan each pack code, one per line. Leave empty if the vehicle arrived without its "
                    "battery, or is not a new-energy vehicle."))
    photo_front = forms.FileField(label=_("Photo of the vehicle's front (JPEG or PNG)"),
                                  widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}))
    photo_vin = forms.FileField(label=_("Photo of the VIN plate (JPEG or PNG)"),
                                widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}))
    received_on = forms.DateField(label=_("Taken in on"), required=False, widget=DateInput,
                                  help_text=_("Leave empty for today."))
    explanation = forms.CharField(
        label=_("Explanation (if the batteries differ from the ledger)"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. the owner says the battery was replaced at a repair shop. A reviewer reads it."))

    def clean_battery_codes(self) -> list[str]:
        # Split only: duplicates are kept, so the service can say which entries repeat.
        return [c for c in CODE_SEPARATORS.split(self.cleaned_data["battery_codes"] or "") if c]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "vin": data["vin"], "plate_number": data["plate_number"], "engine_number": data["engine_number"],
            "is_nev": data["vehicle_kind"] == "nev", "owner_id_kind": data["owner_id_kind"],
            "owner_id_number": data["owner_id_number"], "declared_not_mortgaged": data["declared_not_mortgaged"],
            "declared_not_stolen": data["declared_not_stolen"], "battery_codes": data["battery_codes"],
            "photo_front": data["photo_front"], "photo_vin": data["photo_vin"], "received_on": data["received_on"],
            "explanation": data["explanation"],
        }


class PhotoForm(forms.Form):
    KINDS = [("front", _("Front of the vehicle")), ("vin", _("VIN plate"))]
    kind = forms.ChoiceField(label=_("Photo of"), choices=KINDS)
    file = forms.FileField(label=_("Photo (JPEG or PNG)"),
                           widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}))


class ExplanationForm(forms.Form):
    explanation = forms.CharField(label=_("Your explanation for the reviewer"), max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class IssueForm(forms.Form):
    number = forms.CharField(label=_("Certificate number"), max_length=64,
                             help_text=_("Exactly as printed by the commerce ministry's system."))
    confirm = forms.BooleanField(label=_("I confirm: the vehicle becomes scrapped and its batteries are removed in "
                                         "the ledger. This cannot be undone."))


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason for voiding"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("e.g. the vehicle was reported stolen."))
    confirm = forms.BooleanField(label=_("I confirm the voiding: the public verification page will say the "
                                         "certificate is void."))


class ReissueForm(forms.Form):
    number = forms.CharField(label=_("New certificate number"), max_length=64,
                             help_text=_("From the commerce ministry's system; the old number stays used."))
    reason = forms.CharField(label=_("Reason for the re-issue"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I confirm the re-issue: the current certificate becomes void."))


class IntakeSearchForm(forms.Form):
    q = forms.CharField(label=_("VIN or plate number"), required=False, max_length=40)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")),
                                                                          *IntakeStatus.choices])
    outcome = forms.ChoiceField(label=_("Battery check"), required=False, choices=[("", _("Any result")),
                                                                                  *CheckOutcome.choices])
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All provinces")),
                                                                               *Province.choices])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.kind == "company":
            del self.fields["province"]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {"q": data.get("q") or None, "status": data.get("status") or None,
                "outcome": data.get("outcome") or None, "province": data.get("province") or None}


class CertificateSearchForm(forms.Form):
    DEADLINES = [("", _("Any")), ("open", _("Batteries still to hand on")), ("overdue", _("Handover overdue"))]

    q = forms.CharField(label=_("VIN or certificate number"), required=False, max_length=64)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")),
                                                                          *CertificateStatus.choices])
    deadline = forms.ChoiceField(label=_("Handover"), required=False, choices=DEADLINES)
    province = forms.ChoiceField(label=_("Province"), required=False, choices=[("", _("All provinces")),
                                                                               *Province.choices])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.kind == "company":
            del self.fields["province"]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {"q": data.get("q") or None, "status": data.get("status") or None,
                "deadline": data.get("deadline") or None, "province": data.get("province") or None}


class IntakeFileForm(forms.Form):
    file = forms.FileField(
        label=_("File of vehicles (CSV or XLSX)"), allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-"
                                                         "officedocument.spreadsheetml.sheet"}),
        help_text=_("One vehicle per row, with the header row of the template. CSV in UTF-8 or GBK, or an Excel "
                    "workbook (first sheet)."))
