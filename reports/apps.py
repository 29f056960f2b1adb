from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Calls and reports")

    def ready(self) -> None:
        from notifications.providers import register_frame_handler, register_live_state

        from . import live_state
        from .frames import ack_frame, seen_frame

        register_live_state(live_state)  # what a live socket hears and is sent
        register_frame_handler("ack", ack_frame)  # receipts (SPEC §12)
        register_frame_handler("seen", seen_frame)
