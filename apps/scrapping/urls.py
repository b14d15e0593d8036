from django.urls import path

from apps.scrapping import views

app_name = "scrapping"

urlpatterns = [
    path("scrapping/intakes/", views.intake_list, name="intakes"),
    path("scrapping/intakes/new/", views.intake_new, name="intake_new"),
    path("scrapping/intakes/file/", views.intake_file_upload, name="intake_file"),
    path("scrapping/intakes/file/template.csv", views.intake_file_template, name="intake_file_template"),
    path("scrapping/intakes/files/<int:pk>/", views.intake_file_result, name="intake_file_result"),
    path("scrapping/intakes/files/<int:pk>/errors.csv", views.intake_file_errors, name="intake_file_errors"),
    path("scrapping/intakes/<int:pk>/", views.intake_detail, name="intake"),
    path("scrapping/intakes/<int:pk>/issue/", views.intake_issue, name="intake_issue"),
    path("scrapping/intakes/<int:pk>/photos/", views.intake_photo, name="intake_photo"),
    path("scrapping/intakes/<int:pk>/photos/<slug:kind>/", views.intake_photo_file, name="intake_photo_file"),
    path("scrapping/intakes/<int:pk>/explanation/", views.intake_explain, name="intake_explain"),
    path("scrapping/intakes/<int:pk>/withdraw/", views.intake_withdraw, name="intake_withdraw"),
    path("scrapping/intakes/<int:pk>/decision/", views.intake_decide, name="intake_decide"),
    path("scrapping/leads/", views.lead_list, name="leads"),
    path("scrapping/certificates/", views.certificate_list, name="certificates"),
    path("scrapping/certificates/<int:pk>/", views.certificate_detail, name="certificate"),
    path("scrapping/certificates/<int:pk>/void/", views.certificate_void, name="certificate_void"),
    path("scrapping/certificates/<int:pk>/reissue/", views.certificate_reissue, name="certificate_reissue"),
    path("scrapping/certificates/<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
    # The public verification address printed as a QR code on the certificate (with or without a slash).
    path("verify/<str:token>", views.verify, name="verify"),
    path("verify/<str:token>/", views.verify),
]
