"""What the live transport counts for GET /metrics (SPEC §12, issue 40 §5): the instruments of
this process, incremented from the transport's own hooks (publish, fan-out, consumer,
outage). dispatch112.metrics renders them with the figures read from the database.

The hooks are on the hot path, so each is one counter increment or one histogram observation
(prometheus_client's own lock per value, held for an addition): no query, no network, no
allocation per frame. Delivery is observed once per batch of frames the fan-out writes to its
sockets of one group, not once per socket.

Processes: with PROMETHEUS_MULTIPROC_DIR set in the environment before the process starts
(prometheus_client reads it at import) every process writes its values into files there and
/metrics adds up the processes that share the directory — gunicorn's workers; otherwise each
process reports its own (one Daphne process: its own sockets, its own deliveries)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "dispatch_events_published",
    "Live events this process handed to the channel layer after their transaction committed.",
)
CHANNEL_LAYER_ERRORS = Counter(
    "dispatch_channel_layer_errors",
    "Errors this process met talking to the channel layer or its Redis lanes (a publish, a "
    "read, a group change, presence).",
)
# From a few milliseconds (the benchmarks' median is ~7 ms after the commit) to an outage's
# catch-up.
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELIVERY_SECONDS = Histogram(
    "dispatch_delivery_seconds",
    "Seconds from an event's commit (its publication) until its frame was written to this "
    "process's sockets of a group: one observation per batch written, with the batch's oldest "
    "event.",
    buckets=DELIVERY_BUCKETS,
)
WEBSOCKETS = Gauge(
    "dispatch_websockets",
    "Open /ws/events/ sockets by role (operator, supervisor, agency_staff, field) and agency "
    "(empty for the command centre).",
    ["role", "agency"],
    multiprocess_mode="livesum",
)


def published(count: int) -> None:
    EVENTS_PUBLISHED.inc(count)


def layer_error() -> None:
    CHANNEL_LAYER_ERRORS.inc()


def now() -> float:
    """The wall clock a publication is stamped with: the fan-out reading it may be another
    process (on another machine, with its clock kept by NTP)."""
    return time.time()


def delivered(published_at: float) -> None:
    """A batch of frames was written; `published_at` is its oldest event's stamp."""
    DELIVERY_SECONDS.observe(max(time.time() - published_at, 0.0))


def socket_opened(role: str, agency: str):
    """Counts an open socket; returns what `socket_closed` takes."""
    child = WEBSOCKETS.labels(role, agency)
    child.inc()
    return child


def socket_closed(child) -> None:
    child.dec()
