"""The positions lane (SPEC §7, issue 34 §2): units' positions, beside the events, never in
their way.

A report event must reach an agency in milliseconds whatever the fleet is doing. Positions
used to travel as channel-layer messages through each Daphne process's one fan-out queue,
and every map viewer's socket ran a one-second timer per unit: with 1,000 units moving, report
events waited behind them for seconds (benchmarks/map_viewers.py). Here:

- **Publishing** (any process that stores a position: units.services.record_position): after
  the commit, the position joins this process's outbox, the latest per unit, which is sent
  every PUBLISH_SECONDS as ONE Redis PUBLISH on the lane's pub/sub channel. Pub/sub, not the
  layer's queues: a position that no one hears is harmless (the next one follows within
  seconds), so nothing is kept for a reader that is away, and nothing queues behind it.
- **Reading** (each Daphne process, `hub()`): one subscription per process, however many
  viewers; positions are coalesced ONCE per process: every TICK the units that moved (each at
  most once per DISPATCH_POSITION_COALESCE_SECONDS) go out as one `unit.positions` frame per
  socket, encoded once per audience (the command centre, each agency), not once per socket.
- In the embedded mode (no Redis) the outbox hands the positions to the hubs of its own
  process, on their loops.

What each socket may hear is the socket's `scope`, given by the consumer when it joins (ALL:
every unit; an agency's code: that agency's units), from the one access rule
(reports.access.positions_scope). This module knows nothing about units but the entry's
`id` and `agency`."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import weakref
from collections import defaultdict
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .outage import LAYER_ERRORS, outage
from .publish import encode
from .redis_client import async_client, key, redis_url

logger = logging.getLogger(__name__)

FRAME = "unit.positions"
ALL = "*"  # a scope: every unit (the command centre)
# How long a process gathers positions before publishing them as one message.
PUBLISH_SECONDS = 0.2
# How long a subscriber waits for Redis to confirm its subscription before the socket goes on
# without it (a dashboard is not refused for want of positions: they are the lesser lane).
SUBSCRIBE_TIMEOUT = 2.0
RETRY_SECONDS = 1.0


def tick_seconds() -> float:
    """How often a process's hub sends what moved: half the coalescing period, so that a unit
    waits at most that long once it is due."""
    return settings.DISPATCH_POSITION_COALESCE_SECONDS / 2


def channel_name() -> str:
    return key("positions")


# --- Publishing -------------------------------------------------------------------------------


def publish_on_commit(entry: dict) -> None:
    """Sends a unit's position (a dict with at least `id` and `agency`) once the transaction
    that stored it commits; never if it rolls back."""
    transaction.on_commit(lambda: _outbox.add(entry), robust=True)


class _Outbox:
    """This process's positions not yet published, the latest per unit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, dict] = {}
        self._scheduled = False
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def add(self, entry: dict) -> None:
        if redis_url() is None:
            _local_delivery([entry])
            return
        from .publish import publisher_call_later

        with self._lock:
            self._pending[entry["id"]] = entry
            if self._scheduled:
                return
            self._scheduled = True
        publisher_call_later(PUBLISH_SECONDS, self._flush)

    def _flush(self) -> None:  # on the publisher loop
        with self._lock:
            entries, self._pending, self._scheduled = list(self._pending.values()), {}, False
        if entries:
            task = asyncio.ensure_future(self._publish(entries))
            _background.add(task)
            task.add_done_callback(_background.discard)

    async def _publish(self, entries: list[dict]) -> None:
        try:
            async with asyncio.timeout(2.0):
                await self._client().publish(channel_name(), encode(entries))
        except LAYER_ERRORS as error:
            outage.lost(error, "publishing positions")  # lost: newer ones follow
        except Exception:
            logger.exception("Unit positions were not published; the next ones follow")
        else:
            outage.back()

    def _client(self):
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = async_client(socket_timeout=2, socket_connect_timeout=1)
            self._clients[loop] = client
        return client


_outbox = _Outbox()
_background: set[asyncio.Task] = set()


def _local_delivery(entries: list[dict]) -> None:
    """The embedded mode: to every hub of this process, on its own loop."""
    for hub_ in list(_hubs.values()):
        try:
            hub_.loop.call_soon_threadsafe(hub_.take, entries)
        except RuntimeError:  # its loop has closed (a test's)
            continue


# --- Reading: one hub per process (per event loop) ---------------------------------------------


class Member(Protocol):
    async def deliver_positions(self, text: str) -> None: ...


class Hub:
    """The sockets of one event loop that hear positions, and the loop's one reader."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.members: dict[Member, str] = {}
        self.latest: dict[int, dict] = {}  # unit id → its newest entry not yet sent
        self.sent_at: dict[int, float] = {}  # unit id → when it last went out
        self._flush_at: float | None = None  # a flush is scheduled for then
        self._reader: asyncio.Task | None = None
        self._subscribed: asyncio.Future | None = None

    async def join(self, member: Member, scope: str) -> None:
        self.members[member] = scope
        if redis_url() is None:
            return
        if self._reader is None or self._reader.done():
            self._subscribed = self.loop.create_future()
            self._reader = asyncio.ensure_future(self._read(self._subscribed))
        # Subscribed before the socket's snapshot is read: nothing falls between the two.
        try:
            await asyncio.wait_for(asyncio.shield(self._subscribed), SUBSCRIBE_TIMEOUT)
        except (TimeoutError, *LAYER_ERRORS):
            pass  # the reader keeps trying; report events do not wait for positions

    def leave(self, member: Member) -> None:
        self.members.pop(member, None)
        if not self.members:
            self.latest.clear()  # the reader sees no members and ends

    def take(self, entries: list[dict]) -> None:
        """New positions (on the loop): kept, the latest per unit, until the next flush."""
        if not self.members:
            return
        for entry in entries:
            self.latest[entry["id"]] = entry
        self._schedule(0.0)

    def _schedule(self, delay: float) -> None:
        at = self.loop.time() + delay
        if self._flush_at is not None and self._flush_at <= at:
            return
        self._flush_at = at
        self.loop.call_at(at, self._flush, at)

    def _flush(self, planned: float) -> None:
        if self._flush_at != planned:
            return  # rescheduled sooner meanwhile: that flush does this one's work
        self._flush_at = None
        now = self.loop.time()
        period = settings.DISPATCH_POSITION_COALESCE_SECONDS
        due = [e for i, e in self.latest.items() if now - self.sent_at.get(i, -1e9) >= period]
        for entry in due:
            del self.latest[entry["id"]]
            self.sent_at[entry["id"]] = now
        if self.latest:  # units that went out less than `period` ago: at the next tick
            self._schedule(tick_seconds())
        if not due:
            return
        if len(self.sent_at) > 4 * max(len(self.latest), 1024):  # units long gone quiet
            self.sent_at = {i: t for i, t in self.sent_at.items() if now - t < period}
        by_agency: dict[str, list[dict]] = defaultdict(list)
        for entry in due:
            by_agency[entry["agency"]].append(entry)
        server_time = timezone.now().isoformat()
        texts: dict[str, str] = {}

        def text_for(scope: str) -> str | None:
            if scope not in texts:
                units = due if scope == ALL else by_agency.get(scope)
                texts[scope] = (
                    encode({"type": FRAME, "server_time": server_time, "units": units})
                    if units
                    else None
                )
            return texts[scope]

        sends = [(m, t) for m, scope in self.members.items() if (t := text_for(scope))]
        if sends:
            task = asyncio.ensure_future(self._send(sends))
            _background.add(task)
            task.add_done_callback(_background.discard)

    async def _send(self, sends: list[tuple[Member, str]]) -> None:
        for member, text in sends:
            try:
                await member.deliver_positions(text)
            except Exception:
                logger.exception("Could not write positions to a dashboard")

    async def _read(self, subscribed: asyncio.Future) -> None:
        """The process's one subscription; ends when the last member has left. A Redis that
        is away is retried every RETRY_SECONDS, logged once per outage (notifications.outage)."""
        while self.members:
            client = async_client(socket_timeout=5, socket_connect_timeout=1)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(channel_name())
                while self.members:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        outage.back()
                        if not subscribed.done():
                            subscribed.set_result(True)
                    elif message["type"] == "message":
                        self.take(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except LAYER_ERRORS as error:
                outage.lost(error, "the positions lane")
                await asyncio.sleep(RETRY_SECONDS)
            except Exception:
                logger.exception("The positions lane failed; it reconnects")
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                try:
                    await asyncio.wait_for(pubsub.aclose(), 2)
                    await asyncio.wait_for(client.aclose(), 2)
                except Exception:  # a connection already gone
                    pass
        if not subscribed.done():
            subscribed.cancel()


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub (tests make a fresh loop often)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub(loop)
    return found
