from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", include("config.api")),
]

# Pages: Chinese at /…, English at /en/…
urlpatterns += i18n_patterns(
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("", include("apps.enterprises.urls")),
    prefix_default_language=False,
)
# Uploaded files (business licences) are never served as static media: views check who may read them.
