from django.urls import path

from apps.accounts import regulator_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password-reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("regulators/", regulator_views.regulators, name="regulators"),
    path("regulators/<int:pk>/deactivate/", regulator_views.regulator_toggle, {"active": False},
         name="regulator_deactivate"),
    path("regulators/<int:pk>/reactivate/", regulator_views.regulator_toggle, {"active": True},
         name="regulator_reactivate"),
]
