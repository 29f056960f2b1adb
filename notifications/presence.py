"""Who is there (SPEC §12, issue 40 §1): per agency, the connected desk screens and field
phones, so that the command centre sees an agency nobody is watching before it sends it a fire.

Each process counts its own sockets by (agency code, kind) — what a socket counts as is the
domain's to say (providers.live_state.presence_of) — and, with Redis, keeps its counts in a
hash of its own that expires PRESENCE_TTL seconds after its last heartbeat: a process that
dies stops counting within that time. The total is the sum over the live hashes. A change
goes to the command centre as `{"type": "presence.updated", "presence": {...}}`, at most one
per BROADCAST_SECONDS per process; the operators' and supervisors' snapshot carries the same
`presence` (reports.live_state)."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
import weakref
from collections import Counter

from channels.layers import get_channel_layer

from .outage import LAYER_ERRORS, outage
from .publish import ALL_REPORTS_GROUP, encode
from .redis_client import async_client, key, redis_url, sync_client

logger = logging.getLogger(__name__)

KINDS = ("desk", "field")
BROADCAST_SECONDS = 1.0
PRESENCE_TTL = 30  # seconds a process's counts outlive its last heartbeat
HEARTBEAT_SECONDS = 10


def _prefix() -> str:
    return key("presence:")


def _field(counted: tuple[str, str]) -> str:
    return f"{counted[0]}|{counted[1]}"


def _add(total: dict, field: str, count: int) -> None:
    agency, _, kind = field.partition("|")
    if count > 0 and kind in KINDS:
        counts = total.setdefault(agency, {"desk": 0, "field": 0})
        counts[kind] += count


class Tracker:
    """The sockets of one event loop (a Daphne process), counted by (agency, kind)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.counts: Counter = Counter()
        self.key = _prefix() + uuid.uuid4().hex
        self._redis = None
        self._last_broadcast = -1e9
        self._broadcast_at: float | None = None
        self._heartbeat: asyncio.Task | None = None
        self._dirty = False

    def joined(self, key: tuple[str, str]) -> None:
        self.counts[key] += 1
        self._changed()

    def left(self, key: tuple[str, str]) -> None:
        self.counts[key] -= 1
        if self.counts[key] <= 0:
            del self.counts[key]
        self._changed()

    def _changed(self) -> None:
        self._dirty = True
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.ensure_future(self._beat())
        at = max(self.loop.time(), self._last_broadcast + BROADCAST_SECONDS)
        if self._broadcast_at is None:
            self._broadcast_at = at
            self.loop.call_at(at, lambda: _spawn(self._broadcast()))

    async def _beat(self) -> None:
        """Stores this process's counts at once and every HEARTBEAT_SECONDS while it has any;
        Redis away is logged once per outage (notifications.outage), and retried."""
        if redis_url() is None:
            return
        while True:
            try:
                await self._store()
            except LAYER_ERRORS as error:
                outage.lost(error, "presence")
            if not self.counts and not self._dirty:
                return
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _store(self) -> None:
        self._dirty = False
        client = self._client()
        async with asyncio.timeout(2.0):
            pipe = client.pipeline(transaction=True)
            pipe.delete(self.key)
            if self.counts:
                pipe.hset(self.key, mapping={_field(k): n for k, n in self.counts.items()})
                pipe.expire(self.key, PRESENCE_TTL)
            await pipe.execute()

    def _client(self):
        if self._redis is None:
            self._redis = async_client(
                socket_timeout=2, socket_connect_timeout=1, decode_responses=True
            )
        return self._redis

    async def _broadcast(self) -> None:
        self._broadcast_at = None
        self._last_broadcast = self.loop.time()
        try:
            if redis_url() is not None:
                if self._dirty:
                    await self._store()
                total = await self._total()
            else:
                total = current()
            text = encode({"type": "presence.updated", "presence": total})
            message = {"type": "dispatch.events", "group": ALL_REPORTS_GROUP, "texts": [text]}
            async with asyncio.timeout(2.0):
                await get_channel_layer().group_send(ALL_REPORTS_GROUP, message)
        except LAYER_ERRORS as error:
            outage.lost(error, "presence")
        except Exception:
            logger.exception("Presence was not sent; the next change sends it")

    async def _total(self) -> dict:
        client = self._client()
        total: dict = {}
        async with asyncio.timeout(2.0):
            async for name in client.scan_iter(match=_prefix() + "*", count=100):
                for field, count in (await client.hgetall(name)).items():
                    _add(total, field, int(count))
        return total


_trackers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_background: set[asyncio.Task] = set()


def _spawn(coroutine) -> None:
    task = asyncio.ensure_future(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


def tracker() -> Tracker:
    """This event loop's tracker."""
    loop = asyncio.get_running_loop()
    with _lock:
        found = _trackers.get(loop)
        if found is None:
            found = _trackers[loop] = Tracker(loop)
    return found


def current() -> dict:
    """Every agency's connected desks and phones, {code: {"desk": n, "field": m}} (agencies
    with nobody are absent), from synchronous code (a snapshot)."""
    total: dict = {}
    if redis_url() is None:
        with _lock:
            trackers = list(_trackers.values())
        for found in trackers:
            for counted, count in list(found.counts.items()):
                _add(total, _field(counted), count)
        return total
    client = sync_client(socket_timeout=2, socket_connect_timeout=1, decode_responses=True)
    try:
        for name in client.scan_iter(match=_prefix() + "*", count=100):
            for field, count in client.hgetall(name).items():
                _add(total, field, int(count))
    except LAYER_ERRORS as error:
        outage.lost(error, "presence")
    finally:
        client.close()
    return total
