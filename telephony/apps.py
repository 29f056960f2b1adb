from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from notifications.providers import register_snapshot_extra
        from performance.selectors import register_section
        from reports.retention import register_eraser
        from reports.signals import call_logged

        from . import live, performance, services

        call_logged.connect(services.match_logged_call, dispatch_uid="telephony.match")
        register_eraser(services.erase_before)
        register_snapshot_extra(live.snapshot_extra)
        register_section(performance.SECTION)
