"""One channel-layer member per process and group: a live event reaches a process once and is
written from there to each of the process's dashboards in that group.

With one channel-layer member per dashboard, channels-redis already carries one Redis message
per process, but each dashboard then wakes its own consumer task, which takes the message from
its buffer, dispatches it and loops back to wait (new asyncio tasks every time): a few hundred
microseconds per dashboard and event, 0.8 s for 2,000 dashboards of one agency. Here the
process's reader hands the message's frames to every local dashboard in one pass.

What stays the same: the messages travel in channels-redis's queues, not Redis pub/sub, so a
reader that is briefly slow or reconnecting finds them waiting (within the layer's `expiry`
and `capacity`). If the reader cannot reach the layer at all, every dashboard it serves is
closed, so that each one reconnects and resumes from its last event id instead of waiting on
an open socket that no longer receives anything.

A dashboard joins before it reads its snapshot and is held (its frames kept back) until the
snapshot has been sent; the same hold covers a resume's replay, so events always reach a
client in order.

Event frames are released in id order (per group): event ids follow commit order (the
advisory lock taken by the events table's trigger, notifications/migrations), but two
transactions that commit one after the other publish from two threads or processes, and the
second's message can reach Redis first. Every publisher therefore also sends each
transaction's ids to PUBLISHED_GROUP, which every process joins, AFTER the events themselves:
in the process's one queue that message comes behind the frames it names. A frame is released
as soon as every id up to its own is known to be published (at once, in the usual case); one
behind a gap (an id never published: its transaction rolled back, or its publisher lost the
layer) is released once it has waited ORDER_HOLD, together with every held frame of a lower
id. The consumer drops anything that would still go backwards on its socket
(EventsConsumer.deliver)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import defaultdict
from typing import Protocol

from django.conf import settings

from . import metrics
from .layer import stoppable_receive
from .outage import LAYER_ERRORS, outage
from .publish import IDS_MESSAGE, PUBLISHED_GROUP

logger = logging.getLogger(__name__)

# Close code for dashboards whose process lost the channel layer: clients reconnect and resume.
LAYER_LOST = 4500
RETRY_SECONDS = 1.0
# How long an event frame waits behind a gap in the published ids (above).
ORDER_HOLD = 0.1


class Member(Protocol):
    async def deliver(self, texts: list[str], ids: list[int | None] | None = None) -> None: ...

    async def layer_lost(self) -> None: ...


class ProcessFanout:
    """The dashboards of one event loop (a Daphne process), by group, behind one channel."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[str, set[Member]] = defaultdict(set)
        # group → the group_add that made this process's channel a member; awaited by every
        # dashboard joining the group, so that none reads its snapshot before the process is
        # subscribed.
        self._joined: dict[str, asyncio.Future] = {}
        # Every group the channel was added to, to leave them all when the fan-out stops.
        self._subscribed: set[str] = set()
        self._tasks: list[asyncio.Task] = []
        # group → [(event id, text, arrived, published at)] held for ORDER_HOLD; group → its
        # release task.
        self._held: dict[str, list[tuple[int, str, float, float | None]]] = defaultdict(list)
        self._releasing: dict[str, asyncio.Task] = {}
        self._wake: dict[str, asyncio.Event] = {}
        # Every event id up to `_upto` is known to be published (None: not yet known where
        # the stream stands); ids above it already announced, waiting for the ones between.
        self._upto: int | None = None
        self._announced: set[int] = set()

    async def join(self, member: Member, groups: list[str]) -> None:
        if self.channel is None:
            # A "specific" channel like every consumer's: channels-redis reads one Redis key
            # per process for them, and a channel under another prefix would wait for it.
            channel = await self.layer.new_channel()
            if self.channel is None:  # no other dashboard made one meanwhile
                self.channel = channel
                self._tasks = [
                    asyncio.ensure_future(self._read(channel)),
                    asyncio.ensure_future(self._refresh(channel)),
                ]
        channel = self.channel
        # PUBLISHED_GROUP has no members here: the process hears it for its own sake (and
        # never "forgets" it while it has dashboards).
        for group in [PUBLISHED_GROUP, *groups]:
            if group != PUBLISHED_GROUP:
                self.members[group].add(member)
            joined = self._joined.get(group)
            if joined is None or (joined.done() and joined.exception() is not None):
                joined = self._joined[group] = asyncio.ensure_future(
                    self.layer.group_add(group, channel)
                )
                self._subscribed.add(group)
            try:
                await asyncio.shield(joined)
            except BaseException:
                # Cancelled too (Daphne gave up on the handshake): the caller's leave()
                # runs as well, and running both is harmless.
                self._forget(member, group)
                raise

    def leave(self, member: Member) -> None:
        """Idempotent: a consumer calls it however it ends."""
        for group in [g for g, members in self.members.items() if member in members]:
            self._forget(member, group)
        if not self.members and self.channel is not None:
            self._stop()

    def _forget(self, member: Member, group: str) -> None:
        members = self.members.get(group)
        if members is None:
            return
        members.discard(member)
        if not members:
            del self.members[group]
            # The next dashboard of this group joins it again: the membership left behind
            # is no longer renewed (_refresh) and may have expired by then.
            self._joined.pop(group, None)

    def _stop(self) -> None:
        """The last dashboard left: stop reading, and take the channel out of every group it
        was added to (messages to a channel nobody reads would pile up in the layer's
        buffer, up to its capacity)."""
        channel, groups = self.channel, sorted(self._subscribed)
        for task in [*self._tasks, *self._releasing.values()]:
            task.cancel()
        self._tasks, self._joined, self._subscribed, self.channel = [], {}, set(), None
        self._held, self._releasing, self._wake = defaultdict(list), {}, {}
        self._upto, self._announced = None, set()
        if channel is not None and groups:
            task = asyncio.ensure_future(self._discard(channel, groups))
            _background.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(_background.discard)

    async def _discard(self, channel: str, groups: list[str]) -> None:
        for group in groups:
            try:
                await self.layer.group_discard(group, channel)
            except Exception as error:
                if stopping():
                    raise asyncio.CancelledError from None
                if isinstance(error, LAYER_ERRORS):
                    outage.lost(error)  # logged once per outage; the membership expires
                    return
                logger.warning("Could not leave %s; the membership expires by itself", group)

    async def _read(self, channel: str) -> None:
        # Until _stop() gives the fan-out up, not `while True`: a cancellation can also be
        # lost on its way through the layer (as a timeout, say), and a loop that retried for
        # ever would hang its event loop's shutdown.
        while self.channel == channel:
            try:
                message = await stoppable_receive(self.layer, channel)
            except Exception as error:
                if stopping():
                    raise asyncio.CancelledError from None
                if self.channel != channel:
                    return
                if isinstance(error, LAYER_ERRORS):
                    outage.lost(error, "the process's fan-out")  # one line per outage
                else:
                    logger.exception("Live events: the channel layer failed")
                await self._lose_everyone()
                await asyncio.sleep(RETRY_SECONDS)
                continue
            outage.back()
            kind = message.get("type")
            if kind == IDS_MESSAGE:
                self._published(message.get("ids") or [])
                continue
            if kind != "dispatch.events":  # positions have a lane of their own (positions.py)
                continue
            group = message.get("group")
            if kind == "dispatch.events" and (ids := message.get("ids")) is not None:
                self._hold(group, ids, message["texts"], message.get("at"))
                continue
            await self._deliver(group, kind, message)

    async def _deliver(self, group, kind: str, message: dict) -> None:
        members = list(self.members.get(group, ()))
        for member in members:
            try:
                await member.deliver(message["texts"], message.get("ids"))
            except Exception:
                logger.exception("Could not write to a dashboard")
        if members and (at := message.get("at")) is not None:
            metrics.delivered(at)  # once per batch written, not per socket

    def _hold(self, group: str, ids: list[int], texts: list[str], at: float | None) -> None:
        now = asyncio.get_running_loop().time()
        self._held[group].extend((i, t, now, at) for i, t in zip(ids, texts, strict=True))
        if group not in self._releasing:
            self._releasing[group] = asyncio.ensure_future(self._release(group))
        elif wake := self._wake.get(group):
            wake.set()

    def _published(self, ids: list[int]) -> None:
        """A transaction's ids, announced after its frames: advances the mark up to which
        every id is known, and wakes the groups whose frames it frees."""
        if not ids:
            return
        if self._upto is None:  # the first announcement this process hears: start there
            self._upto = min(ids) - 1
        self._announced.update(i for i in ids if i > self._upto)
        self._advance(self._upto)
        for group, held in self._held.items():
            if held and (wake := self._wake.get(group)):
                wake.set()

    def _advance(self, mark: int) -> None:
        upto = max(self._upto if self._upto is not None else mark, mark)
        while upto + 1 in self._announced:
            upto += 1
        self._upto = upto
        self._announced = {i for i in self._announced if i > upto}

    async def _release(self, group: str) -> None:
        """Releases the group's held frames in id order: each once every lower id is known
        to be published, or once it has waited ORDER_HOLD, with every held frame of a lower
        id."""
        loop = asyncio.get_running_loop()
        wake = self._wake.setdefault(group, asyncio.Event())
        try:
            while held := self._held.get(group):
                now = loop.time()
                upto = self._upto if self._upto is not None else -1
                due = [i for i, _, arrived, _ in held if i <= upto or arrived + ORDER_HOLD <= now]
                if not due:
                    oldest = min(arrived for _, _, arrived, _ in held)
                    wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), max(oldest + ORDER_HOLD - now, 0))
                    continue
                mark = max(due)
                if mark > upto:  # waited out a gap: the ids in it are taken as never coming
                    self._advance(mark)
                out = sorted((f for f in held if f[0] <= mark), key=lambda f: f[0])
                self._held[group] = [f for f in held if f[0] > mark]
                message = {
                    "texts": [f[1] for f in out],
                    "ids": [f[0] for f in out],
                    "at": min((f[3] for f in out if f[3] is not None), default=None),
                }
                await self._deliver(group, "dispatch.events", message)
        finally:
            if self._releasing.get(group) is asyncio.current_task():
                del self._releasing[group]
                self._wake.pop(group, None)
                if not self._held.get(group):
                    self._held.pop(group, None)
                elif self.channel is not None:  # arrived while this task was ending
                    self._releasing[group] = asyncio.ensure_future(self._release(group))

    async def _lose_everyone(self) -> None:
        """Closes every dashboard of the process: they reconnect (joining afresh, which adds
        the channel to its groups again: a restarted Redis has forgotten them) and resume."""
        self._joined = {}
        members = {m for group in self.members.values() for m in group}
        for member in members:
            try:
                await member.layer_lost()
            except Exception:
                logger.exception("Could not close a dashboard")

    async def _refresh(self, channel: str) -> None:
        """Re-joins the groups every quarter of their expiry: the channel layer drops a
        member `group_expiry` seconds after it joined, however active it is."""
        while self.channel == channel:
            await asyncio.sleep(membership_refresh_seconds())
            for group in [*self.members, PUBLISHED_GROUP]:
                try:
                    await self.layer.group_add(group, channel)
                except Exception as error:
                    if stopping():
                        raise asyncio.CancelledError from None
                    # The reader notices an outage too and closes the dashboards.
                    if isinstance(error, LAYER_ERRORS):
                        outage.lost(error)
                    else:
                        logger.exception("Could not renew group %s", group)


def stopping() -> bool:
    """Whether the running task has been asked to stop (then raise CancelledError).

    A loop that logs and retries on errors must check this: a cancellation can reach it as
    another exception (channels-redis's receive raises AssertionError when several receivers
    are cancelled at once), and a loop that took it for an outage would retry for ever,
    hanging its event loop's shutdown."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def membership_refresh_seconds() -> float:
    return settings.CHANNEL_GROUP_EXPIRY / 4


_background: set[asyncio.Task] = set()
_fanouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fanout_for(layer) -> ProcessFanout:
    """The fan-out of this event loop for `layer` (tests make a fresh layer and loop often)."""
    loop = asyncio.get_running_loop()
    by_layer = _fanouts.setdefault(loop, {})
    fanout = by_layer.get(id(layer))
    if fanout is None or fanout.layer is not layer:
        fanout = by_layer[id(layer)] = ProcessFanout(layer)
    return fanout
