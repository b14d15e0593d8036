from django.urls import path

from apps.filings.api import kinds, report_file, views

urlpatterns = [
    path("filings/", views.FilingListAPI.as_view(), name="api-filings"),
    path("filings/monthly-reports/", views.MonthlyReportCreateAPI.as_view(), name="api-filings-monthly-reports"),
    path("filings/monthly-reports/file/", report_file.MonthlyReportFileAPI.as_view(),
         name="api-filings-monthly-reports-file"),
    path("filings/recovery-reports/", kinds.RecoveryReportCreateAPI.as_view(), name="api-filings-recovery-reports"),
    path("filings/recovery-reports/<int:pk>/", kinds.RecoveryReportDetailAPI.as_view(),
         name="api-filing-recovery-report"),
    path("filings/compositions/", kinds.CompositionListAPI.as_view(), name="api-filings-compositions"),
    path("filings/explanations/", kinds.ExplanationCreateAPI.as_view(), name="api-filings-explanations"),
    path("filings/explanations/<int:pk>/", kinds.ExplanationDetailAPI.as_view(), name="api-filing-explanation"),
    path("filings/queue/", views.FilingQueueAPI.as_view(), name="api-filings-queue"),
    path("filings/queue/bulk/", views.FilingQueueBulkAPI.as_view(), name="api-filings-queue-bulk"),
    path("filings/<int:pk>/", views.FilingDetailAPI.as_view(), name="api-filing"),
    path("filings/<int:pk>/submit/", views.FilingSubmitAPI.as_view(), name="api-filing-submit"),
    path("filings/<int:pk>/resubmit/", views.FilingResubmitAPI.as_view(), name="api-filing-resubmit"),
    path("filings/<int:pk>/comments/", views.FilingCommentsAPI.as_view(), name="api-filing-comments"),
    path("filings/<int:pk>/claim/", views.FilingClaimAPI.as_view(), name="api-filing-claim"),
    path("filings/<int:pk>/assign/", views.FilingAssignAPI.as_view(), name="api-filing-assign"),
    path("filings/<int:pk>/approve/", views.FilingApproveAPI.as_view(), name="api-filing-approve"),
    path("filings/<int:pk>/reject/", views.FilingRejectAPI.as_view(), name="api-filing-reject"),
    path("filings/<int:pk>/return/", views.FilingReturnAPI.as_view(), name="api-filing-return"),
]
