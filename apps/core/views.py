import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.decorators import persona_required
from apps.core.errors import DomainError
from apps.core.forms import WorkdayCalculatorForm, WorkdayOverrideForm, add_domain_error
from apps.core.models import WorkdayOverride
from apps.core.paging import paginate
from apps.core.services import workday_override_delete, workday_override_set
from apps.core.workdays import WorkdayCalendar, package_years, working_deadline
from apps.enterprises.models import Enterprise, RecyclerLicence


def home(request):
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/home.html")


@login_required
def dashboard(request):
    """One landing page per persona: what this person has to do next."""
    user = request.user
    context = {}
    if user.kind == "company":
        enterprise = user.enterprise
        if enterprise is None or enterprise.status != Enterprise.Status.ACTIVE:
            return redirect("enterprises:application")
        context.update(
            enterprise=enterprise,
            staff_count=enterprise.memberships.filter(user__is_active=True).count(),
            key_count=enterprise.api_keys.filter(revoked_at__isnull=True).count(),
            codes=list(enterprise.manufacturer_codes.values_list("code", flat=True)),
            licences=enterprise.licences.all()[:5],
        )
        template = "core/dashboard_company.html"
    else:
        visible = Enterprise.objects.visible_to(user)
        context["status_counts"] = dict(visible.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        context["pending"] = visible.filter(status=Enterprise.Status.PENDING).order_by("created_at")[:10]
        today = timezone.localdate()
        context["licences_in_force"] = RecyclerLicence.objects.in_force_on(today).count()
        context["licences_expiring"] = (
            RecyclerLicence.objects.in_force_on(today)
            .filter(valid_to__lte=today + timezone.timedelta(days=90))
            .select_related("enterprise").order_by("valid_to")[:10]
        )
        template = "core/dashboard_admin.html" if user.kind == "admin" else "core/dashboard_reviewer.html"
    return render(request, template, context)


# --- the working-day calendar (admins) ----------------------------------------------------------------------


@persona_required("admin")
@require_http_methods(["GET", "POST"])
def workdays(request):
    """Admins enter each year's official holiday arrangement once it is published (and corrections); everyone's
    deadlines then count with it. The page says which years the chinesecalendar package already knows."""
    form = WorkdayOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            override = workday_override_set(actor=request.user, date=data["date"],
                                            is_workday=data["kind"] == "workday", note=data["note"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("%(date)s is now recorded as a %(kind)s.") % {
                "date": override.date.isoformat(),
                "kind": _("working day") if override.is_workday else _("day off")})
            return redirect("core:workdays")
    calculator = WorkdayCalculatorForm(request.GET or None)
    result = None
    calendar = WorkdayCalendar()
    if calculator.is_bound and calculator.is_valid():
        start, days = calculator.cleaned_data["start"], calculator.cleaned_data["days"]
        result = working_deadline(start, days, calendar=calendar)
    first, last = package_years()
    this_year = timezone.localdate().year
    years = [(year, calendar.is_described(year), first <= year <= last) for year in (this_year, this_year + 1)]
    page, query = paginate(request, WorkdayOverride.objects.select_related("updated_by").order_by("-date"))
    return render(request, "core/workdays.html", {
        "form": form, "calculator": calculator, "result": result, "first_year": first, "last_year": last,
        "years": years, "page": page, "query": query,
    })


@persona_required("admin")
@require_POST
def workday_delete(request, day: str):
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise Http404
    if not workday_override_delete(actor=request.user, date=date):
        raise Http404
    messages.success(request, _("The entry for %(date)s was removed; the official calendar decides that day again.")
                     % {"date": date.isoformat()})
    return redirect("core:workdays")
