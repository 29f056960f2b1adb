"""The channel layer (Redis) being away, as one process sees it (issue 35 §3).

An expected outage is logged ONCE per process when it starts and once when it ends, without a
traceback: not a traceback per dashboard, per publish or per retry. Everything that talks to
the layer reports here (`lost()` on an error, `back()` on a success), and asks `is_down()`
to refuse new dashboards at once with the documented close code while the layer is away."""

from __future__ import annotations

import logging
import threading
import time

from . import metrics

logger = logging.getLogger(__name__)

# What a client is told to wait before it reconnects (the `unavailable` frame before the close);
# live.js adds jitter and never waits more than 2 s in all.
RETRY_HINT_MS = 500


def layer_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the layer cannot be reached", not a bug."""
    errors: tuple[type[BaseException], ...] = (OSError, TimeoutError, ConnectionError, EOFError)
    try:
        import redis.exceptions

        errors += (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        errors += (redis.exceptions.BusyLoadingError,)
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return errors


LAYER_ERRORS = layer_errors()


class Outage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None  # monotonic time the outage began, None: up
        self.count = 0  # outages seen by this process (tests, /readyz)

    def is_down(self) -> bool:
        return self.since is not None

    def lost(self, error: BaseException | None = None, where: str = "") -> bool:
        """Records an error talking to the layer; logs only the first of an outage. True when
        this call began the outage."""
        metrics.layer_error()  # every error, not only the first of an outage
        with self._lock:
            if self.since is not None:
                return False
            self.since = time.monotonic()
            self.count += 1
        detail = f"{type(error).__name__}: {error}" if error is not None else "unreachable"
        logger.error(
            "Live events: the channel layer (Redis) is unreachable (%s%s); dashboards are "
            "closed with 4500 and refused until it returns, events are kept for resume",
            detail,
            f", {where}" if where else "",
        )
        return True

    def back(self) -> None:
        """The layer answered: ends an outage (logged once)."""
        if self.since is None:
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            logger.warning(
                "Live events: the channel layer is reachable again after %.1f s",
                time.monotonic() - since,
            )


outage = Outage()
