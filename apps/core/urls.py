from django.urls import path

from apps.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("calendar/workdays/", views.workdays, name="workdays"),
    path("calendar/workdays/<str:day>/delete/", views.workday_delete, name="workday_delete"),
]
