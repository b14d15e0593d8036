"""Gate every page on the account's standing: 2FA for regulators, an active enterprise for company staff.

The API has the same gate as a DRF permission (apps.accounts.api.permissions); this one is for pages.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import resolve, reverse, Resolver404
from django.utils.http import urlencode
from django.utils.translation import gettext as _

# URL names a signed-in user may always reach, whatever their standing.
ALWAYS_OPEN = {
    "accounts:logout", "accounts:login", "set_language", "accounts:two_factor_setup", "accounts:two_factor_verify",
    "accounts:password_reset", "accounts:password_reset_done", "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
}
# Pages an applicant whose enterprise is not yet active may use: its application (and the business licence it
# uploaded, linked from there) and the public pages anyone may read.
APPLICANT_OPEN = ALWAYS_OPEN | {
    "enterprises:application", "enterprises:application_edit", "core:dashboard", "core:home",
    "enterprises:business_licence", "enterprises:licensed_recyclers",
    "batteries:public", "scrapping:verify",
    # the registration's comment thread (a filing; ADR 0016): write in it, open its attachments
    "enterprises:application_comment", "filings:attachment",
}


def _url_name(request) -> str | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return match.view_name


class AccountGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        path = request.path_info
        if user is None or not user.is_authenticated or path.startswith(("/api/", "/static/", "/media/")):
            return self.get_response(request)

        name = _url_name(request)
        if user.requires_two_factor and not user.is_verified():
            if name not in ALWAYS_OPEN:
                # Keep where they were going, so they land there once verified (verify checks it is local).
                verify = reverse("accounts:two_factor_verify")
                if request.method == "GET":
                    verify += "?" + urlencode({"next": request.get_full_path()})
                return redirect(verify)
        elif user.kind == "company":
            enterprise = user.enterprise
            if enterprise is None or enterprise.status == "suspended":
                reason = enterprise.status_reason if enterprise else ""
                logout(request)
                messages.error(request, _("Your enterprise is suspended: %(reason)s") % {"reason": reason or "-"})
                return redirect("accounts:login")
            if enterprise.status != "active" and name not in APPLICANT_OPEN:
                return redirect("enterprises:application")
        return self.get_response(request)
