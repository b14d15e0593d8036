from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.deadlines"
    verbose_name = "Reporting deadlines"
