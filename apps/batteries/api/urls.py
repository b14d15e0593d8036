from django.urls import path

from apps.batteries.api import views

urlpatterns = [
    path("batteries/", views.BatteryListAPI.as_view(), name="api-batteries"),
    path("batteries/bulk/register/", views.BulkRegisterAPI.as_view(), name="api-batteries-bulk-register"),
    path("batteries/bulk/install/", views.BulkInstallAPI.as_view(), name="api-batteries-bulk-install"),
    path("batteries/bulk/hand-over/", views.BulkHandOverAPI.as_view(), name="api-batteries-bulk-hand-over"),
    path("batteries/<str:code>/", views.BatteryCardAPI.as_view(), name="api-battery"),
    path("batteries/<str:code>/events/", views.BatteryEventsAPI.as_view(), name="api-battery-events"),
    path("batteries/<str:code>/install/", views.BatteryInstallAPI.as_view(), name="api-battery-install"),
    path("batteries/<str:code>/declare-waste/", views.BatteryDeclareWasteAPI.as_view(),
         name="api-battery-declare-waste"),
    path("batteries/<str:code>/hand-over/", views.BatteryHandOverAPI.as_view(), name="api-battery-hand-over"),
    path("batteries/<str:code>/receive/", views.BatteryReceiveAPI.as_view(), name="api-battery-receive"),
    path("batteries/<str:code>/refuse/", views.BatteryRefuseAPI.as_view(), name="api-battery-refuse"),
    path("batteries/<str:code>/recycle/", views.BatteryRecycleAPI.as_view(), name="api-battery-recycle"),
    path("vehicles/<str:vin>/", views.VehicleAPI.as_view(), name="api-vehicle"),
    path("vehicles/<str:vin>/swap/", views.VehicleSwapAPI.as_view(), name="api-vehicle-swap"),
    path("vehicles/<str:vin>/replace/", views.VehicleReplaceAPI.as_view(), name="api-vehicle-replace"),
    path("remanufactures/", views.RemanufactureAPI.as_view(), name="api-remanufactures"),
    path("imports/", views.ImportListAPI.as_view(), name="api-imports"),
    path("imports/<int:pk>/", views.ImportDetailAPI.as_view(), name="api-import"),
    path("public/batteries/<str:code>/", views.PublicBatteryAPI.as_view(), name="api-public-battery"),
]
