"""ASGI entry point: HTTP through Django, websockets (/ws/events/) through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch112.settings")
# Python's defaults are (700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 50)
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from notifications.auth import TokenAuthMiddleware, origin_validator  # noqa: E402
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

# Everything imported so far lives as long as the process: move it out of the collector's
# reach, so that a full collection walks only what connections and messages created since.
# And collect less often: each full pass over a few hundred dashboards' objects stops the
# process for tens of milliseconds, which every dashboard waiting for an event then feels.
gc.collect()
gc.freeze()
gc.set_threshold(*GC_THRESHOLDS)
