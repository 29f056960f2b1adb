"""GET /metrics and /status/'s figures (SPEC §12, issue 40 §5).

Two kinds of series:
- the live transport's, counted by each process as it works (notifications.metrics):
  `dispatch_events_published_total`, `dispatch_delivery_seconds`, `dispatch_websockets{role,
  agency}`, `dispatch_channel_layer_errors_total`;
- the centre's, read from the database (and the broker) when scraped, the same whichever
  process answers: `dispatch_unheard_total`, `dispatch_escalation_sweep_age_seconds`,
  `dispatch_celery_queue_length`. They are read at most once per CACHE_SECONDS per process,
  so that a scrape storm costs the database nothing more.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn's workers, docker-compose.yml) the transport's
series are summed over the processes writing there (prometheus_client's multiprocess mode);
otherwise they are this process's."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from notifications import metrics as transport

logger = logging.getLogger(__name__)

CACHE_SECONDS = 2.0
# The broker's queue is read with this bound: /metrics must answer while Redis does not.
BROKER_TIMEOUT = 0.5


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# --- The centre's figures, from the database -----------------------------------------------------


@dataclass(frozen=True)
class CentreFigures:
    unheard_total: int
    unheard_today: int  # since midnight WIB
    sweep_at: datetime | None  # the escalation sweep's last run (None: never)
    sweep_age_seconds: float | None
    celery_queue: int | None  # tasks waiting in the broker; None: embedded, or unreadable
    celery_mode: str  # "embedded" (tasks run in-process), "redis", "unreachable"


_lock = threading.Lock()
_cached: tuple[float, CentreFigures | None] | None = None


def centre_figures() -> CentreFigures | None:
    """The centre's figures, at most CACHE_SECONDS old; None while the database does not
    answer (logged; asked again after CACHE_SECONDS, not by every scrape)."""
    global _cached
    with _lock:
        if _cached is not None and _cached[0] > time.monotonic():
            return _cached[1]
        try:
            figures = _read_centre()
        except DatabaseError as error:
            logger.warning("Metrics: the database did not answer: %s", error)
            figures = None
        _cached = (time.monotonic() + CACHE_SECONDS, figures)
        return figures


def forget() -> None:
    """Drops the cached figures (tests)."""
    global _cached
    with _lock:
        _cached = None


def _read_centre() -> CentreFigures:
    from notifications.models import ESCALATION_SWEEP, Heartbeat
    from reports.models import Assignment

    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    unheard = Assignment.objects.filter(unheard_at__isnull=False).aggregate(
        total=Count("pk"), today=Count("pk", filter=Q(unheard_at__gte=midnight))
    )
    sweep_at = Heartbeat.objects.filter(name=ESCALATION_SWEEP).values_list("at", flat=True).first()
    age = None if sweep_at is None else max((timezone.now() - sweep_at).total_seconds(), 0.0)
    queue, mode = _celery_queue()
    return CentreFigures(
        unheard_total=unheard["total"],
        unheard_today=unheard["today"],
        sweep_at=sweep_at,
        sweep_age_seconds=age,
        celery_queue=queue,
        celery_mode=mode,
    )


def _celery_queue() -> tuple[int | None, str]:
    """Tasks waiting in the broker's default queue (kombu keeps one Redis list per priority
    step, under the broker's key prefix)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None, "embedded"
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    from dispatch112.celery import app
    from notifications.redis_client import sync_client

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    queue = app.conf.task_default_queue
    keys = [f"{prefix}{queue}{Channel.sep}{step}" if step else f"{prefix}{queue}"
            for step in PRIORITY_STEPS]  # fmt: skip
    options = {"socket_timeout": BROKER_TIMEOUT, "socket_connect_timeout": BROKER_TIMEOUT}
    try:
        with sync_client(**options) as client:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.llen(key)
            return sum(pipe.execute()), "redis"
    except Exception as error:  # the broker away is a figure, not an error page
        logger.warning("Metrics: the broker did not answer: %s", error)
        return None, "unreachable"


class CentreCollector:
    """The centre's series, for prometheus_client (one instance, below)."""

    def collect(self):
        figures = centre_figures()
        if figures is None:
            return
        unheard = CounterMetricFamily(
            "dispatch_unheard",
            "Assignments whose agency had no screen take them within DISPATCH_UNHEARD_SECONDS "
            "(the operator was told to call).",
        )
        unheard.add_metric([], figures.unheard_total)
        yield unheard
        age = figures.sweep_age_seconds
        yield GaugeMetricFamily(
            "dispatch_escalation_sweep_age_seconds",
            "Seconds since the escalation sweep last completed (+Inf: it never has).",
            value=math.inf if age is None else age,
        )
        if figures.celery_queue is not None:
            yield GaugeMetricFamily(
                "dispatch_celery_queue_length",
                "Tasks waiting in the Celery broker's default queue.",
                value=figures.celery_queue,
            )


class _Together:
    """Several collectors' series as one (prometheus_client's encoders take one)."""

    def __init__(self, *collectors) -> None:
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


_centre = CentreCollector()


def collector() -> _Together:
    """Everything /metrics shows: the transport's series (this process's, with
    prometheus_client's process and GC series; or, in multiprocess mode, the directory's
    sum), then the centre's."""
    if multiprocess_dir():
        return _Together(MultiProcessCollector(None), _centre)
    return _Together(REGISTRY, _centre)


def exposition() -> bytes:
    """/metrics in Prometheus' classic text format."""
    return generate_latest(collector())


# --- The transport's figures, for /status/ --------------------------------------------------------


@dataclass(frozen=True)
class TransportFigures:
    events_published: float
    channel_layer_errors: float
    deliveries: int  # observations of dispatch_delivery_seconds
    delivery_p50: float | None  # seconds, estimated from the histogram's buckets
    delivery_p99: float | None
    sockets: dict[tuple[str, str], int]  # (role, agency) → open sockets


def transport_figures() -> TransportFigures:
    """This process's (or, in multiprocess mode, the directory's) transport series."""
    if multiprocess_dir():
        families = MultiProcessCollector(None).collect()
    else:
        instruments = (
            transport.EVENTS_PUBLISHED,
            transport.CHANNEL_LAYER_ERRORS,
            transport.DELIVERY_SECONDS,
            transport.WEBSOCKETS,
        )
        families = [family for instrument in instruments for family in instrument.collect()]
    samples = [s for family in families for s in family.samples]

    def total(name: str) -> float:
        return sum(s.value for s in samples if s.name == name)

    buckets: dict[float, float] = {}
    sockets: dict[tuple[str, str], int] = {}
    for s in samples:
        if s.name == "dispatch_delivery_seconds_bucket":
            bound = float(s.labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + s.value
        elif s.name == "dispatch_websockets" and s.value:
            key = (s.labels["role"], s.labels["agency"])
            sockets[key] = sockets.get(key, 0) + int(s.value)
    cumulative = sorted(buckets.items())
    return TransportFigures(
        events_published=total("dispatch_events_published_total"),
        channel_layer_errors=total("dispatch_channel_layer_errors_total"),
        deliveries=int(total("dispatch_delivery_seconds_count")),
        delivery_p50=histogram_quantile(0.5, cumulative),
        delivery_p99=histogram_quantile(0.99, cumulative),
        sockets=sockets,
    )


def histogram_quantile(q: float, cumulative: list[tuple[float, float]]) -> float | None:
    """The q-quantile of a histogram, (upper bound, cumulative count) by bound, interpolated
    within its bucket as Prometheus' histogram_quantile() does; None with no observation. One
    in the +Inf bucket is reported as the highest finite bound."""
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    rank = q * cumulative[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            share = (rank - lower_count) / (count - lower_count)
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


def sweep_is_late(age_seconds: float | None) -> bool:
    """/status/ shows the sweep in red past three of its periods."""
    return age_seconds is None or age_seconds > 3 * settings.DISPATCH_SWEEP_SECONDS
