from django.urls import path

from apps.enforcement.api import views

urlpatterns = [
    # the enterprise's side
    path("enforcement/", views.ActionListAPI.as_view(), name="api-enforcement"),
    path("enforcement/<int:pk>/", views.ActionDetailAPI.as_view(), name="api-enforcement-action"),
    path("enforcement/<int:pk>/answer/", views.ActionAnswerAPI.as_view(), name="api-enforcement-answer"),
    # the reviewers' side
    path("review/enforcement/", views.ReviewActionListAPI.as_view(), name="api-review-enforcement"),
    path("review/enforcement/<int:pk>/", views.ReviewActionDetailAPI.as_view(), name="api-review-enforcement-action"),
    path("review/enforcement/<int:pk>/submit/", views.ReviewActionSubmitAPI.as_view(),
         name="api-review-enforcement-submit"),
    path("review/enforcement/<int:pk>/approve/", views.ReviewActionApproveAPI.as_view(),
         name="api-review-enforcement-approve"),
    path("review/enforcement/<int:pk>/refuse/", views.ReviewActionRefuseAPI.as_view(),
         name="api-review-enforcement-refuse"),
    path("review/enforcement/<int:pk>/close/", views.ReviewActionCloseAPI.as_view(),
         name="api-review-enforcement-close"),
    path("review/discrepancies/<int:pk>/resolve/", views.DiscrepancyResolveAPI.as_view(),
         name="api-review-discrepancy-resolve"),
    path("review/discrepancies/<int:pk>/escalate/", views.DiscrepancyEscalateAPI.as_view(),
         name="api-review-discrepancy-escalate"),
]
