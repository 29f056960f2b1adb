from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Calls and reports")

    def ready(self) -> None:
        from notifications.providers import register_live_state

        from . import live_state

        register_live_state(live_state)  # what a live socket hears and is sent
