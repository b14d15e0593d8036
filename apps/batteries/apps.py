from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BatteriesConfig(AppConfig):
    name = "apps.batteries"
    label = "batteries"
    verbose_name = _("Batteries")
