"""/api/v1/: every API route in one place, so the schema and the isolation sweep see them all."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("apps.enterprises.api.urls")),
    path("", include("apps.batteries.api.urls")),
    path("", include("apps.filings.api.urls")),
    path("", include("apps.deadlines.api.urls")),
    path("", include("apps.scrapping.api.urls")),
    path("", include("apps.reconciliation.api.urls")),
    path("", include("apps.enforcement.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
