from django.urls import path

from apps.filings import kind_views, report_file_views, views

app_name = "filings"

urlpatterns = [
    # the enterprise's side
    path("filings/", views.filing_list, name="list"),
    path("filings/monthly-reports/new/", views.monthly_report_create, name="monthly_report_create"),
    path("filings/monthly-reports/upload/", report_file_views.monthly_report_upload, name="monthly_report_upload"),
    path("filings/recovery-reports/new/", kind_views.recovery_report_create, name="recovery_report_create"),
    path("filings/recovery-reports/compositions/", kind_views.composition_table, name="compositions"),
    path("filings/recovery-reports/compositions/<str:chemistry>/edit/", kind_views.composition_edit,
         name="composition_edit"),
    path("filings/explanations/new/discrepancy/<int:pk>/", kind_views.explanation_create_for_discrepancy,
         name="explanation_for_discrepancy"),
    path("filings/explanations/new/intake/<int:pk>/", kind_views.explanation_create_for_intake,
         name="explanation_for_intake"),
    path("filings/<int:pk>/", views.filing_detail, name="detail"),
    path("filings/<int:pk>/recovery-report/edit/", kind_views.recovery_report_edit, name="recovery_report_edit"),
    path("filings/<int:pk>/explanation/edit/", kind_views.explanation_edit, name="explanation_edit"),
    path("filings/<int:pk>/edit/", views.monthly_report_edit, name="edit"),
    path("filings/<int:pk>/submit/", views.filing_submit, name="submit"),
    path("filings/<int:pk>/resubmit/", views.filing_resubmit, name="resubmit"),
    path("filings/<int:pk>/comments/", views.filing_comment, name="comment"),
    path("filings/comments/<int:pk>/attachment/", views.comment_attachment, name="attachment"),
    path("notifications/", views.notification_list, name="notifications"),
    # the reviewers' side
    path("review/filings/", views.queue, name="queue"),
    path("review/filings/bulk/", views.queue_bulk, name="bulk"),
    path("review/reviewers/search/", views.reviewer_search, name="reviewer_search"),
    path("review/filings/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/filings/<int:pk>/claim/", views.filing_claim, name="claim"),
    path("review/filings/<int:pk>/assign/", views.filing_assign, name="assign"),
]
