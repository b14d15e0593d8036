from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScrappingConfig(AppConfig):
    name = "apps.scrapping"
    label = "scrapping"
    verbose_name = _("Vehicle scrapping")

    def ready(self) -> None:
        from apps.scrapping import permissions  # noqa: F401 — registers the object permissions
