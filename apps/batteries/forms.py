"""Forms of the battery pages. They check shape only (present, a number, one of the choices); every rule —
whose battery it is, which code is valid, who may receive a waste battery — is decided by the service the view
calls, and its refusal is shown next to the field it names."""
from __future__ import annotations

import re

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from apps.batteries.models import BatteryStatus, BulkImport, FieldOfUse, ProductType
from apps.core.choices import Chemistry
from apps.enterprises.models import Enterprise
from apps.core.text import ascii_upper, ascii_upper_compact


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class CodeField(forms.CharField):
    """A battery code as typed or scanned: spaces dropped, upper case. The service checks it character by
    character and says which position is wrong."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Battery code"))
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_python(self, value):
        return ascii_upper_compact(super().to_python(value))


class VinField(CodeField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Vehicle identification number (VIN)"))
        kwargs.setdefault("help_text", _("17 characters, as on the vehicle's certificate of conformity."))
        super().__init__(**kwargs)


def occurred_at_field():
    return forms.DateTimeField(
        label=_("When it happened"), required=False, widget=DateTimeInput,
        help_text=_("Leave empty if it happened just now. Report each event within your role's deadline."))


def confirm_field(label):
    return forms.BooleanField(label=label)


class ActionForm(forms.Form):
    """A lifecycle action. On the identity card the battery is already known: its code travels as a hidden field
    and the event time is 'now'; the full action page shows every field."""

    hidden_on_card: tuple[str, ...] = ("code",)

    def __init__(self, *args, on_card: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_card = on_card
        if on_card:
            for name in self.hidden_on_card:
                self.fields[name].widget = forms.HiddenInput()
            self.fields.pop("occurred_at", None)


class RegisterForm(ActionForm):
    code = CodeField(help_text=_("The 24-character GB/T 34014 code; positions 1-3 must be one of your manufacturer "
                                 "codes."))
    capacity_kwh = forms.DecimalField(label=_("Rated capacity (kWh)"), required=False, max_digits=12,
                                      decimal_places=3)
    weight_kg = forms.DecimalField(label=_("Weight (kg)"), required=False, max_digits=13, decimal_places=3)
    parent_code = CodeField(label=_("Contained in (code of the pack or module)"), required=False,
                            help_text=_("For a module or cell: the code of your pack or module that contains it."))
    occurred_at = occurred_at_field()


class InstallForm(ActionForm):
    code = CodeField()
    vin = VinField()
    model_name = forms.CharField(label=_("Vehicle model"), required=False, max_length=100,
                                 help_text=_("Vehicle makers: recorded when the VIN is new to the portal."))
    is_swap_model = forms.BooleanField(label=_("Battery-swap model"), required=False)
    occurred_at = occurred_at_field()


class SwapForm(ActionForm):
    hidden_on_card = ()
    vin = VinField()
    out_code = CodeField(label=_("Code of the battery taken out"))
    in_code = CodeField(label=_("Code of the battery put in (from your pool)"))
    occurred_at = occurred_at_field()


class ReplaceForm(ActionForm):
    hidden_on_card = ()
    vin = VinField()
    old_code = CodeField(label=_("Code of the battery removed"))
    new_code = CodeField(label=_("Code of the battery installed"))
    occurred_at = occurred_at_field()


class DeclareWasteForm(ActionForm):
    code = CodeField()
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))
    confirm = confirm_field(_("I understand this is irreversible: a waste battery is never installed in a vehicle "
                              "again and may go only to a collection point or a licensed recycler."))
    occurred_at = occurred_at_field()


class RecipientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.uscc})"


class HandOverForm(ActionForm):
    """The recipient is typed: its unified social credit code (or, from the suggestions the search box offers as
    one types part of a name or code, the code filled in). Whether it names an active enterprise that may receive
    the battery is the service's decision (resolve_recipient, rule 3), shown on this field."""

    code = CodeField()
    recipient = forms.CharField(
        label=_("Recipient"), max_length=40,
        help_text=_("Type its unified social credit code, or part of its name or code and choose from the "
                    "suggestions."),
        error_messages={"required": _("Give the recipient's unified social credit code.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "data-recipient-search": reverse_lazy("batteries:recipient_search")}))
    occurred_at = occurred_at_field()

    def clean_recipient(self) -> str:
        return ascii_upper_compact(self.cleaned_data.get("recipient"))

    def recipient_value(self):
        """What the service resolves: a credit code (or an enterprise id, as the API accepts)."""
        return self.cleaned_data["recipient"]


class ReceiveForm(ActionForm):
    code = CodeField()
    occurred_at = occurred_at_field()


class RefuseForm(ActionForm):
    code = CodeField()
    reason = forms.CharField(label=_("Reason for refusing"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    occurred_at = occurred_at_field()


class RecycleForm(ActionForm):
    code = CodeField()
    input_weight_kg = forms.DecimalField(label=_("Input weight (kg)"), max_digits=13, decimal_places=3,
                                         help_text=_("Weighed at intake for disposal; reconciled later against the "
                                                     "materials recovered."))
    confirm = confirm_field(_("I confirm the final disposal of this battery. This is irreversible."))
    occurred_at = occurred_at_field()


class RemanufactureForm(ActionForm):
    hidden_on_card = ()
    source_codes = forms.CharField(
        label=_("Codes of the waste batteries used"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One code per line. Each must be a waste battery your enterprise holds."))
    new_code = CodeField(label=_("Code of the new product"),
                         help_text=_("A 24-character code with one of your manufacturer codes."))
    field_of_use = forms.ChoiceField(
        label=_("Field of use"), choices=[("", "—"), *FieldOfUse.choices],
        help_text=_("Products made from waste power batteries must meet the quality standard of their field of use. "
                    "Using them in electric bicycles, directly or after processing, is banned, as is any field "
                    "banned by law or a mandatory standard."))
    standard_number = forms.CharField(label=_("Quality standard number"), max_length=64,
                                      help_text=_("The standard the product meets, e.g. GB/T 36276-2018."))
    capacity_kwh = forms.DecimalField(label=_("Rated capacity (kWh)"), required=False, max_digits=12,
                                      decimal_places=3)
    weight_kg = forms.DecimalField(label=_("Weight (kg)"), required=False, max_digits=13, decimal_places=3)
    occurred_at = occurred_at_field()

    def clean_source_codes(self) -> list[str]:
        codes = [ascii_upper(c) for c in re.split(r"[\s,;，；]+", self.cleaned_data["source_codes"]) if c]
        return list(dict.fromkeys(codes))


class BatterySearchForm(forms.Form):
    WASTE_CHOICES = [("", _("Waste or not")), ("yes", _("Waste only")), ("no", _("Not waste"))]

    q = forms.CharField(label=_("Battery code or VIN"), required=False, max_length=64,
                        help_text=_("A full code, the start of one, or a VIN."))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")),
                                                                          *BatteryStatus.choices])
    chemistry = forms.ChoiceField(label=_("Chemistry"), required=False, choices=[("", _("Any chemistry")),
                                                                                *Chemistry.choices])
    product_type = forms.ChoiceField(label=_("Product type"), required=False, choices=[("", _("Any type")),
                                                                                      *ProductType.choices])
    waste = forms.ChoiceField(label=_("Waste"), required=False, choices=WASTE_CHOICES)
    holder = RecipientChoiceField(label=_("Holder"), required=False, queryset=Enterprise.objects.none(),
                                  empty_label=_("Any holder"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.kind in ("reviewer", "admin"):
            self.fields["holder"].queryset = (Enterprise.objects.visible_to(user).only("pk", "name", "uscc")
                                              .order_by("name", "pk"))
        else:
            del self.fields["holder"]  # company staff see their own holdings and what they made

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "q": data.get("q") or None, "status": data.get("status") or None,
            "chemistry": data.get("chemistry") or None, "product_type": data.get("product_type") or None,
            "is_waste": {"yes": True, "no": False}.get(data.get("waste")), "holder": data.get("holder"),
        }


class BulkImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file contains"), choices=BulkImport.Kind.choices)
    file = forms.FileField(label=_("File (.csv or .xlsx)"),
                           widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
                           help_text=_("Start from the template of the kind you upload. The whole file is applied, "
                                       "or nothing of it."))
