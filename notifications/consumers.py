"""/ws/events/ (SPEC §5): a snapshot on connect, live events, and resume from an event id."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import weakref
from collections import deque
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import metrics, positions, presence, providers
from .fanout import LAYER_LOST, fanout_for, membership_refresh_seconds, stopping
from .layer import stoppable_receive
from .outage import LAYER_ERRORS, RETRY_HINT_MS, outage
from .publish import register_server_loop
from .revocation import session_group, token_group, user_group

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
# A field officer signed on to another unit, or off: the app reconnects into its new groups.
UNIT_CHANGED = 4001
# The user's access changed (groups, agency, role: agencies.revocation): the app
# reconnects, and is given the new scope or refused.
ACCESS_CHANGED = 4003
# A client's frames are a few dozen characters (`resume`); anything this long is not parsed.
MAX_FRAME_CHARS = 64 * 1024
# channels-redis's connection pool (redis-py) refuses a command past its 100 connections
# instead of waiting for one: a burst of dashboards reconnecting at once (a restarted process)
# made some connects fail with HTTP 500. Group changes take one of these slots per loop.
MEMBERSHIP_SLOTS = 32
_slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _membership_slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if (slot := _slots.get(loop)) is None:
        slot = _slots[loop] = asyncio.Semaphore(MEMBERSHIP_SLOTS)
    return slot


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """A dashboard. Its live events come through the process's fan-out (fanout.py); its own
    channel carries only the messages meant for this one socket (revocation)."""

    # Frames held back while a snapshot or a replay is being sent (None: deliver at once):
    # (event id or None, text).
    held: list[tuple[int | None, str]] | None = None
    left = False  # the consumer has ended: its loops stop
    layer_gone = False  # the layer failed under this socket: its own channel is not read
    closed_for_outage = False  # closed with LAYER_LOST (once, whoever noticed first)
    # The highest event id sent on this socket (SPEC §12a: none lower, none twice after it).
    last_sent = 0
    # The highest snapshot mark sent: every event up to it is in the screen's state.
    covered = 0
    late = 0  # event frames that came too late to be sent in order (each caught up)

    async def connect(self):
        user = self.scope.get("user")
        state = providers.live_state
        groups = await database_sync_to_async(state.groups_for)(user)  # its viewer pinned
        if groups is None:
            # Accept first: a close code only reaches the client on an open socket.
            await self.accept()
            await self.close(code=UNAUTHENTICATED)
            return
        after = _last_event_id(self.scope)
        # Groups to close it by when its user signs out or is deactivated (revocation.py).
        own = _revocation_groups(self.scope, user)
        self.subscribed = own
        register_server_loop(asyncio.get_running_loop())
        self.held = []
        self.sent_recently: deque[int] = deque(maxlen=RECENT_IDS)
        try:
            await self._join(own)
            self.fanout = fanout_for(self.channel_layer)
            await self.fanout.join(self, groups)
        except LAYER_ERRORS as error:
            # Redis away (issue 35 §3): a clean close with the documented code and a hint
            # when to come back, never an HTTP 500 or a traceback per socket.
            outage.lost(error, "a dashboard connecting")
            self.subscribed = []
            await self.accept()
            await self._close_for_outage()
            return
        outage.back()
        if (counted := state.presence_of(user)) is not None:
            self.counted = counted
            presence.tracker().joined(counted)
        self.metered = metrics.socket_opened(*providers.socket_labels(user))  # /metrics
        if (scope := state.positions_scope(user)) is not None:
            self.positions = positions.hub()
            await self.positions.join(self, scope)
        self.user = user
        self.membership = asyncio.ensure_future(self._keep_membership(own))
        await self.accept()
        # Subscribed before the snapshot is read: nothing can fall between the two.
        await self._catch_up(after)

    async def _catch_up(self, after: int | None) -> None:
        """SPEC §12a: the snapshot, then every event after `after` the user may see in id
        order (none when `after` is None: a first connect), then the live frames held
        meanwhile, in id order, without those already sent. Live frames are held from the
        call on (the caller set `held` before it joined anything)."""
        if self.held is None:
            self.held = []
        try:
            catch_up = providers.live_state.snapshot_and_replay
            state, events = await database_sync_to_async(catch_up)(self.user, after)
            await self.send_json(state)
            for message in events:
                if message["event_id"] > self.last_sent:
                    await self.send_json(message)
                    self._sent(message["event_id"])
            # Frames up to the snapshot's mark are in it (ids follow commit order): a held
            # frame at or below it is older than the state the screen now has.
            self.last_sent = max(self.last_sent, state["last_event_id"])
            self.covered = max(self.covered, state["last_event_id"])
        finally:
            await self._release()

    async def _catch_up_quietly(self, after: int) -> None:
        try:
            await self._catch_up(after)
        except Exception:  # the socket closed meanwhile, say: its screen reconnects
            if not self.left:
                logger.exception("A dashboard's catch-up failed")
                await self.close(code=LAYER_LOST)

    def _sent(self, event_id: int) -> None:
        self.last_sent = max(self.last_sent, event_id)
        self.sent_recently.append(event_id)

    async def _close_for_outage(self) -> None:
        self.layer_gone = True
        if self.closed_for_outage:
            return
        self.closed_for_outage = True
        with contextlib.suppress(Exception):
            await self.send_json({"type": "unavailable", "retry_after_ms": RETRY_HINT_MS})
        await self.close(code=LAYER_LOST)

    # channels' AsyncConsumer sets `channel_receive` to the layer's receive for its own
    # channel; it is read through notifications.layer, whose reads can always be stopped
    # (a disconnected consumer would otherwise wait on it for ever).
    @property
    def channel_receive(self):
        return functools.partial(self._read_own_channel)

    async def _read_own_channel(self) -> dict:
        """The socket's own channel (revocation). With Redis away it raised ConnectionError
        out of channels' __call__: a 1011 and a traceback per socket. Now the outage is
        recorded (logged once per process) and the socket closed with LAYER_LOST."""
        if self.layer_gone:
            await asyncio.Future()  # closed already: wait to be cancelled, never spin
        try:
            return await stoppable_receive(self.channel_layer, self.channel_name)
        except LAYER_ERRORS as error:
            if stopping():
                raise asyncio.CancelledError from None
            outage.lost(error, "a dashboard's own channel")
            self.layer_gone = True
            return {"type": "channel.layer.lost"}

    @channel_receive.setter
    def channel_receive(self, receive) -> None:
        pass  # the partial above reads the same channel

    async def deliver(self, texts: list[str], ids: list[int | None] | None = None) -> None:
        """Live events from notifications.publish, already scoped by group and encoded, with
        their event ids (None: a frame that is not an event). No event frame goes out with
        an id at or below one already sent (SPEC §12a); one that comes in too late for that
        (published more than fanout.ORDER_HOLD after a higher one) is never sent out of
        order: the socket gets a fresh snapshot and the events after its mark instead."""
        frames = list(zip(ids if ids is not None else _ids_of(texts), texts, strict=True))
        if self.held is not None:
            self.held.extend(frames)
            return
        for event_id, text in frames:
            if self.held is not None:  # a catch-up began (below): it releases these
                self.held.append((event_id, text))
            elif event_id is None:
                await self.send(text_data=text)
            elif event_id > self.last_sent:
                await self.send(text_data=text)
                self._sent(event_id)
            elif event_id > self.covered and event_id not in self.sent_recently:
                # Late: never sent, not in a snapshot, and a higher one was sent.
                logger.warning("Event %s came late for a dashboard: it gets a snapshot", event_id)
                self.late += 1
                self.held = []
                task = asyncio.ensure_future(self._catch_up_quietly(self.last_sent))
                _background.add(task)
                task.add_done_callback(_background.discard)
            # else: a repeat, or in the snapshot already (ids follow commit order): dropped

    async def deliver_positions(self, text: str) -> None:
        """A `unit.positions` frame from this process's positions hub (positions.py), which
        coalesced it for every socket at once. Held with the events while a snapshot or a
        replay is being sent (it is newer than the snapshot's units)."""
        if self.held is not None:
            self.held.append((None, text))
        else:
            await self.send(text_data=text)

    async def live_frame(self, message) -> None:
        """A frame for this user alone (notifications.publish.publish_frame_on_commit)."""
        await self.deliver([message["text"]])

    async def layer_lost(self) -> None:
        await self._close_for_outage()

    async def channel_layer_lost(self, message) -> None:
        await self.layer_lost()

    async def _release(self) -> None:
        """Sends the held frames: events in id order, none at or below the last id sent.
        Frames that come in while these are being written are taken in the next round."""
        while self.held:
            frames, self.held = self.held, []
            others = [text for event_id, text in frames if event_id is None]
            events = sorted({i: t for i, t in frames if i is not None}.items())
            for text in others:
                await self.send(text_data=text)
            for event_id, text in events:
                if event_id > self.last_sent:
                    await self.send(text_data=text)
                    self._sent(event_id)
        self.held = None

    async def _join(self, groups: list[str]) -> None:
        async with _membership_slot():
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)

    async def _keep_membership(self, groups: list[str]) -> None:
        """Re-joins the groups every quarter of their expiry: the channel layer drops a
        member `group_expiry` seconds after it joined, connected or not."""
        while not self.left:  # not `while True`: see fanout.ProcessFanout._read
            await asyncio.sleep(membership_refresh_seconds())
            try:
                await self._join(groups)
            except Exception as error:
                if stopping():
                    raise asyncio.CancelledError from None
                # Redis away: the next round retries; meanwhile the client's resume covers it.
                if isinstance(error, LAYER_ERRORS):
                    outage.lost(error)
                else:
                    logger.exception("Could not renew the groups of %s", self.channel_name)

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the consumer ends (disconnect, an error in connect or the snapshot, or
            # Daphne cancelling a handshake that took too long), the process's fan-out must
            # stop writing to it and holding frames for it.
            self._leave()

    def _leave(self) -> None:
        self.left = True
        if fanout := getattr(self, "fanout", None):
            fanout.leave(self)
        if hub := getattr(self, "positions", None):
            hub.leave(self)
        if counted := self.__dict__.pop("counted", None):
            presence.tracker().left(counted)
        if metered := self.__dict__.pop("metered", None):
            metrics.socket_closed(metered)
        if membership := getattr(self, "membership", None):
            membership.cancel()

    async def disconnect(self, code):
        self._leave()
        try:
            async with _membership_slot():
                for group in getattr(self, "subscribed", []):
                    await self.channel_layer.group_discard(group, self.channel_name)
        except LAYER_ERRORS as error:
            outage.lost(error)  # the memberships expire by themselves

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A client's frame. Bad ones get an error frame and are otherwise ignored: never an
        exception, a traceback or a 1011. (A binary frame is answered too: the close code
        for it, 1003, is one Daphne refuses to send, which ended the socket with a 1011.)"""
        if not hasattr(self, "user"):
            return  # refused at connect: the close is on its way
        if text_data is None:
            await self.send_json(BINARY_REFUSED)
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.send_json({"type": "error", "detail": "frame too large"})
            return
        try:
            content = json.loads(text_data)
        except RecursionError:  # as the HTTP API's parser (dispatch112.api.JSONParser)
            await self.send_json({"type": "error", "detail": "JSON nested too deeply"})
            return
        except ValueError:
            await self.send_json({"type": "error", "detail": "frame is not JSON"})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind in providers.FRAME_HANDLERS and kind != "resume":
            reply = await providers.FRAME_HANDLERS[kind](self.user, content)
            if reply is not None:
                await self.send_json(reply)
            return
        if kind != "resume":
            await self.send_json({"type": "error", "detail": "unknown message type"})
            return
        after = content.get("last_event_id")
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < 2**63:
            await self.send_json({"type": "error", "detail": "last_event_id must be an integer"})
            return
        # A resume replays up to a few thousand events: one per DISPATCH_WS_RESUME_SECONDS.
        now = asyncio.get_running_loop().time()
        if now < self.__dict__.get("resumed_at", -1e9) + settings.DISPATCH_WS_RESUME_SECONDS:
            await self.send_json(RESUME_TOO_SOON)
            return
        self.resumed_at = now
        # Live events wait until the replay is out: the client gets them in order.
        if self.held is None:
            self.held = []
        try:
            replay = providers.live_state.replay
            for message in await database_sync_to_async(replay)(self.user, after):
                await self.send_json(message)
                if message.get("type") == "snapshot":
                    self.last_sent = max(self.last_sent, message["last_event_id"])
                    self.covered = max(self.covered, message["last_event_id"])
                elif (event_id := message.get("event_id")) is not None:
                    self._sent(event_id)
        finally:
            await self._release()

    async def session_revoked(self, message):
        """The user signed out or was deactivated: the dashboard goes to the login page."""
        await self.close(code=UNAUTHENTICATED)

    async def unit_changed(self, message):
        """A field officer signed on to another unit or off: reconnect into the new groups."""
        await self.close(code=UNIT_CHANGED)

    async def access_changed(self, message):
        """The user's role or agency changed: what this socket hears is no longer theirs."""
        await self.close(code=ACCESS_CHANGED)


# Event ids a socket remembers having sent, to tell a repeat (dropped) from a late frame.
RECENT_IDS = 4096


def _last_event_id(scope) -> int | None:
    """`?last_event_id=N` of a reconnecting client (SPEC §12a); None if absent or not a
    non-negative integer (then the client gets the snapshot alone)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    value = (query.get("last_event_id") or [""])[0]
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _ids_of(texts: list[str]) -> list[int | None]:
    """Event ids of frames from a publisher older than the ids in its messages."""
    ids = []
    for text in texts:
        try:
            event_id = json.loads(text).get("event_id")
        except (ValueError, AttributeError):
            event_id = None
        ids.append(event_id if isinstance(event_id, int) else None)
    return ids


BINARY_REFUSED = {"type": "error", "field": "frame", "detail": "frames must be JSON text"}
RESUME_TOO_SOON = {
    "type": "error",
    "field": "type",
    "detail": "resume at most once every few seconds: this one was ignored",
}

_background: set = set()


def _revocation_groups(scope, user) -> list[str]:
    if scope.get("auth_method") == "token":
        return [user_group(user.pk), token_group(user.pk)]
    session_key = getattr(scope.get("session"), "session_key", None)
    return [user_group(user.pk)] + ([session_group(session_key)] if session_key else [])
