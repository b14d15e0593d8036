from django.urls import path

from apps.enterprises.api import licence_applications, views

urlpatterns = [
    path("enterprise/", views.OwnEnterpriseAPI.as_view(), name="api-own-enterprise"),
    path("enterprise/staff/", views.StaffListAPI.as_view(), name="api-staff"),
    path("enterprise/staff/<int:pk>/deactivate/", views.StaffToggleAPI.as_view(action="deactivate"),
         name="api-staff-deactivate"),
    path("enterprise/staff/<int:pk>/reactivate/", views.StaffToggleAPI.as_view(action="reactivate"),
         name="api-staff-reactivate"),
    path("enterprise/api-keys/", views.APIKeyListAPI.as_view(), name="api-keys"),
    path("enterprise/api-keys/<int:pk>/revoke/", views.APIKeyRevokeAPI.as_view(), name="api-key-revoke"),
    path("registrations/", views.RegistrationAPI.as_view(), name="api-registrations"),
    path("licence-applications/", licence_applications.LicenceApplicationCreateAPI.as_view(),
         name="api-licence-applications"),
    path("licence-applications/<int:pk>/", licence_applications.LicenceApplicationUpdateAPI.as_view(),
         name="api-licence-application"),
    path("public/licensed-recyclers/", views.PublicLicensedRecyclersAPI.as_view(), name="api-public-recyclers"),
    path("admin/licences/", views.LicenceListAPI.as_view(), name="api-licences"),
    path("admin/licences/<int:pk>/suspend/", views.LicenceActionAPI.as_view(action="suspend"), name="api-licence-suspend"),
    path("admin/licences/<int:pk>/reinstate/", views.LicenceActionAPI.as_view(action="reinstate"),
         name="api-licence-reinstate"),
    path("admin/licences/<int:pk>/revoke/", views.LicenceActionAPI.as_view(action="revoke"), name="api-licence-revoke"),
    path("admin/enterprises/<int:pk>/manufacturer-codes/", views.ManufacturerCodeAPI.as_view(),
         name="api-manufacturer-codes"),
]
