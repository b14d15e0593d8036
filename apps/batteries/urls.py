from django.urls import path, register_converter

from apps.batteries import views

app_name = "batteries"


class BatteryCodeConverter:
    """Letters and digits, any case (a scanned or typed code); the views look it up in upper case. Wider than a
    valid code on purpose: a mistyped code on the public page gets the friendly 'not found', not a bare 404."""

    regex = "[0-9A-Za-z]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(BatteryCodeConverter, "battery_code")

urlpatterns = [
    path("batteries/", views.battery_list, name="list"),
    path("batteries/incoming/", views.incoming, name="incoming"),
    path("batteries/register/", views.battery_register, name="register"),
    path("batteries/install/", views.battery_install, name="install"),
    path("batteries/swap/", views.battery_swap, name="swap"),
    path("batteries/replace/", views.battery_replace, name="replace"),
    path("batteries/declare-waste/", views.battery_declare_waste, name="declare_waste"),
    path("batteries/hand-over/", views.battery_hand_over, name="hand_over"),
    path("batteries/hand-over/recipients/", views.recipient_search, name="recipient_search"),
    path("batteries/receive/", views.battery_receive, name="receive"),
    path("batteries/refuse/", views.battery_refuse, name="refuse"),
    path("batteries/recycle/", views.battery_recycle, name="recycle"),
    path("batteries/remanufacture/", views.battery_remanufacture, name="remanufacture"),
    path("batteries/uploads/", views.uploads, name="uploads"),
    path("batteries/uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("batteries/uploads/<int:pk>/progress/", views.upload_progress, name="upload_progress"),
    path("batteries/uploads/<int:pk>/errors/", views.upload_errors_file, name="upload_errors"),
    path("batteries/uploads/template/<slug:kind>.csv", views.upload_template, name="upload_template"),
    path("batteries/<battery_code:code>/", views.battery_card, name="card"),
    # The short public address printed as a QR code on the battery (with or without a trailing slash).
    path("b/<battery_code:code>", views.battery_public, name="public"),
    path("b/<battery_code:code>/", views.battery_public),
]
