"""The one place live frames leave the process: to channel-layer groups, on this process's
publisher loop. Transport only: which events a change makes and who hears them is the
domain's (reports.live computes both and hands the frames here after the commit).

Groups are per agency (`agency.<code>`: staff of the agencies on the report), per unit
(`unit.<id>`: its crew) plus one for the command centre (`reports.all`: operators and
supervisors), so a fan-out costs one group_send per group, never a loop over users."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from . import metrics

logger = logging.getLogger(__name__)

Deliveries = list[tuple[str, dict]] | tuple[()]

ALL_REPORTS_GROUP = "reports.all"
# Every process's fan-out: the ids of each transaction's events, sent after the events
# themselves, so that a process knows when no lower id can still be on its way
# (notifications.fanout: frames are released in id order at once, not after a hold).
PUBLISHED_GROUP = "events.published"
IDS_MESSAGE = "dispatch.ids"
# The operators' consoles (SPEC §9: an incoming call pops on every operator's without an
# extension); supervisors and agencies are not in it.
OPERATORS_GROUP = "operators"


def agency_group(code: str) -> str:
    return f"agency.{code}"


def unit_group(unit_id: int) -> str:
    """The field officers signed on to one unit."""
    return f"unit.{unit_id}"


def send_events(frames: dict[str, list[tuple[int, str]]]) -> bool:
    """Sends each group its event frames — (event id, encoded text), in id order — as ONE
    channel-layer message per group (the ids travel beside the texts: the fan-out and the
    consumers keep every socket in id order without parsing them, SPEC §12a). The domain
    decides the frames and their audience (reports.live); this only carries them. False if
    the layer was unavailable (logged; clients catch up by resuming)."""
    # When they were published, just after their commit: each process's fan-out observes how
    # long they took to reach its sockets (dispatch_delivery_seconds). Not in the frames.
    at = metrics.now()
    deliveries = [
        (
            group,
            {
                "type": "dispatch.events",
                "group": group,
                "texts": [text for _, text in pairs],
                "ids": [event_id for event_id, _ in pairs],
                "at": at,
            },
        )
        for group, pairs in frames.items()
    ]
    ids = sorted({event_id for pairs in frames.values() for event_id, _ in pairs})
    published = [(PUBLISHED_GROUP, {"type": IDS_MESSAGE, "group": PUBLISHED_GROUP, "ids": ids})]
    if sent := deliver_safely(deliveries, then=published):
        metrics.published(len(ids))
    return sent


def encode(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def deliver_safely(deliveries: list[tuple[str, dict]], then: Deliveries = ()) -> bool:
    """Sends (group, message) pairs, and once they are all in the layer the pairs of `then`;
    a channel-layer outage is logged, never raised."""
    from .outage import LAYER_ERRORS, outage

    try:
        _deliver(deliveries, then)
    except LAYER_ERRORS as error:
        outage.lost(error, "publishing")  # one line per outage, not a traceback per publish
        return False
    except Exception:
        metrics.layer_error()
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


def _deliver(deliveries: Deliveries, then: Deliveries = ()) -> None:
    if not isinstance(get_channel_layer(), InMemoryChannelLayer):
        # Redis: on the process's publisher loop, whose connections outlive each publish.
        _publisher.run(_send_all(deliveries, then))
        return
    loop = _server_loop
    if loop is not None and loop.is_running():
        # Never called on the loop's own thread: this is synchronous code (it queried the ORM).
        asyncio.run_coroutine_threadsafe(_send_all(deliveries, then), loop).result(timeout=10)
    elif _thread_runs_a_loop():
        # Synchronous code on a thread whose own loop is running (a synchronous Playwright
        # script seeding its data): async_to_sync refuses such a thread, and no consumer of
        # this process listens there, so the publisher loop carries the messages.
        _publisher.run(_send_all(deliveries, then))
    else:
        # No dashboard has connected to this process yet.
        async_to_sync(_send_all)(deliveries, then)


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


async def _send_all(deliveries: Deliveries, then: Deliveries = ()) -> None:
    """Every group at once: each group_send is 3–4 Redis round trips, and a report's 3–4
    groups one after the other took 6 ms. Each group still gets one message per transaction,
    so the order of events within a group is kept; a consumer belongs to one such group."""
    layer = get_channel_layer()
    async with asyncio.timeout(PUBLISH_TIMEOUT):
        await asyncio.gather(*(layer.group_send(group, message) for group, message in deliveries))
        if then:  # after: a reader finds these behind the messages above in its queue
            await asyncio.gather(*(layer.group_send(group, message) for group, message in then))


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
