from django.urls import path

from apps.enforcement import views

app_name = "enforcement"

urlpatterns = [
    # the enterprise's side: its issued actions
    path("enforcement/", views.action_list, name="list"),
    path("enforcement/<int:pk>/", views.action_detail, name="detail"),
    path("enforcement/<int:pk>/answer.pdf", views.answer_attachment, name="answer_attachment"),
    # the reviewers' side
    path("review/enforcement/", views.review_list, name="review_list"),
    path("review/enforcement/new/", views.action_create, name="create"),
    path("review/enforcement/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/enforcement/<int:pk>/edit/", views.action_edit, name="edit"),
    path("review/enforcement/<int:pk>/submit/", views.action_submit, name="submit"),
    path("review/enforcement/<int:pk>/approve/", views.action_approve, name="approve"),
    path("review/enforcement/<int:pk>/refuse/", views.action_refuse, name="refuse"),
    path("review/enforcement/<int:pk>/close/", views.action_close, name="close"),
    path("review/discrepancies/<int:pk>/decide/", views.discrepancy_decide, name="discrepancy_decide"),
]
