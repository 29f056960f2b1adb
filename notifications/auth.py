"""Websocket authentication and origin checks."""

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings


@database_sync_to_async
def _user_for_token(key: str):
    from django.contrib.auth.models import AnonymousUser

    from agencies import tokens

    # With its role and agency, in one query or none (dispatch112.tokens): a burst of
    # dashboards reconnecting after a restart is served one connect at a time by the
    # process's one database thread.
    token = tokens.principal(key)
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """`Authorization: Token <key>` for clients that are not browsers (no session cookie)."""

    async def __call__(self, scope, receive, send):
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                keyword, _, key = value.decode("latin-1").partition(" ")
                if keyword == "Token" and key:
                    user = await _user_for_token(key.strip())
                    scope = {**scope, "user": user, "auth_method": "token"}
        return await super().__call__(scope, receive, send)


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
