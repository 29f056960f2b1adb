"""Per-user request limits for the API (DRF throttles), so that no endpoint can be used as an
oracle at speed (guessing, one request at a time, what a masked value is). Two windows: a
short one against bursts, a long one against a steady crawl. Past either, 429 with
`Retry-After`. The limits are read from settings at each request (API_RATE_LIMITS).

The burst limit steps aside for a short while after the database was unreachable: the requests
that queued up behind the outage arrive all at once when it returns (issue 35 §3)."""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from django.db import connection
from rest_framework.throttling import SimpleRateThrottle

from core import shared_cache

# The throttles' counters live in a cache of their own (every web process shares it in
# production: Redis), apart from anything else the cache holds.
CACHE_ALIAS = "throttle"


class _UserThrottle(SimpleRateThrottle):
    """Counts a signed-in user's requests; the unauthenticated by their address."""

    def __init__(self) -> None:
        from django.core.cache import caches

        self.cache = caches[CACHE_ALIAS]
        super().__init__()

    def allow_request(self, request, view) -> bool:
        # With the shared cache down nobody can be counted: let the request through rather
        # than refuse the command centre its API (dispatch112.shared_cache).
        try:
            return super().allow_request(request, view)
        except shared_cache.ERRORS as error:
            shared_cache.unavailable(error)
            return True

    def get_rate(self) -> str | None:
        return settings.API_RATE_LIMITS.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


# Seconds after this process last failed to reach the database during which the burst limit
# lets requests through: the backlog an outage created (the sends that waited, the field app's
# outbox) is work the people did at their own pace, not a burst of guessing. The sustained
# limit still counts every request.
OUTAGE_GRACE_SECONDS = 30.0


class DatabaseOutages:
    """When this process last failed to get a database connection, read from the psycopg
    pool's own counters (a connection attempt that failed, a request that timed out waiting
    for one): nothing to call on each failure, and nothing to reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._errors = 0
        self._changed_at: float | None = None

    def recent(self, seconds: float = OUTAGE_GRACE_SECONDS) -> bool:
        pool = getattr(connection, "pool", None)  # PostgreSQL's pool; SQLite has none
        if pool is None:
            return False
        stats = pool.get_stats()
        errors = stats.get("requests_errors", 0) + stats.get("connections_errors", 0)
        now = time.monotonic()
        with self._lock:
            if errors != self._errors:
                self._errors, self._changed_at = errors, now
            return self._changed_at is not None and now - self._changed_at < seconds


database_outages = DatabaseOutages()


class BurstThrottle(_UserThrottle):
    scope = "burst"

    def allow_request(self, request, view) -> bool:
        if database_outages.recent():
            return True  # the backlog of an outage (above); not counted
        return super().allow_request(request, view)


class SustainedThrottle(_UserThrottle):
    scope = "sustained"


class ScopedThrottle(_UserThrottle):
    """One scope's counter for an identity the door names: an app's api_key, a peer centre,
    or (by default) the client's address. For doors whose caller is not a signed-in user, or
    is a machine that must not share a person's limits."""

    def __init__(self, scope: str, ident: str | None = None) -> None:
        self.scope, self.ident = scope, ident
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        ident = self.ident or f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def wait_for(request, scope: str, ident: str | None = None) -> int | None:
    """Counts this request in `scope` for `ident` (the client's address when None): None
    while within the limit, else the whole seconds to wait (for Retry-After)."""
    throttle = ScopedThrottle(scope, ident)
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


class TelephonyThrottle(_UserThrottle):
    """The phone system's token: a surge of calls must not meet a person's burst limit."""

    scope = "telephony"


class PeerCentreThrottle(_UserThrottle):
    """A peer centre's token (its service account): handovers are a few an hour."""

    scope = "eido"
