from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = _("Agencies and routing")

    def ready(self):
        from . import directory, revocation, tokens  # noqa: F401  (signals)

        tokens.connect()
