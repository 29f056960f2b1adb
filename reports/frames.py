"""The receipts a screen sends on /ws/events/ (SPEC §12): `{"type": "ack", "event_id": N}`
for each live frame it has shown, `{"type": "ack", "assignments": [id, …]}` for the cards a
snapshot drew, and `{"type": "seen", "assignment": id}` when a person has the card on screen
with the page visible. Recorded by reports.services.receipts; the command centre's screens
(and anyone's receipt for what is not theirs) change nothing. A malformed frame gets an
error frame naming what is wrong; a valid one gets no reply."""

from __future__ import annotations

from channels.db import database_sync_to_async

from .access import as_viewer
from .services.receipts import MAX_RECEIPT, assignment_seen, assignments_delivered


def _is_id(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value < 2**63


async def ack_frame(user, content: dict) -> dict | None:
    event_id = content.get("event_id")
    assignments = content.get("assignments", [])
    if event_id is not None and not _is_id(event_id):
        return {"type": "error", "field": "event_id", "detail": "event_id must be an event id"}
    if (
        not isinstance(assignments, list)
        or len(assignments) > MAX_RECEIPT
        or not all(map(_is_id, assignments))
    ):
        return {
            "type": "error",
            "field": "assignments",
            "detail": f"assignments must be a list of at most {MAX_RECEIPT} assignment ids",
        }
    if not as_viewer(user).in_agency or (event_id is None and not assignments):
        return None  # the command centre's screens acknowledge too: nothing to record
    await database_sync_to_async(assignments_delivered)(
        user, event_id=event_id, assignment_ids=assignments
    )
    return None


async def seen_frame(user, content: dict) -> dict | None:
    assignment = content.get("assignment")
    if not _is_id(assignment):
        return {"type": "error", "field": "assignment", "detail": "assignment must be an id"}
    if as_viewer(user).in_agency:
        await database_sync_to_async(assignment_seen)(user, assignment)
    return None
