from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = _("Interoperability")

    def ready(self) -> None:
        from notifications.providers import register_snapshot_extra
        from reports.retention import register_eraser

        from . import live, services

        register_snapshot_extra(live.snapshot_extra)
        register_eraser(services.erase_open311_before)
        register_eraser(services.erase_received_before)
