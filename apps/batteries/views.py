"""Pages of the battery digital identity card: the list, the card itself, its public tier, the lifecycle actions,
the incoming handovers and the bulk uploads. All thin: forms check shape, services decide, and a battery or import
the viewer may not see is a 404, exactly like one that does not exist."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from apps.batteries import rules, selectors, services
from apps.batteries.forms import (
    BatterySearchForm,
    BulkImportForm,
    DeclareWasteForm,
    HandOverForm,
    InstallForm,
    ReceiveForm,
    RecycleForm,
    RefuseForm,
    RegisterForm,
    RemanufactureForm,
    ReplaceForm,
    SwapForm,
)
from apps.batteries.imports.columns import TEMPLATE_HEADERS
from apps.batteries.ledger import event_list
from apps.batteries.models import BatteryStatus, BulkImport, EventKind, FieldOfUse, ProductType
from apps.batteries.services.imports import DuplicateImport
from apps.core import exports
from apps.core.choices import Province
from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.forms import add_domain_error
from apps.core.paging import paginate
from apps.enterprises.models import Enterprise

CHILDREN_SHOWN = 200
ERRORS_SHOWN = 1000

# The public tier says what happened to the battery in plain words, never where or with whom.
PUBLIC_STATUS = {
    BatteryStatus.IN_STOCK: gettext_lazy("In stock, not in a vehicle"),
    BatteryStatus.INSTALLED: gettext_lazy("In service in a vehicle"),
    BatteryStatus.IN_TRANSIT: gettext_lazy("Being handed over between enterprises"),
    BatteryStatus.RECYCLED: gettext_lazy("Recycled (final disposal)"),
    BatteryStatus.REMANUFACTURED: gettext_lazy("Used in a remanufactured product"),
}


# --- reading ------------------------------------------------------------------------------------------------


# The columns of the list's export (apps.core.exports): streamed, so a national search exports in full.
BATTERY_COLUMNS = [
    exports.Column(gettext_lazy("Battery code"), "code"),
    exports.Column(gettext_lazy("Type"), "get_product_type_display"),
    exports.Column(gettext_lazy("Chemistry"), "get_chemistry_display"),
    exports.Column(gettext_lazy("Status"), "get_status_display"),
    exports.Column(gettext_lazy("Holder"), "holder.name"),
    exports.Column(gettext_lazy("Vehicle (VIN)"), "vehicle.vin"),
    exports.Column(gettext_lazy("Maker"), "maker.name"),
    exports.Column(gettext_lazy("Updated"), "updated_at"),
]

@login_required
def battery_list(request):
    form = BatterySearchForm(request.GET or None, user=request.user)
    qs = selectors.battery_list(actor=request.user, **form.filters())
    if response := exports.export_response(request, qs, BATTERY_COLUMNS, filename="batteries"):
        return response
    page, query = paginate(request, qs)
    return render(request, "batteries/list.html", {
        "form": form, "page": page, "query": query, "searched": bool(request.GET.get("q")),
        "is_company": request.user.kind == "company",
    })


@login_required
def battery_card(request, code: str):
    """The digital identity card: identity decoded from the code, where the battery is now, and its ledger."""
    try:
        battery = selectors.battery_get(actor=request.user, code=code)
    except NotFound:
        raise Http404
    if battery.code != code:
        return redirect("batteries:card", code=battery.code)
    events = list(event_list(battery))
    children = list(battery.children.order_by("code")[:CHILDREN_SHOWN])
    children_count = len(children) if len(children) < CHILDREN_SHOWN else battery.children.count()
    remanufacture = None
    if any(e.kind == EventKind.REMANUFACTURE_PRODUCED for e in events):
        remanufacture = selectors.battery_remanufacture(battery)
    try:
        used_in = battery.used_in.remanufacture.product
    except ObjectDoesNotExist:
        used_in = None
    public_url = _public_url(request, battery.code)
    return render(request, "batteries/card.html", {
        "battery": battery, "events": [(e, _event_details(e)) for e in events],
        "children": children, "children_count": children_count,
        "remanufacture": remanufacture, "used_in": used_in,
        "public_url": public_url, "qr": segno.make_qr(public_url, error="m").svg_data_uri(scale=4, border=2),
        "steps": _next_steps(request.user, battery),
    })


# How the details stored with an event are shown on the timeline. Keys not listed are shown as stored;
# previous_holder (an enterprise id kept for the record) is not shown.
DETAIL_LABELS = {
    "reason": gettext_lazy("Reason"),
    "parent": gettext_lazy("Contained in"),
    "replaced_by": gettext_lazy("Replaced by"),
    "replaces": gettext_lazy("Replaces"),
    "input_weight_kg": gettext_lazy("Input weight (kg)"),
    "licence": gettext_lazy("Licence"),
    "product": gettext_lazy("Product"),
    "sources": gettext_lazy("Sources"),
    "field_of_use": gettext_lazy("Field of use"),
    "standard": gettext_lazy("Quality standard"),
    "waste": gettext_lazy("Waste battery"),
}
HIDDEN_DETAILS = {"previous_holder"}


def _event_details(event) -> list[tuple[str, str]]:
    shown = []
    for key, value in (event.details or {}).items():
        if key in HIDDEN_DETAILS or value is False or value in ("", None, []):
            continue
        if key == "field_of_use" and value in FieldOfUse.values:
            value = FieldOfUse(value).label
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        shown.append((DETAIL_LABELS.get(key, key), value))
    return shown


def battery_public(request, code: str):
    """The public tier, like the EU battery passport's: what anyone holding the battery may know, nothing more."""
    try:
        battery = selectors.battery_public_get(code=code)
    except NotFound:
        return render(request, "batteries/public_not_found.html", {"code": code.upper()}, status=404)
    return render(request, "batteries/public.html", {
        "battery": battery, "status_text": PUBLIC_STATUS[battery.status],
    })


def _public_url(request, code: str) -> str:
    """The short, language-neutral address printed as a QR code (ASCII, absolute)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("batteries:public", kwargs={"code": code})
    return iri_to_uri(request.build_absolute_uri(path))


@dataclass(frozen=True)
class CardAction:
    name: str
    form: object
    url: str
    page: "ActionPage"


@dataclass
class NextSteps:
    """What the viewer's enterprise may do next with this battery: forms posting to the action pages, and links
    to pages that need more (another battery, a vehicle)."""

    forms: list
    links: list

    def __bool__(self) -> bool:
        return bool(self.forms or self.links)


def _next_steps(user, battery) -> NextSteps:
    """Offered actions only; the service still decides when one is posted. Regulators are read-only."""
    steps = NextSteps(forms=[], links=[])
    enterprise = user.enterprise if user.kind == "company" else None
    if enterprise is None or enterprise.status != Enterprise.Status.ACTIVE:
        return steps

    def allows(operation):
        return rules.role_allows(operation, enterprise.roles)

    def card_form(name, form_class, **kwargs):
        form = form_class(initial={"code": battery.code}, on_card=True, auto_id=f"{name}_%s", **kwargs)
        steps.forms.append(CardAction(name, form, reverse(f"batteries:{name}"), ACTIONS[name]))

    def link(name, label, **params):
        steps.links.append((reverse(f"batteries:{name}") + "?" + urlencode(params), label))

    if battery.status == BatteryStatus.IN_TRANSIT and battery.transit_to_id == enterprise.pk:
        card_form("receive", ReceiveForm)
        card_form("refuse", RefuseForm)
    if battery.holder_id != enterprise.pk:
        return steps
    if battery.status == BatteryStatus.INSTALLED and allows("swap"):
        link("swap", _("Swap this battery out"), vin=battery.vehicle.vin, out_code=battery.code)
    if battery.status != BatteryStatus.IN_STOCK:
        return steps
    if not battery.is_waste:
        if battery.product_type == ProductType.PACK and allows("install"):
            card_form("install", InstallForm)
        if allows("swap"):
            link("swap", _("Swap this battery into a vehicle"), in_code=battery.code)
        if allows("replace"):
            link("replace", _("Install this battery in a repair"), new_code=battery.code)
        if allows("declare_waste"):
            card_form("declare_waste", DeclareWasteForm)
    else:
        if allows("recycle"):
            card_form("recycle", RecycleForm)
        if allows("remanufacture"):
            link("remanufacture", _("Use in a remanufactured product"), source_codes=battery.code)
    if allows("hand_over"):
        card_form("hand_over", HandOverForm)
    return steps


# --- lifecycle actions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionPage:
    title: str
    submit: str
    intro: str = ""
    warning: str = ""
    danger: bool = False


ACTIONS = {
    "register": ActionPage(
        gettext_lazy("Register a battery"), gettext_lazy("Register"),
        gettext_lazy("Register a pack, module or cell when it leaves the factory. Many at once: use a bulk upload.")),
    "install": ActionPage(
        gettext_lazy("Install in a vehicle"), gettext_lazy("Record the installation"),
        gettext_lazy("Link a pack your enterprise holds to the vehicle it is installed in.")),
    "swap": ActionPage(
        gettext_lazy("Battery swap"), gettext_lazy("Record the swap"),
        gettext_lazy("A battery-swap model's battery is exchanged for one from your pool; the battery taken out "
                     "joins your pool.")),
    "replace": ActionPage(
        gettext_lazy("Replacement in a repair"), gettext_lazy("Record the replacement"),
        gettext_lazy("The vehicle's battery is removed and another installed; your enterprise then holds the one "
                     "removed and must hand it on only through the compliant channel.")),
    "declare_waste": ActionPage(
        gettext_lazy("Declare waste"), gettext_lazy("Declare waste"),
        warning=gettext_lazy("Declaring a battery waste cannot be undone."), danger=True),
    "hand_over": ActionPage(
        gettext_lazy("Hand over a battery"), gettext_lazy("Hand over"),
        gettext_lazy("The battery is in transit until the recipient receives or refuses it."),
        gettext_lazy("Waste batteries may go only to a collection point or to a licensed recycler whose licence is "
                     "in force and covers the battery's chemistry (Interim Measures, rule 3).")),
    "receive": ActionPage(gettext_lazy("Receive a battery"), gettext_lazy("Receive")),
    "refuse": ActionPage(
        gettext_lazy("Refuse a battery"), gettext_lazy("Refuse"),
        gettext_lazy("A refused battery goes back to the sender's stock."), danger=True),
    "recycle": ActionPage(
        gettext_lazy("Recycle (final disposal)"), gettext_lazy("Record the recycling"),
        gettext_lazy("Only a licensed recycler whose licence covers the chemistry records the final disposal of "
                     "a waste battery."), gettext_lazy("Recycling is final: the battery's life ends here."),
        danger=True),
    "remanufacture": ActionPage(
        gettext_lazy("Remanufacture"), gettext_lazy("Register the product"),
        gettext_lazy("Waste batteries become part of a new product with its own code, for a declared field of use "
                     "meeting a declared quality standard."),
        gettext_lazy("Electric bicycles are banned: products made from waste power batteries may never be used in "
                     "them, directly or after processing (Interim Measures).")),
}


def _initial(request, form_class) -> dict:
    """Fields pre-filled from the query string, e.g. from a link on the identity card."""
    return {k: v for k, v in request.GET.items() if k in form_class.base_fields}


def _role_gate(request, operation: str | None) -> None:
    """A page for a role the enterprise does not have is a 403: the answer depends on no battery."""
    enterprise = request.user.enterprise
    if operation and not rules.role_allows(operation, enterprise.roles):
        raise PermissionDenied


def _perform(request, form, call, *, own: tuple[str, ...] = ("code",), aliases: dict | None = None):
    """Call one service for a valid form. A code among `own` (batteries the actor must hold or be receiving)
    that is registered but not visible to the actor is a 404, as if unknown. A refusal is shown on the form, next
    to its field; returns None then."""
    data = form.cleaned_data
    codes = []
    for name in own:
        value = data.get(name)
        codes.extend(value if isinstance(value, list) else [value])
    if selectors.codes_hidden_from(actor=request.user, codes=codes):
        raise Http404
    try:
        return call(data)
    except NotFound:
        raise Http404
    except DomainError as exc:
        if aliases and exc.field in aliases:
            exc.field = aliases[exc.field]
        add_domain_error(form, exc)
        return None


def _render_action(request, name: str, form):
    return render(request, "batteries/action.html", {"form": form, "page": ACTIONS[name], "action": name})


def _done(request, message: str, code: str):
    messages.success(request, message)
    return redirect("batteries:card", code=code)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_register(request):
    _role_gate(request, "register")
    form = RegisterForm(request.POST or None, initial=_initial(request, RegisterForm))
    if request.method == "POST" and form.is_valid():
        battery = _perform(request, form, lambda d: services.battery_register(
            actor=request.user, code=d["code"], capacity_kwh=d["capacity_kwh"], weight_kg=d["weight_kg"],
            parent_code=d["parent_code"] or None, occurred_at=d["occurred_at"]), own=("parent_code",))
        if battery:
            return _done(request, _("Battery %(code)s was registered.") % {"code": battery.code}, battery.code)
    return _render_action(request, "register", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_install(request):
    _role_gate(request, "install")
    form = InstallForm(request.POST or None, initial=_initial(request, InstallForm))
    if request.method == "POST" and form.is_valid():
        battery = _perform(request, form, lambda d: services.battery_install(
            actor=request.user, code=d["code"], vin=d["vin"], model_name=d["model_name"],
            is_swap_model=d["is_swap_model"], occurred_at=d["occurred_at"]))
        if battery:
            return _done(request, _("Battery %(code)s was installed in vehicle %(vin)s.")
                         % {"code": battery.code, "vin": battery.vehicle.vin}, battery.code)
    return _render_action(request, "install", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_swap(request):
    _role_gate(request, "swap")
    form = SwapForm(request.POST or None, initial=_initial(request, SwapForm))
    if request.method == "POST" and form.is_valid():
        # The battery taken out may belong to another operator's pool until now: only the one put in must be ours.
        pair = _perform(request, form, lambda d: services.battery_swap(
            actor=request.user, vin=d["vin"], out_code=d["out_code"], in_code=d["in_code"],
            occurred_at=d["occurred_at"]), own=("in_code",))
        if pair:
            old, new = pair
            return _done(request, _("Vehicle %(vin)s: battery %(out)s was swapped out and %(in)s swapped in.")
                         % {"vin": form.cleaned_data["vin"], "out": old.code, "in": new.code}, new.code)
    return _render_action(request, "swap", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_replace(request):
    _role_gate(request, "replace")
    form = ReplaceForm(request.POST or None, initial=_initial(request, ReplaceForm))
    if request.method == "POST" and form.is_valid():
        pair = _perform(request, form, lambda d: services.battery_replace(
            actor=request.user, vin=d["vin"], old_code=d["old_code"], new_code=d["new_code"],
            occurred_at=d["occurred_at"]), own=("new_code",))
        if pair:
            old, new = pair
            return _done(request, _("Vehicle %(vin)s: battery %(old)s was removed and %(new)s installed.")
                         % {"vin": form.cleaned_data["vin"], "old": old.code, "new": new.code}, new.code)
    return _render_action(request, "replace", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_declare_waste(request):
    _role_gate(request, "declare_waste")
    form = DeclareWasteForm(request.POST or None, initial=_initial(request, DeclareWasteForm))
    if request.method == "POST" and form.is_valid():
        battery = _perform(request, form, lambda d: services.battery_declare_waste(
            actor=request.user, code=d["code"], reason=d["reason"], occurred_at=d["occurred_at"]))
        if battery:
            return _done(request, _("Battery %(code)s was declared waste.") % {"code": battery.code}, battery.code)
    return _render_action(request, "declare_waste", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_hand_over(request):
    _role_gate(request, "hand_over")
    form = HandOverForm(request.POST or None, initial=_initial(request, HandOverForm))
    if request.method == "POST" and form.is_valid():
        battery = _perform(request, form, lambda d: services.battery_hand_over(
            actor=request.user, code=d["code"], recipient=form.recipient_value(), occurred_at=d["occurred_at"]))
        if battery:
            return _done(request, _("Battery %(code)s was handed over to %(name)s. It is in transit until they "
                                    "receive it.") % {"code": battery.code, "name": battery.transit_to.name},
                         battery.code)
    return _render_action(request, "hand_over", form)


@persona_required("company")
@require_GET
def recipient_search(request):
    """The hand-over page's search box: JSON suggestions of recipients (credit code, name, province) for `q`."""
    _role_gate(request, "hand_over")
    if request.user.enterprise.status != "active":
        raise PermissionDenied
    rows = selectors.recipient_suggestions(actor=request.user, q=request.GET.get("q"))
    provinces = dict(Province.choices)
    results = [{"uscc": r["uscc"], "name": r["name"], "province": str(provinces.get(r["province"], r["province"]))}
               for r in rows]
    return JsonResponse({"results": results}, json_dumps_params={"ensure_ascii": False})


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_receive(request):
    form = ReceiveForm(request.POST or None, initial=_initial(request, ReceiveForm))
    if request.method == "POST" and form.is_valid():
        battery = _perform(request, form, lambda d: services.battery_receive(
            actor=request.user, code=d["code"], occurred_at=d["occurred_at"]))
        if battery:
            return _done(request, _("Battery %(code)s was received into your stock.") % {"code": battery.code},
                         battery.code)
    return _render_action(request, "receive", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_refuse(request):
    form = RefuseForm(request.POST or None, initial=_initial(request, RefuseForm))
    if request.method == "POST" and form.is_valid():
        battery = _perform(request, form, lambda d: services.battery_refuse(
            actor=request.user, code=d["code"], reason=d["reason"], occurred_at=d["occurred_at"]))
        if battery:
            # Refused, the battery is back with the sender and no longer ours to see: back to the incoming list.
            messages.success(request, _("Battery %(code)s was refused; it goes back to %(name)s.")
                             % {"code": battery.code, "name": battery.holder.name})
            return redirect("batteries:incoming")
    return _render_action(request, "refuse", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_recycle(request):
    _role_gate(request, "recycle")
    form = RecycleForm(request.POST or None, initial=_initial(request, RecycleForm))
    if request.method == "POST" and form.is_valid():
        battery = _perform(request, form, lambda d: services.battery_recycle(
            actor=request.user, code=d["code"], input_weight_kg=d["input_weight_kg"], occurred_at=d["occurred_at"]))
        if battery:
            return _done(request, _("Battery %(code)s was recorded as recycled (final disposal).")
                         % {"code": battery.code}, battery.code)
    return _render_action(request, "recycle", form)


@persona_required("company")
@require_http_methods(["GET", "POST"])
def battery_remanufacture(request):
    _role_gate(request, "remanufacture")
    form = RemanufactureForm(request.POST or None, initial=_initial(request, RemanufactureForm))
    if request.method == "POST" and form.is_valid():
        product = _perform(request, form, lambda d: services.battery_remanufacture(
            actor=request.user, source_codes=d["source_codes"], new_code=d["new_code"],
            field_of_use=d["field_of_use"], standard_number=d["standard_number"], capacity_kwh=d["capacity_kwh"],
            weight_kg=d["weight_kg"], occurred_at=d["occurred_at"]), own=("source_codes",))
        if product:
            return _done(request, _("Product %(code)s was registered, made from %(n)d waste batteries.")
                         % {"code": product.code, "n": len(form.cleaned_data["source_codes"])}, product.code)
    return _render_action(request, "remanufacture", form)


@persona_required("company")
def incoming(request):
    """Batteries handed over to us, waiting for us to receive or refuse them."""
    page, query = paginate(request, selectors.incoming_list(actor=request.user))
    return render(request, "batteries/incoming.html", {"page": page, "query": query})


# --- bulk uploads -------------------------------------------------------------------------------------------


@persona_required("company")
@require_http_methods(["GET", "POST"])
def uploads(request):
    form = BulkImportForm(request.POST or None, request.FILES or None)
    duplicate_of = None
    if request.method == "POST" and form.is_valid():
        try:
            record = services.bulk_import_create(actor=request.user, kind=form.cleaned_data["kind"],
                                                 upload=form.cleaned_data["file"])
        except DuplicateImport as exc:
            add_domain_error(form, exc)
            duplicate_of = exc.existing
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("File %(name)s was accepted as import #%(id)d; it is being checked.")
                             % {"name": record.original_name, "id": record.pk})
            return redirect("batteries:upload", pk=record.pk)
    page, query = paginate(request, selectors.bulk_import_list(actor=request.user))
    return render(request, "batteries/uploads.html", {
        "form": form, "page": page, "query": query, "duplicate_of": duplicate_of, "kinds": BulkImport.Kind.choices,
    })


def _own_import(request, pk: int) -> BulkImport:
    try:
        return selectors.bulk_import_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404


@persona_required("company")
def upload_detail(request, pk: int):
    record = _own_import(request, pk)
    return render(request, "batteries/upload_detail.html", {
        "imp": record, "errors": (record.errors or [])[:ERRORS_SHOWN],
    })


@persona_required("company")
@require_GET
def upload_progress(request, pk: int):
    """The progress fragment htmx polls every second. A finished import's fragment no longer polls, and tells
    the polling page to reload so that the result and the errors appear."""
    record = _own_import(request, pk)
    response = render(request, "batteries/_import_progress.html", {"imp": record})
    if record.is_finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@persona_required("company")
@require_GET
def upload_errors_file(request, pk: int):
    """Every error of an import as a file, served only to the enterprise that uploaded it (never as media)."""
    record = _own_import(request, pk)
    if not record.errors_file:
        raise Http404
    suffix = PurePath(record.errors_file.name).suffix or ".csv"
    return FileResponse(record.errors_file.open("rb"), as_attachment=True,
                        filename=f"import-{record.pk}-errors{suffix}",
                        content_type="text/csv; charset=utf-8" if suffix == ".csv" else None)


@persona_required("company")
@require_GET
def upload_template(request, kind: str):
    """An empty CSV with the header row of one kind of file (UTF-8 with BOM, so that Excel opens it right)."""
    if kind not in TEMPLATE_HEADERS:
        raise Http404
    buffer = io.StringIO()
    csv.writer(buffer).writerow(TEMPLATE_HEADERS[kind])
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batterytrace-{kind}-template.csv"'
    return response
