"""`Authorization: Token <key>` on websockets, for clients that are not browsers (no session
cookie): who the token is, with its role and agency (agencies.tokens)."""

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware


@database_sync_to_async
def _user_for_token(key: str):
    from django.contrib.auth.models import AnonymousUser

    from . import tokens

    # With its role and agency, in one query or none (agencies.tokens): a burst of
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
