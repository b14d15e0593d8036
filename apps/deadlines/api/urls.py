from django.urls import path

from apps.deadlines.api import views

urlpatterns = [
    path("deadlines/due/", views.DueAPI.as_view(), name="api-deadlines-due"),
    path("deadlines/late-events/", views.LateEventsAPI.as_view(), name="api-deadlines-late-events"),
    path("deadlines/overdue/", views.OverdueReportsAPI.as_view(), name="api-deadlines-overdue"),
    path("deadlines/overdue/events/", views.OverdueEventsAPI.as_view(), name="api-deadlines-overdue-events"),
]
