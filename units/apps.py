from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = _("Field units")

    def ready(self) -> None:
        from notifications.providers import register_frame_handler

        from .frames import position_frame

        register_frame_handler("position", position_frame)
