"""How the live transport ends the websockets a revocation covers (the receivers that decide
when are agencies.revocation): the groups each socket joins besides its live groups — every
socket of a user, the sockets a user opened with an API token, the sockets of one browser
session — and the frames that close them (the consumer answers each with its close code)."""

from __future__ import annotations

import hashlib

from django.db import transaction

from .publish import deliver_safely

REVOKED = {"type": "session.revoked"}  # the consumer closes with 4401
ACCESS_CHANGED = {"type": "access.changed"}  # 4003
UNIT_CHANGED = {"type": "unit.changed"}  # 4001


def user_group(user_id: int) -> str:
    """Every websocket of one user."""
    return f"user.{user_id}"


def token_group(user_id: int) -> str:
    """The websockets a user opened with an API token."""
    return f"token.{user_id}"


def session_group(session_key: str) -> str:
    """The websockets of one browser session (by digest: session keys stay out of Redis)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def close_after_commit(groups: list[str], message: dict = REVOKED) -> None:
    """Closes the groups' sockets with `message`'s code once the transaction commits."""
    transaction.on_commit(
        lambda: deliver_safely([(group, message) for group in groups]), robust=True
    )
