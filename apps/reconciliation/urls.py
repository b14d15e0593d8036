from django.urls import path

from apps.reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("discrepancies/", views.discrepancy_list, name="list"),
    path("review/discrepancies/", views.review_list, name="review_list"),
]
