from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = _("Interoperability")

    def ready(self) -> None:
        from notifications.consumers import register_snapshot_extra

        from . import live

        register_snapshot_extra(live.snapshot_extra)
