"""A fresh web process's one-time costs, paid before it takes its first request.

Without this, the first report each gunicorn worker handles after a start or a deploy pays
for the URLconf's imports, the database connection, DRF's serializer field introspection,
the publisher's Redis connection and the city's configuration: a quarter to three quarters
of a second, seen by an operator and by every dashboard waiting for that report
(benchmarks/notify_latency.py)."""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)

WARMUP_GROUP = "dispatch112.warmup"  # no one ever joins it
# Python's defaults are (700, 10, 10): a full collection every 70,000 allocations or so, which
# in a web process means every few requests, each stopping it for milliseconds.
GC_THRESHOLDS = (20_000, 20, 50)


def settle_garbage_collector() -> None:
    """What exists now lives as long as the process: keep it out of the collector's full
    passes, which otherwise walk every module and class on each one; and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def warm_up() -> None:
    """Never fails the process: one that starts while the database is away (a gunicorn worker
    replaced during an outage) boots without the database's part and answers 503 until it is
    back; a worker failing to boot would have made gunicorn exit (CI, 2026-12-07)."""
    from django.db import DatabaseError, connection
    from django.test import RequestFactory
    from django.urls import get_resolver

    from agencies import directory
    from dispatch112.views import healthz
    from notifications.publish import deliver_safely
    from reports.api import serializers

    get_resolver().url_patterns  # noqa: B018 — imports every view module
    serializers.ReportCreateSerializer().fields  # noqa: B018 — first use imports validators
    try:
        connection.ensure_connection()
        healthz(RequestFactory().get("/healthz"))  # one database round trip
        directory.current()  # the city's configuration, read once (agencies.directory)
    except DatabaseError as error:
        logger.warning("Started without the database (%s): 503 until it is back", error)
    # Starts the publisher loop and opens its Redis connection (a group with no members).
    deliver_safely([(WARMUP_GROUP, {"type": "warmup"})])
    connection.close_if_unusable_or_obsolete()
    settle_garbage_collector()
    logger.debug("warmed up")
