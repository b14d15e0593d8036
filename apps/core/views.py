from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone

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
