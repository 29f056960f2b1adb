"""Per-user request limits for the API (DRF throttles), so that no endpoint can be used as an
oracle at speed (guessing, one request at a time, what a masked value is). Two windows: a
short one against bursts, a long one against a steady crawl. Past either, 429 with
`Retry-After`. The limits are read from settings at each request (API_RATE_LIMITS)."""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from dispatch112 import shared_cache

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


class BurstThrottle(_UserThrottle):
    scope = "burst"


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
