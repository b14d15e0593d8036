from django.urls import path

from apps.reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("discrepancies/", views.discrepancy_list, name="list"),
    path("review/discrepancies/", views.review_list, name="review_list"),
    path("review/reconciliation-runs/", views.runs, name="runs"),
    path("review/reconciliation-runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("discrepancies/<int:pk>/", views.discrepancy_detail, name="detail"),
    path("review/discrepancies/<int:pk>/", views.review_detail, name="review_detail"),
    path("oversight/", views.enterprise_dashboard, name="dashboard"),
    path("oversight/data.json", views.enterprise_dashboard_data, name="dashboard_data"),
    path("oversight/<slug:chart>.csv", views.enterprise_dashboard_csv, name="dashboard_csv"),
    path("review/oversight/", views.review_dashboard, name="review_dashboard"),
    path("review/oversight/data.json", views.review_dashboard_data, name="review_dashboard_data"),
    path("review/oversight/<slug:chart>.csv", views.review_dashboard_csv, name="review_dashboard_csv"),
]
