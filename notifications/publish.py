"""The one place events leave the process: after commit, to channel-layer groups.

Groups are per agency (`agency.<code>`: staff of the agencies on the report) plus one for the
command centre (`reports.all`: operators and supervisors), so a fan-out costs one group_send
per group, never a loop over users.

Events recorded in one transaction are published together by a single flush after it
commits: two queries and one trip into the channel layer's event loop, however many events
the transaction wrote. A batch belongs to one connection (so to one thread) and lives only
as long as its on_commit callback: a rollback discards both."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections import defaultdict
from contextlib import contextmanager
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

if TYPE_CHECKING:
    from reports.models import Event

logger = logging.getLogger(__name__)

ALL_REPORTS_GROUP = "reports.all"
# The operators' consoles (SPEC §9: an incoming call pops on every operator's without an
# extension); supervisors and agencies are not in it.
OPERATORS_GROUP = "operators"
_BATCH = "_dispatch_event_batch"


def agency_group(code: str) -> str:
    return f"agency.{code}"


def unit_group(unit_id: int) -> str:
    """The field officers signed on to one unit."""
    return f"unit.{unit_id}"


class _Batch:
    """The events of one transaction on one connection, flushed by one on_commit callback."""

    def __init__(self, savepoints: tuple[str, ...]) -> None:
        self.events: list[Event] = []
        # The savepoints open when the batch began. An event recorded under another one
        # may have been rolled back since (its savepoint undone, the batch kept): such a
        # batch is read back from the database at flush time, where undone events are gone.
        self.savepoints = savepoints
        self.same_savepoint = True

    def add(self, event: Event, savepoints: tuple[str, ...]) -> None:
        self.events.append(event)
        self.same_savepoint = self.same_savepoint and savepoints == self.savepoints

    def flush(self) -> None:
        # A unit's own events have no report: their payload reads the unit (payloads).
        reports = [report_in_memory(e) for e in self.events if e.report_id is not None]
        if self.same_savepoint and all(reports):
            publish_events(sorted(self.events, key=lambda e: e.pk))
            # Only for this transaction: the same object in a later one may be out of date.
            for report in reports:
                setattr(report, LOADED_FOR_LIVE, False)
        else:
            publish([e.pk for e in self.events])


def publish_on_commit(event: Event) -> None:
    """Publishes `event` once the current transaction commits; never if it rolls back."""
    # The real per-thread connection, not the `connection` proxy that all threads share.
    connection = transaction.get_connection()
    savepoints = tuple(connection.savepoint_ids)
    batch = getattr(connection, _BATCH, None)
    if batch is None or not _registered(connection, batch):
        # A new transaction, or the batch's callback was discarded by a rollback (which also
        # undid its events): start a new batch. Events are added before registering, so that
        # outside a transaction, where on_commit runs at once, the event is already in it.
        batch = _Batch(savepoints)
        batch.add(event, savepoints)
        setattr(connection, _BATCH, batch)
        transaction.on_commit(batch.flush, robust=True)
    else:
        batch.add(event, savepoints)


def _registered(connection, batch: _Batch) -> bool:
    # Django keeps pending callbacks as (savepoint ids, callable, robust) tuples and drops
    # them on rollback; a batch is live exactly while its flush is still among them.
    return any(entry[1] == batch.flush for entry in connection.run_on_commit)


LOADED_FOR_LIVE = "_loaded_for_live"


def mark_loaded_for_live(report) -> None:
    """Says that `report` holds, in memory, everything its live payload shows (its category,
    kecamatan, operator, and its assignments with their agencies, as they were committed):
    its events are published without reading it back (services.report_create)."""
    setattr(report, LOADED_FOR_LIVE, True)


def report_in_memory(event: Event):
    """The event's report if it is held in memory with everything its payload shows, else
    None (never a query)."""
    field = type(event)._meta.get_field("report")
    if field.is_cached(event):
        report = field.get_cached_value(event)
        if getattr(report, LOADED_FOR_LIVE, False):
            return report
    return None


def publish(event_ids: list[int]) -> None:
    """Sends the given events to every group that may see their reports, in id order.

    Ids of events that were rolled back are simply not found. A channel-layer outage is
    logged, not raised: the Event rows are committed and clients catch up by resuming."""
    from reports.models import Event

    publish_events(list(Event.objects.filter(pk__in=event_ids).order_by("pk")))


def publish_events(events: list[Event]) -> None:
    """publish() for events already read (or just written), ordered by id."""
    from reports.access import CallerFields, live_audience

    from .payloads import for_viewers, live_payloads

    if not events:
        return
    payloads = live_payloads(events)
    if (captured := getattr(_capture, "reports", None)) is not None:
        captured.update((p["report"]["id"], p["report"]) for p in payloads)
    # Each payload is encoded to JSON once (twice with the masked copy), not once per
    # dashboard; each group gets one message carrying the transaction's events in order.
    # Each message also carries its frames' event ids: the fan-out and the consumers keep
    # every socket in id order without parsing the texts (SPEC §12a).
    texts_by_group: dict[str, list[str]] = defaultdict(list)
    ids_by_group: dict[str, list[int]] = defaultdict(list)

    def add(group: str, event_id: int, text: str) -> None:
        texts_by_group[group].append(text)
        ids_by_group[group].append(event_id)

    for payload in payloads:
        event_id = payload["event_id"]
        if payload["type"] == "unit.updated":  # no caller in it: the same text for all
            text, unit = encode(payload), payload["unit"]
            for group in (ALL_REPORTS_GROUP, agency_group(unit["agency"]), unit_group(unit["id"])):
                add(group, event_id, text)
            continue
        add(ALL_REPORTS_GROUP, event_id, encode(payload))
        # Agencies' staff and units' crews, as reports.access says, from the payload alone.
        audience = live_audience(payload)
        for agencies, units, fields in (
            (audience.agencies, audience.units, CallerFields.MASKED),
            (audience.agencies_left, audience.units_left, CallerFields.WITHHELD),
        ):
            if agencies or units:  # encoded once for all of them, only if someone gets it
                text = encode(for_viewers(payload, fields))
                for group in [*map(agency_group, agencies), *map(unit_group, units)]:
                    add(group, event_id, text)
    deliveries = [
        (
            group,
            {"type": "dispatch.events", "group": group, "texts": texts, "ids": ids_by_group[group]},
        )
        for group, texts in texts_by_group.items()
    ]
    if not deliver_safely(deliveries):
        ids = [e.pk for e in events]
        logger.error("Events %s were not published; clients will get them on resume", ids)


_capture = threading.local()


@contextmanager
def published_reports():
    """Collects, by id, the reports (full, unmasked) as the flushes inside the block sent
    them: the view that made the change answers with that data instead of reading and
    serialising the report again. Empty when nothing was published."""
    outer = getattr(_capture, "reports", None)
    _capture.reports = reports = {}
    try:
        yield reports
    finally:
        _capture.reports = outer


def encode(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def deliver_safely(deliveries: list[tuple[str, dict]]) -> bool:
    """Sends (group, message) pairs; a channel-layer outage is logged, never raised."""
    from .outage import LAYER_ERRORS, outage

    try:
        _deliver(deliveries)
    except LAYER_ERRORS as error:
        outage.lost(error, "publishing")  # one line per outage, not a traceback per publish
        return False
    except Exception:
        logger.exception("The channel layer is unavailable")
        return False
    outage.back()
    return True


# The in-memory channel layer (embedded mode) lives in the serving process's event loop and
# is not thread-safe: code on another thread with a loop of its own (the embedded escalation
# sweep) must hand its messages to that loop. The consumer registers it on connect.
_server_loop: asyncio.AbstractEventLoop | None = None


def register_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        _server_loop = loop


def _deliver(deliveries: list[tuple[str, dict]]) -> None:
    if not isinstance(get_channel_layer(), InMemoryChannelLayer):
        # Redis: on the process's publisher loop, whose connections outlive each publish.
        _publisher.run(_send_all(deliveries))
        return
    loop = _server_loop
    if loop is not None and loop.is_running():
        # Never called on the loop's own thread: this is synchronous code (it queried the ORM).
        asyncio.run_coroutine_threadsafe(_send_all(deliveries), loop).result(timeout=10)
    elif _thread_runs_a_loop():
        # Synchronous code on a thread whose own loop is running (a synchronous Playwright
        # script seeding its data): async_to_sync refuses such a thread, and no consumer of
        # this process listens there, so the publisher loop carries the messages.
        _publisher.run(_send_all(deliveries))
    else:
        # No dashboard has connected to this process yet.
        async_to_sync(_send_all)(deliveries)


def _thread_runs_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _PublisherLoop:
    """An event loop on a daemon thread of its own, one per process, that every publish of
    the process runs on. async_to_sync would start a new loop per call, and with it a new
    Redis connection (channels-redis keeps one pool per loop): 1–2 ms per publish. A forked
    child (gunicorn and Celery workers) starts its own on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def call_later(self, delay: float, callback) -> None:
        """Runs `callback` on the publisher loop after `delay` seconds."""
        loop = self._loop if self._pid == os.getpid() else self._start()
        loop.call_soon_threadsafe(loop.call_later, delay, callback)

    def run(self, coroutine):
        loop = self._loop if self._pid == os.getpid() else self._start()
        # _send_all bounds itself by PUBLISH_TIMEOUT; this only guards a dead loop.
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(PUBLISH_TIMEOUT + 5)

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="dispatch112-publisher", daemon=True
                ).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop


_publisher = _PublisherLoop()


def publisher_call_later(delay: float, callback) -> None:
    """Runs `callback` on this process's publisher loop after `delay` seconds (the
    positions lane batches there)."""
    _publisher.call_later(delay, callback)


# A Redis that hangs (rather than refusing connections) must not hold the operator's response:
# past this the events are left to `resume`, as in an outage.
PUBLISH_TIMEOUT = 2.0


async def _send_all(deliveries: list[tuple[str, dict]]) -> None:
    """Every group at once: each group_send is 3–4 Redis round trips, and a report's 3–4
    groups one after the other took 6 ms. Each group still gets one message per transaction,
    so the order of events within a group is kept; a consumer belongs to one such group."""
    layer = get_channel_layer()
    async with asyncio.timeout(PUBLISH_TIMEOUT):
        await asyncio.gather(*(layer.group_send(group, message) for group, message in deliveries))


# --- Frames that are not Events (SPEC §9: the phone system's pops) --------------------------------


def publish_frame_on_commit(
    payload: dict, *, user_ids: list[int] | None = None, group: str = OPERATORS_GROUP
) -> None:
    """A live frame with no event id, after the commit: to those users' sockets (their own
    channels, notifications.revocation.user_group), or with no users to `group` (every
    operator; ALL_REPORTS_GROUP: operators and supervisors)."""
    from .revocation import user_group

    def send() -> None:
        text = encode(payload)
        if user_ids:
            deliveries = [(user_group(pk), {"type": "live.frame", "text": text}) for pk in user_ids]
        else:
            deliveries = [(group, {"type": "dispatch.events", "group": group, "texts": [text]})]
        deliver_safely(deliveries)

    transaction.on_commit(send, robust=True)
