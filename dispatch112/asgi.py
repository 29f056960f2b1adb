"""ASGI entry point: HTTP through Django, websockets (/ws/events/) through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch112.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from agencies.ws_auth import TokenAuthMiddleware  # noqa: E402
from dispatch112.warmup import settle_garbage_collector  # noqa: E402
from notifications.auth import origin_validator  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session cookie (browsers) or Authorization: Token (other clients).
        "websocket": origin_validator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything imported so far lives as long as the process, and each full collection over a
# few hundred dashboards' objects would stop it for tens of milliseconds, felt by every
# dashboard waiting for an event.
settle_garbage_collector()
