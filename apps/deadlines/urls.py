from django.urls import path

from apps.deadlines import views

app_name = "deadlines"

urlpatterns = [
    path("deadlines/", views.due_overview, name="due"),
    path("deadlines/late-events/", views.late_events, name="late_events"),
    path("deadlines/settings/", views.deadline_settings, name="settings"),
    path("deadlines/settings/<str:duty>/", views.deadline_edit, name="edit"),
    path("review/overdue/", views.overdue, name="overdue"),
]
