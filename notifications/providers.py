"""What the live socket asks the rooms above it (issue 34 §1): notifications/ is transport
only and imports no domain app; the apps register here, in their AppConfig.ready().

- `live_state`: the one provider of what a socket hears and is sent — an object (reports.
  live_state registers its module) with `groups_for(user) → [group] | None` (None: refused;
  it pins the user's viewer), `positions_scope(user) → "*" | agency code | None`,
  `presence_of(user) → (agency code, "desk" | "field") | None` (what the socket counts as),
  optionally `socket_labels(user) → (role, agency code or "")` (its labels in /metrics),
  `snapshot_and_replay(user, after) → (snapshot, [event])` and `replay(user, after) → [frame]`.
- snapshot extras: callables user → dict of keys added to a user's snapshot (telephony: the
  calls ringing at an operator's desk and the callers' AML positions; {} for other roles).
- frame handlers: frames a client may send besides `resume`, by type (units/ registers
  "position"): an async callable (user, frame) → the reply frame or None."""

from __future__ import annotations

live_state = None
SNAPSHOT_EXTRAS: list = []
FRAME_HANDLERS: dict = {}


def register_live_state(provider) -> None:
    global live_state
    live_state = provider


def register_snapshot_extra(extra) -> None:
    if extra not in SNAPSHOT_EXTRAS:
        SNAPSHOT_EXTRAS.append(extra)


def register_frame_handler(kind: str, handler) -> None:
    FRAME_HANDLERS[kind] = handler


def socket_labels(user) -> tuple[str, str]:
    """A socket's (role, agency) in /metrics' dispatch_websockets; ("", "") from a provider
    that does not say."""
    labels = getattr(live_state, "socket_labels", None)
    return labels(user) if labels is not None else ("", "")


def snapshot_extras(user) -> dict:
    extras: dict = {}
    for extra in SNAPSHOT_EXTRAS:
        extras.update(extra(user))
    return extras
