from django.urls import path

from apps.scrapping.api import views

urlpatterns = [
    path("scrapping/intakes/", views.IntakeListAPI.as_view(), name="api-scrapping-intakes"),
    path("scrapping/intakes/bulk/", views.IntakeBulkAPI.as_view(), name="api-scrapping-intakes-bulk"),
    path("scrapping/intakes/file/", views.IntakeFileAPI.as_view(), name="api-scrapping-intakes-file"),
    path("scrapping/intakes/<int:pk>/", views.IntakeDetailAPI.as_view(), name="api-scrapping-intake"),
    path("scrapping/intakes/<int:pk>/photos/", views.IntakePhotoAPI.as_view(), name="api-scrapping-intake-photos"),
    path("scrapping/intakes/<int:pk>/photos/<str:kind>/", views.IntakePhotoFileAPI.as_view(),
         name="api-scrapping-intake-photo"),
    path("scrapping/intakes/<int:pk>/explanation/", views.IntakeExplanationAPI.as_view(),
         name="api-scrapping-intake-explanation"),
    path("scrapping/intakes/<int:pk>/withdraw/", views.IntakeWithdrawAPI.as_view(),
         name="api-scrapping-intake-withdraw"),
    path("scrapping/intakes/<int:pk>/decision/", views.IntakeDecisionAPI.as_view(),
         name="api-scrapping-intake-decision"),
    path("scrapping/intakes/<int:pk>/certificate/", views.IntakeCertificateAPI.as_view(),
         name="api-scrapping-intake-certificate"),
    path("scrapping/leads/summary/", views.LeadSummaryAPI.as_view(), name="api-scrapping-leads-summary"),
    path("scrapping/certificates/", views.CertificateListAPI.as_view(), name="api-scrapping-certificates"),
    path("scrapping/certificates/<int:pk>/", views.CertificateDetailAPI.as_view(), name="api-scrapping-certificate"),
    path("scrapping/certificates/<int:pk>/pdf/", views.CertificatePdfAPI.as_view(),
         name="api-scrapping-certificate-pdf"),
    path("scrapping/certificates/<int:pk>/void/", views.CertificateVoidAPI.as_view(),
         name="api-scrapping-certificate-void"),
    path("scrapping/certificates/<int:pk>/reissue/", views.CertificateReissueAPI.as_view(),
         name="api-scrapping-certificate-reissue"),
    path("scrapping/verify/<str:token>/", views.PublicVerifyAPI.as_view(), name="api-scrapping-verify"),
]
