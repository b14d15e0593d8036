from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path, re_path
from django.views.i18n import set_language

from apps.core.api import api_not_found

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", include("config.api")),
    re_path(r"^api/", api_not_found),
]

# Pages: Chinese at /…, English at /en/…
urlpatterns += i18n_patterns(
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("", include("apps.enterprises.urls")),
    path("", include("apps.batteries.urls")),
    path("", include("apps.filings.urls")),
    path("", include("apps.deadlines.urls")),
    path("", include("apps.scrapping.urls")),
    path("", include("apps.reconciliation.urls")),
    path("", include("apps.enforcement.urls")),
    prefix_default_language=False,
)
# Uploaded files (business licences) are never served as static media: views check who may read them.
