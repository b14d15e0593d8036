from django.urls import path

from apps.reconciliation.api import views

urlpatterns = [
    path("discrepancies/", views.DiscrepancyListAPI.as_view(), name="api-discrepancies"),
    path("discrepancies/<int:pk>/", views.DiscrepancyDetailAPI.as_view(), name="api-discrepancy"),
    path("review/discrepancies/", views.DiscrepancyReviewListAPI.as_view(), name="api-review-discrepancies"),
]
