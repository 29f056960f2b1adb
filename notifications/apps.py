from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Live notifications")

    def ready(self):
        from . import revocation  # noqa: F401  (signal receivers)
