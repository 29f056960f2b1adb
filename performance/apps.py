from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance statistics")

    def ready(self):
        from . import sql  # noqa: F401  (percentile_cont on SQLite)
