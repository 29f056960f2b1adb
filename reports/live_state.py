"""What a live socket hears and is sent when it connects or resumes (SPEC §5, §12a, §13): its
groups, its positions scope, its snapshot and the events it missed — each from the one access
rule (reports.access). Registered with the transport (notifications.providers) by
reports.apps; the consumer asks, and never decides."""

from __future__ import annotations

from django.db.models import Max
from django.utils import timezone

from agencies.roles import Role
from notifications import presence
from notifications.providers import snapshot_extras
from notifications.publish import ALL_REPORTS_GROUP, OPERATORS_GROUP, agency_group, unit_group

from . import access, wire
from .access import CallerFields, Viewer
from .live import for_viewers, live_payloads, units_data
from .models import OPEN_ASSIGNMENT_STATUSES, Event
from .selectors import with_details

# Event ids were once allocated in insert order, not commit order: an older client's `resume`
# frame is answered from this far below its mark (clients drop ids they already have).
RESUME_WINDOW = 200
# A client further behind than this gets a fresh snapshot instead of a replay.
RESUME_LIMIT = 2000


def groups_for(user) -> list[str] | None:
    """The groups whose live events the user receives (reports.live names each payload's
    audience by these, reports.access.live_audience); None: refused (no role). The socket's
    viewer is resolved here, once, and pinned on its user."""
    viewer = access.pin_viewer(user) if user is not None else Viewer(Role.NONE)
    if viewer.role == Role.OPERATOR:
        return [ALL_REPORTS_GROUP, OPERATORS_GROUP]
    if viewer.role == Role.SUPERVISOR:
        return [ALL_REPORTS_GROUP]
    if viewer.role == Role.AGENCY_STAFF and viewer.in_agency:
        return [agency_group(viewer.agency_code)]
    if viewer.role == Role.FIELD and viewer.in_agency:
        # Not signed on: accepted, hearing nothing until signing on (which reconnects).
        return [unit_group(viewer.unit_id)] if viewer.unit_id is not None else []
    return None


def positions_scope(user) -> str | None:
    return access.positions_scope(access.as_viewer(user))


def presence_of(user) -> tuple[str, str] | None:
    """What the user's socket counts as in the command centre's presence (SPEC §12): a desk
    screen of their agency (staff), or a field phone (a field officer)."""
    viewer = access.as_viewer(user)
    if viewer.role == Role.AGENCY_STAFF and viewer.in_agency:
        return (viewer.agency_code, "desk")
    if viewer.role == Role.FIELD and viewer.in_agency:
        return (viewer.agency_code, "field")
    return None


def socket_labels(user) -> tuple[str, str]:
    """The socket's labels in /metrics' dispatch_websockets (issue 40 §5): its role and its
    agency ("" for the command centre)."""
    viewer = access.as_viewer(user)
    return (str(viewer.role), viewer.agency_code or "")


def snapshot(user) -> dict:
    """Every open assignment the user may see, each with its report."""
    viewer = access.as_viewer(user)
    last_event_id = Event.objects.aggregate(last=Max("id"))["last"] or 0
    assignments = list(
        access.assignments_visible_to(viewer)
        .filter(status__in=OPEN_ASSIGNMENT_STATUSES)
        .order_by("notified_at", "pk")
        .values_list("pk", "report_id")
    )
    reports = {
        r.pk: r
        for r in with_details(
            access.reports_visible_to(viewer).filter(
                pk__in={report_id for _, report_id in assignments}
            )
        )
    }
    by_id = {a.pk: (a, r.number) for r in reports.values() for a in r.assignments.all()}
    report_data = {pk: wire.report_data(r, list(r.assignments.all())) for pk, r in reports.items()}
    message = {
        "type": "snapshot",
        "server_time": timezone.now().isoformat(),
        "last_event_id": last_event_id,
        "assignments": [
            {**wire.assignment_data(*by_id[pk]), "report": report_data[report_id]}
            for pk, report_id in assignments
        ],
        "units": units_data(access.units_followed_by(viewer).filter(active=True)),
    }
    if viewer.sees_all:  # who is there, per agency (SPEC §12)
        message["presence"] = presence.current()
    message.update(snapshot_extras(user))
    # Only reports the viewer takes part in: masked, or in full for the command centre.
    return message if viewer.sees_all else for_viewers(message, CallerFields.MASKED)


def snapshot_and_replay(user, after: int | None) -> tuple[dict, list[dict]]:
    """The snapshot, then (for a client that says which event it applied last) every event
    after that one it may see, in id order, read after the snapshot: SPEC §12a. A client more
    than RESUME_LIMIT events behind gets the snapshot alone (it holds their outcome)."""
    state = snapshot(user)
    if after is None:
        return state, []
    events = replay(user, after, window=0)
    if events and events[0].get("type") == "snapshot":
        return events[0], []
    return state, events


def replay(user, after: int, window: int = RESUME_WINDOW) -> list[dict]:
    """Every event after `after` (and `window` ids below it: the `resume` frame of older
    clients) that the user may receive, in order; a fresh snapshot if the client is too far
    behind."""
    viewer = access.as_viewer(user)
    events = list(
        access.events_visible_to(viewer)
        .filter(pk__gt=max(after - window, 0))
        .order_by("pk")[: RESUME_LIMIT + 1]
    )
    if len(events) > RESUME_LIMIT:
        return [snapshot(user)]
    payloads = live_payloads(events)
    if viewer.sees_all:
        return payloads
    return [
        p
        if p["type"] == "unit.updated"
        else for_viewers(p, access.payload_caller_fields(viewer, p["report"]))
        for p in payloads
    ]
