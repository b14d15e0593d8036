from django.urls import path

from apps.filings import report_file_views, views

app_name = "filings"

urlpatterns = [
    # the enterprise's side
    path("filings/", views.filing_list, name="list"),
    path("filings/monthly-reports/new/", views.monthly_report_create, name="monthly_report_create"),
    path("filings/monthly-reports/upload/", report_file_views.monthly_report_upload, name="monthly_report_upload"),
    path("filings/<int:pk>/", views.filing_detail, name="detail"),
    path("filings/<int:pk>/edit/", views.monthly_report_edit, name="edit"),
    path("filings/<int:pk>/submit/", views.filing_submit, name="submit"),
    path("filings/<int:pk>/resubmit/", views.filing_resubmit, name="resubmit"),
    path("filings/<int:pk>/comments/", views.filing_comment, name="comment"),
    path("filings/comments/<int:pk>/attachment/", views.comment_attachment, name="attachment"),
    path("notifications/", views.notification_list, name="notifications"),
    # the reviewers' side
    path("review/filings/", views.queue, name="queue"),
    path("review/filings/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/filings/<int:pk>/claim/", views.filing_claim, name="claim"),
    path("review/filings/<int:pk>/assign/", views.filing_assign, name="assign"),
]
