"""Admins manage the regulators' accounts: reviewers (optionally limited to provinces) and other admins."""
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import services
from apps.accounts.models import User
from apps.core.choices import Province
from apps.core import exports
from apps.core.decorators import persona_required
from apps.core.errors import DomainError, NotFound
from apps.core.exports import Column
from apps.core.forms import add_domain_error
from apps.core.paging import paginate


class RegulatorInviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[(User.Kind.REVIEWER, User.Kind.REVIEWER.label),
                                                                  (User.Kind.ADMIN, User.Kind.ADMIN.label)])
    provinces = forms.MultipleChoiceField(label=gettext_lazy("Provinces reviewed (none: national)"), required=False,
                                          choices=Province.choices, widget=forms.CheckboxSelectMultiple)


def _provinces_reviewed(user) -> str:
    if user.kind != User.Kind.REVIEWER:
        return ""
    labels = dict(Province.choices)
    return "; ".join(str(labels.get(p, p)) for p in user.reviewer_provinces) if user.reviewer_provinces \
        else str(gettext_lazy("National"))


REGULATOR_COLUMNS = [
    Column(gettext_lazy("User name"), "username"),
    Column(gettext_lazy("Full name"), "full_name"),
    Column(gettext_lazy("E-mail"), "email"),
    Column(gettext_lazy("Kind"), "get_kind_display"),
    Column(gettext_lazy("Provinces reviewed"), _provinces_reviewed),
    Column(gettext_lazy("Active"), "is_active"),
    Column(gettext_lazy("Last sign-in"), "last_login"),
]


@persona_required("admin")
@require_http_methods(["GET", "POST"])
def regulators(request):
    form = RegulatorInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.regulator_invite(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("accounts:regulators")
    qs = User.objects.filter(kind__in=[User.Kind.REVIEWER, User.Kind.ADMIN]).order_by("-is_active", "kind", "username")
    if response := exports.export_response(request, qs, REGULATOR_COLUMNS, filename="regulators"):
        return response
    page, query = paginate(request, qs)
    return render(request, "accounts/regulators.html", {"form": form, "page": page, "query": query,
                                                        "provinces": dict(Province.choices)})


@persona_required("admin")
@require_POST
def regulator_toggle(request, pk: int, active: bool):
    try:
        user = services.regulator_set_active(actor=request.user, user_id=pk, active=active)
    except NotFound:
        raise Http404
    except DomainError as exc:
        if exc.status == 403:
            raise PermissionDenied
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(user)s can sign in again.") % {"user": user} if active
                         else _("%(user)s can no longer sign in.") % {"user": user})
    return redirect("accounts:regulators")
