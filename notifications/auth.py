"""Websocket origin checks (who a token is, is agencies.ws_auth's)."""

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """Refuses a browser page from another site (browsers always send Origin on websocket
    handshakes). A client with no Origin header is not a browser and authenticates by token."""

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        # Read at handshake time, so the check follows the settings in force.
        self.allowed_origins = list(settings.ALLOWED_HOSTS) or (
            ["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else []
        )
        return super().valid_origin(parsed_origin)


def origin_validator(application):
    return BrowserOriginValidator(application, [])
