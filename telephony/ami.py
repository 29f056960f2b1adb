"""Asterisk Manager Interface events → the CTI events of SPEC §9 (ringing / answered /
ended), for `manage.py pbx_bridge --ami`. Pure: it reads events as dictionaries (header →
value, as panoramisk's Message gives them) and answers what to post; the bridge does the I/O.

How an emergency call looks on the AMI (Asterisk 16–22, `Events: call`):

- `Newchannel` of the caller's channel — the call's first channel, so its `Uniqueid` is its
  `Linkedid` — with `Exten` the number dialled (112) in the trunk's `Context`: **ringing**,
  at no extension (the queue rings every free operator), with `CallerIDNum`.
- `Newstate` to `ChannelState: 6` (Up) of another channel of the same `Linkedid` — the
  operator's phone, `PJSIP/101-0000000b` — **answered** at extension 101. The caller's own
  channel going Up (`Answer()` before the queue's music) is not an answer by an operator.
- `Hangup` of the caller's channel: **ended** (never answered: an abandoned call).

With `timestampevents=yes` in manager.conf each event has `Timestamp` (epoch seconds), sent
as `at`; without it the server takes the time of receipt."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

# AST_STATE_UP: the channel is answered.
STATE_UP = "6"
# PJSIP/101-0000000b, SIP/101-00000002, IAX2/101-1234, Local/101@agents-00000001;1
_DEVICE = re.compile(r"^[A-Za-z0-9]+/(?P<ext>[^-@/;]+)")


@dataclass(frozen=True)
class CtiEvent:
    call_id: str
    event: str
    caller_phone: str = ""
    extension: str = ""
    at: datetime | None = None

    def as_json(self) -> dict:
        body = {"call_id": self.call_id, "event": self.event}
        if self.caller_phone:
            body["caller_phone"] = self.caller_phone
        if self.extension:
            body["extension"] = self.extension
        if self.at is not None:
            body["at"] = self.at.isoformat()
        return body


def extension_of(channel: str) -> str:
    """PJSIP/101-0000000b → "101" (the device the channel is on)."""
    match = _DEVICE.match(channel or "")
    return match.group("ext") if match else ""


def _at(event: Mapping[str, str]) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(event.get("Timestamp") or ""), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@dataclass
class CallTracker:
    """Follows the emergency calls on the AMI. `numbers` are the dialled numbers that make a
    call an emergency call (112, the centre's DIDs); `contexts` the dialplan contexts whose
    every call is one. Either may be empty; with both empty every inbound call counts."""

    numbers: frozenset[str] = frozenset({"112"})
    contexts: frozenset[str] = frozenset()
    _open: dict[str, bool] = field(default_factory=dict)  # linkedid → answered?

    def is_emergency(self, event: Mapping[str, str]) -> bool:
        if not self.numbers and not self.contexts:
            return True
        return event.get("Exten", "") in self.numbers or event.get("Context", "") in self.contexts

    def feed(self, event: Mapping[str, str]) -> list[CtiEvent]:
        kind = (event.get("Event") or "").lower()
        unique, linked = event.get("Uniqueid", ""), event.get("Linkedid", "")
        if not unique or not linked:
            return []
        if kind == "newchannel":
            if unique == linked and linked not in self._open and self.is_emergency(event):
                self._open[linked] = False
                return [CtiEvent(linked, "ringing", _number(event), at=_at(event))]
            return []
        if linked not in self._open:
            return []
        if kind == "newstate" and event.get("ChannelState") == STATE_UP and unique != linked:
            if self._open[linked]:
                return []  # a transfer or a second leg: the call was answered already
            self._open[linked] = True
            extension = extension_of(event.get("Channel", ""))
            return [CtiEvent(linked, "answered", extension=extension, at=_at(event))]
        if kind == "hangup" and unique == linked:
            del self._open[linked]
            return [CtiEvent(linked, "ended", at=_at(event))]
        return []

    def feed_all(self, events: Iterable[Mapping[str, str]]) -> list[CtiEvent]:
        return [cti for event in events for cti in self.feed(event)]

    @property
    def open_calls(self) -> int:
        return len(self._open)


def _number(event: Mapping[str, str]) -> str:
    number = event.get("CallerIDNum", "")
    return "" if number in ("<unknown>", "unknown", "") else number


def parse_session(text: str) -> list[dict[str, str]]:
    """A recorded AMI session (the text Asterisk writes: `Header: value` lines, a blank
    line after each message) as dictionaries; the greeting line and responses skipped."""
    messages = []
    for block in re.split(r"\r?\n\r?\n", text):
        headers = {}
        for line in block.splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                headers[key.strip()] = value.strip()
        if "Event" in headers:
            messages.append(headers)
    return messages
