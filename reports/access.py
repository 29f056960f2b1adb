"""Who sees what (SPEC §13): the one rule, asked by the API, every page, the websocket
(snapshot, live audience, resume), EIDO and Open311. Nothing else decides it.

A `Viewer` is the user as far as access goes (role, agency, unit, id), resolved once per
request or socket. Each answer comes in two forms that must agree (tests/test_access_rule.py
proves it on random states): a queryset filter for reads, and an in-memory predicate on a
report whose assignments are loaded (with_details), for what is already in hand.

The rule, from the assignments:
- the command centre (operators, supervisors) sees every report with its caller in full;
- a viewer's *own* assignments are their agency's (agency staff), or for a field officer
  those of their agency that their unit serves now (open) and those they acted on
  themselves (departed, arrived, resolved): never what other crews of the unit served;
- a viewer sees the reports with an own assignment, and *takes part* in those whose own
  assignment was neither rejected nor cancelled: chat, live events, assignments of the
  other agencies. On a report seen but no longer taken part in (the agency left it) the
  caller's name and number are withheld; elsewhere agency staff and field officers get the
  number masked, except in a report's detail, whose read is recorded (reports.privacy)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from agencies.models import Unit
from agencies.roles import Role, user_agency, user_role

from .models import (
    LEFT_ASSIGNMENT_STATUSES,
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Event,
    Message,
    Report,
    ReportSource,
)

COMMAND_CENTRE = (Role.OPERATOR, Role.SUPERVISOR)
# The statuses of an agency still on a report: open, or finished by doing the job.
ENGAGED_ASSIGNMENT_STATUSES = tuple(
    s for s in AssignmentStatus.values if s not in LEFT_ASSIGNMENT_STATUSES
)
# The events that tell an agency (or a unit) it left: the last it receives on that report.
LEAVING_EVENT_KINDS = ("assignment.rejected", "assignment.cancelled")
# The events that end a unit's service on an assignment: the last its crew receives.
ENDING_EVENT_KINDS = (*LEAVING_EVENT_KINDS, "assignment.resolved")
# What the command centre alone is told: nobody at the agency heard an assignment (SPEC §12).
COMMAND_CENTRE_EVENT_KINDS = ("assignment.unheard",)
# The steps that make an assignment a field officer's own work (SPEC §13).
ACTOR_FIELDS = ("departed_by", "arrived_by", "resolved_by")


class CallerFields(StrEnum):
    """How much of a report's caller (name and number) a viewer gets."""

    FULL = "full"
    MASKED = "masked"  # the number masked; in full only in a report's (recorded) detail
    WITHHELD = "withheld"  # neither name nor number: the viewer's agency left the report


@dataclass(frozen=True)
class Viewer:
    role: Role
    agency_id: int | None = None
    unit_id: int | None = None
    user_id: int | None = None
    # The live groups are named by agency code: kept here so a socket asks no query for it.
    agency_code: str | None = None

    @classmethod
    def of(cls, user: AbstractBaseUser | AnonymousUser | None) -> Viewer:
        if user is None:
            return cls(Role.NONE)
        role = user_role(user)
        agency = user_agency(user) if role in (Role.AGENCY_STAFF, Role.FIELD) else None
        unit_id = user.agency_membership.unit_id if role == Role.FIELD else None
        return cls(
            role=role,
            agency_id=agency.pk if agency else None,
            unit_id=unit_id,
            user_id=user.pk if user.is_authenticated else None,
            agency_code=agency.code if agency else None,
        )

    @property
    def sees_all(self) -> bool:
        return self.role in COMMAND_CENTRE

    @property
    def in_agency(self) -> bool:
        """Agency staff or a field officer, of an agency."""
        return self.role in (Role.AGENCY_STAFF, Role.FIELD) and self.agency_id is not None


_PINNED = "_dispatch_viewer"


def as_viewer(who: Viewer | AbstractBaseUser | AnonymousUser | None) -> Viewer:
    """A viewer, from a user for callers that hold one (services acting for a user)."""
    if isinstance(who, Viewer):
        return who
    return getattr(who, _PINNED, None) or Viewer.of(who)


def pin_viewer(user: AbstractBaseUser | AnonymousUser) -> Viewer:
    """Resolves a socket's viewer once, kept on its user: a socket's scope is fixed until
    it reconnects (a change of access closes it, agencies.revocation)."""
    viewer = Viewer.of(user)
    setattr(user, _PINNED, viewer)
    return viewer


def viewer_of(request) -> Viewer:
    """The request's viewer, resolved once per request."""
    viewer = getattr(request, "_dispatch_viewer", None)
    if viewer is None:
        viewer = request._dispatch_viewer = Viewer.of(request.user)
    return viewer


# --- Assignments: the viewer's own work --------------------------------------------------------


def own_assignments(viewer: Viewer) -> QuerySet[Assignment]:
    """The assignments that are the viewer's own work (all of them for the command centre):
    what they list and act on, and what makes a report theirs to see."""
    rows = Assignment.objects.all()
    if viewer.sees_all:
        return rows
    if not viewer.in_agency:
        return rows.none()
    if viewer.role == Role.AGENCY_STAFF:
        return rows.filter(agency_id=viewer.agency_id)
    mine = Q(pk__in=[])
    if viewer.user_id is not None:  # (an unset id would match every step nobody took)
        for field in ACTOR_FIELDS:
            mine |= Q(**{f"{field}_id": viewer.user_id})
    if viewer.unit_id is not None:
        mine |= Q(unit_ref_id=viewer.unit_id, status__in=OPEN_ASSIGNMENT_STATUSES)
    return rows.filter(mine, agency_id=viewer.agency_id)


def owns(viewer: Viewer, assignment: Assignment) -> bool:
    """own_assignments, in memory."""
    if viewer.sees_all:
        return True
    if not viewer.in_agency or assignment.agency_id != viewer.agency_id:
        return False
    if viewer.role == Role.AGENCY_STAFF:
        return True
    serving = (
        viewer.unit_id is not None
        and assignment.unit_ref_id == viewer.unit_id
        and assignment.status in OPEN_ASSIGNMENT_STATUSES
    )
    acted = viewer.user_id is not None and viewer.user_id in (
        getattr(assignment, f"{field}_id") for field in ACTOR_FIELDS
    )
    return serving or acted


# --- Reports ------------------------------------------------------------------------------------


def reports_visible_to(viewer: Viewer) -> QuerySet[Report]:
    """The reports with an own assignment (every report for the command centre)."""
    if viewer.sees_all:
        return Report.objects.all()
    return Report.objects.filter(pk__in=own_assignments(viewer).values("report_id"))


def reports_engaged_by(viewer: Viewer) -> QuerySet[Report]:
    """The reports the viewer takes part in: an own assignment not rejected nor cancelled."""
    if viewer.sees_all:
        return Report.objects.all()
    engaged = own_assignments(viewer).filter(status__in=ENGAGED_ASSIGNMENT_STATUSES)
    return Report.objects.filter(pk__in=engaged.values("report_id"))


def reports_for_the_public() -> QuerySet[Report]:
    """What the public reads (Open311, SPEC §10): only the reports the public sent, and of
    them never the caller (CallerFields.WITHHELD) nor the operators' internal notes."""
    return Report.objects.filter(source=ReportSource.OPEN311)


def may_see_report(viewer: Viewer, report: Report) -> bool:
    """reports_visible_to, in memory (the report's assignments loaded)."""
    return viewer.sees_all or any(owns(viewer, a) for a in report.assignments.all())


def takes_part(viewer: Viewer, report: Report) -> bool:
    """reports_engaged_by, in memory."""
    return viewer.sees_all or any(
        owns(viewer, a) and a.status not in LEFT_ASSIGNMENT_STATUSES
        for a in report.assignments.all()
    )


def has_left(viewer: Viewer, report: Report) -> bool:
    """The viewer sees the report but left it (its chat is closed, its caller withheld)."""
    return may_see_report(viewer, report) and not takes_part(viewer, report)


def caller_fields(viewer: Viewer, report: Report, *, detail: bool = False) -> CallerFields:
    """How much of the caller the viewer gets on `report` (in a list, or its `detail`)."""
    if viewer.sees_all:
        return CallerFields.FULL
    if has_left(viewer, report):
        return CallerFields.WITHHELD
    return CallerFields.FULL if detail else CallerFields.MASKED


# --- What hangs off a report ----------------------------------------------------------------------


def assignments_visible_to(viewer: Viewer) -> QuerySet[Assignment]:
    """Every assignment on a report the viewer takes part in (agencies on one incident see
    each other's progress; an agency that left no longer follows it)."""
    return Assignment.objects.filter(report__in=reports_engaged_by(viewer).values("pk"))


def messages_visible_to(viewer: Viewer) -> QuerySet[Message]:
    """The chat of the reports the viewer takes part in."""
    return Message.objects.filter(report__in=reports_engaged_by(viewer).values("pk"))


def calls_visible_to(viewer: Viewer) -> QuerySet[Call]:
    """Callers' call history is the command centre's alone."""
    return Call.objects.all() if viewer.sees_all else Call.objects.none()


def events_visible_to(viewer: Viewer) -> QuerySet[Event]:
    """The live events the viewer may receive (on resume): every event of the reports they
    take part in; for an assignment of theirs that left, the event that says so; and the
    units' own events of the units they follow."""
    events = Event.objects.filter(report__in=reports_engaged_by(viewer).values("pk"))
    units = Event.objects.filter(
        report__isnull=True, unit__in=units_followed_by(viewer).values("pk")
    )
    if viewer.sees_all:
        return events | Event.objects.filter(report__isnull=True)
    events = events.exclude(kind__in=COMMAND_CENTRE_EVENT_KINDS)
    if viewer.role == Role.AGENCY_STAFF and viewer.in_agency:
        leaving = Q(assignment__agency_id=viewer.agency_id)
    elif viewer.role == Role.FIELD and viewer.unit_id is not None:
        leaving = Q(assignment__unit_ref_id=viewer.unit_id)
    else:
        return events
    # Withheld when replayed (payload_caller_fields): the caller never goes with them.
    return events | Event.objects.filter(leaving, kind__in=LEAVING_EVENT_KINDS) | units


# --- Units ----------------------------------------------------------------------------------------


def units_visible_to(viewer: Viewer) -> QuerySet[Unit]:
    """The units the viewer may read: every one for the command centre, the agency's for its
    staff and its field officers (who pick the one they sign on to)."""
    units = Unit.objects.select_related("agency", "home_kecamatan").order_by("agency", "call_sign")
    if viewer.sees_all:
        return units
    if viewer.in_agency:
        return units.filter(agency_id=viewer.agency_id)
    return units.none()


def units_followed_by(viewer: Viewer) -> QuerySet[Unit]:
    """The units whose live state (snapshot, unit events) the viewer follows: those they
    may read, except that a field officer follows only the unit they are signed on to."""
    units = units_visible_to(viewer)
    if viewer.role == Role.FIELD:
        return units.filter(pk=viewer.unit_id) if viewer.unit_id else units.none()
    return units


def positions_scope(viewer: Viewer) -> str | None:
    """Whose positions the viewer's socket hears live (SPEC §7: operators, supervisors and
    the unit's own agency): "*" every unit's, an agency's code its units', None nobody's (a
    field officer's phone follows its own unit by its events)."""
    if viewer.sees_all:
        return "*"
    if viewer.role == Role.AGENCY_STAFF and viewer.in_agency:
        return viewer.agency_code
    return None


def units_movable_by(viewer: Viewer) -> dict | None:
    """Which units the viewer may move (a position), as the columns a unit row must match:
    a field officer the unit signed on to, agency staff their agency's units; None: no unit
    (the command centre reads positions, it does not make them). Asks no query: a socket's
    viewer is pinned, so each position is one statement (units.services.record_position)."""
    if viewer.role == Role.FIELD and viewer.unit_id is not None:
        return {"id": viewer.unit_id}
    if viewer.role == Role.AGENCY_STAFF and viewer.agency_id is not None:
        return {"agency_id": viewer.agency_id}
    return None


def may_see_unit(viewer: Viewer, unit: Unit) -> bool:
    """units_visible_to, in memory."""
    return viewer.sees_all or (viewer.in_agency and unit.agency_id == viewer.agency_id)


# --- Live payloads: the same rule on serialised reports (reports.live) ------------------


@dataclass(frozen=True)
class LiveAudience:
    """Who receives a report's live payload, by the groups they listen on: agencies' staff
    (by code) and units' crews (by id), masked, or withheld for those it says left."""

    agencies: tuple[str, ...]
    agencies_left: tuple[str, ...]
    units: tuple[int, ...]
    units_left: tuple[int, ...]


def live_audience(payload: dict) -> LiveAudience:
    """The agencies taking part in the payload's report, and the crews of the units serving
    one of its open assignments (what every member of the unit's group may see); the agency
    (and unit) this event says left gets it withheld; one that left earlier gets nothing. A
    unit's crew gets the event that ends its service withheld: the crew that follows
    may not read its caller."""
    if payload["kind"] in COMMAND_CENTRE_EVENT_KINDS:
        return LiveAudience(agencies=(), agencies_left=(), units=(), units_left=())
    assignments = payload["report"]["assignments"]
    left = {a["agency"] for a in assignments if a["status"] in LEFT_ASSIGNMENT_STATUSES}
    agencies = tuple(a["agency"] for a in assignments if a["agency"] not in left)
    units = tuple(
        a["unit_id"]
        for a in assignments
        if a.get("unit_id") and a["status"] in OPEN_ASSIGNMENT_STATUSES
    )
    this = payload.get("assignment") or {}
    leaving = payload["kind"] in LEAVING_EVENT_KINDS and this.get("agency") in left
    ended = payload["kind"] in ENDING_EVENT_KINDS and this.get("unit_id")
    return LiveAudience(
        agencies=agencies,
        agencies_left=(this["agency"],) if leaving else (),
        units=units,
        units_left=(this["unit_id"],) if ended else (),
    )


def payload_caller_fields(viewer: Viewer, report_data: dict) -> CallerFields:
    """caller_fields on a serialised report, for a payload the viewer is sent (resume)."""
    if viewer.sees_all:
        return CallerFields.FULL
    left = any(
        a["agency"] == viewer.agency_code and a["status"] in LEFT_ASSIGNMENT_STATUSES
        for a in report_data["assignments"]
    )
    return CallerFields.WITHHELD if left else CallerFields.MASKED
