from django.urls import path

from apps.enterprises import views

app_name = "enterprises"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("recyclers/", views.licensed_recyclers, name="licensed_recyclers"),
    path("application/", views.application, name="application"),
    path("application/edit/", views.application_edit, name="application_edit"),
    path("application/comments/", views.application_comment, name="application_comment"),
    path("enterprise/", views.profile, name="profile"),
    path("enterprise/staff/", views.staff, name="staff"),
    path("enterprise/staff/<int:pk>/deactivate/", views.staff_toggle, {"action": "deactivate"}, name="staff_deactivate"),
    path("enterprise/staff/<int:pk>/reactivate/", views.staff_toggle, {"action": "reactivate"}, name="staff_reactivate"),
    path("enterprise/api-keys/", views.api_keys, name="api_keys"),
    path("enterprise/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("enterprises/<int:pk>/business-licence.pdf", views.business_licence_download, name="business_licence"),
    path("review/enterprises/", views.review_list, name="review_list"),
    path("review/enterprises/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/enterprises/<int:pk>/history/", views.enterprise_history, name="history"),
    path("licences/", views.licence_list, name="licence_list"),
    path("licences/<int:pk>/", views.licence_detail, name="licence_detail"),
    path("enterprise/licence-applications/new/", views.licence_application_create,
         name="licence_application_create"),
    path("enterprise/licence-applications/<int:pk>/edit/", views.licence_application_edit,
         name="licence_application_edit"),
    path("licence-applications/<int:pk>/document.pdf", views.licence_application_document,
         name="licence_application_document"),
]
