"""Delivery you can see (SPEC §12): an agency's screen says it has shown a new assignment
(`delivered_at`), a person of the agency says they have its card on screen (`seen_at`,
`seen_by`). Each is set once, by a conditional UPDATE only one screen can win, in the same
transaction as its Event (published live to the command centre like every other step).

Only the assigned agency's own screens count: a desk of its staff, or a phone of its field
officers (who hear an assignment once their unit is sent). Anything else — another agency's
screen, the command centre's, an id the viewer may not see, a receipt already given — is
ignored: a receipt never fails loudly, it is a side effect of a screen doing its work."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from ..access import Viewer, as_viewer, assignments_visible_to
from ..models import OPEN_ASSIGNMENT_STATUSES, Assignment, Event
from .events import event_record

# At most this many assignments in one receipt (a snapshot of an agency's open queue).
MAX_RECEIPT = 500


def assignments_delivered(
    user, *, event_id: int | None = None, assignment_ids: Iterable[int] = ()
) -> list[int]:
    """The user's screen showed the live frame `event_id` (an `assignment.created`), or drew
    `assignment_ids` from a snapshot: the first such screen of each assignment's agency sets
    its delivered_at. Returns the ids this call delivered."""
    viewer = as_viewer(user)
    if not viewer.in_agency:
        return []
    ids = set(list(assignment_ids)[:MAX_RECEIPT])
    if event_id is not None:
        ids.update(
            Event.objects.filter(
                pk=event_id, kind="assignment.created", assignment__agency_id=viewer.agency_id
            ).values_list("assignment_id", flat=True)
        )
    if not ids:
        return []
    due = _own(viewer).filter(pk__in=ids, delivered_at__isnull=True)
    now = timezone.now()
    return [pk for pk in due.values_list("pk", flat=True) if _receipt(pk, user, now, seen=False)]


def assignment_seen(user, assignment_id: int) -> bool:
    """A person of the assignment's agency has its card on screen with the page visible:
    sets seen_at and seen_by (and delivered_at, if no frame was acknowledged before)."""
    viewer = as_viewer(user)
    if not viewer.in_agency:
        return False
    if not _own(viewer).filter(pk=assignment_id, seen_at__isnull=True).exists():
        return False
    return _receipt(assignment_id, user, timezone.now(), seen=True)


def _own(viewer: Viewer):
    """The viewer's agency's open assignments that the viewer may see."""
    return assignments_visible_to(viewer).filter(
        agency_id=viewer.agency_id, status__in=OPEN_ASSIGNMENT_STATUSES
    )


def _receipt(pk: int, user, now, *, seen: bool) -> bool:
    with transaction.atomic():
        if seen:
            won = Assignment.objects.filter(pk=pk, seen_at__isnull=True).update(
                seen_at=now, seen_by=user
            )
            # Seen implies delivered: the card was on a screen of the agency.
            Assignment.objects.filter(pk=pk, delivered_at__isnull=True).update(delivered_at=now)
        else:
            won = Assignment.objects.filter(pk=pk, delivered_at__isnull=True).update(
                delivered_at=now
            )
        if won:
            assignment = Assignment.objects.select_related("report").get(pk=pk)
            kind = "assignment.seen" if seen else "assignment.delivered"
            event_record(assignment.report, kind, actor=user, assignment=assignment)
        return bool(won)
