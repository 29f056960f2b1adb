"""Reads. `reports_visible_to` is the one rule for who may see which report, and
`reports_engaged_by` / `has_left` the one rule for what an agency keeps of a report it left;
the API, the pages and the live events all go through them.

An agency *leaves* a report when its assignment is rejected or cancelled. It still sees the
report in its history, but without the caller's personal data (reports.privacy), without the
chat, and with no live event after the one that says it left."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from agencies import geo
from agencies.roles import Role, user_agency, user_role, user_unit_id

from .models import (
    LEFT_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    CallOutcome,
    Event,
    Report,
    ReportStatus,
)

# The statuses of an agency still on a report: open, or finished by doing the job.
ENGAGED_ASSIGNMENT_STATUSES = tuple(
    s for s in AssignmentStatus.values if s not in LEFT_ASSIGNMENT_STATUSES
)
# The events that tell an agency it left: the last live events it receives on that report.
LEAVING_EVENT_KINDS = ("assignment.rejected", "assignment.cancelled")


def reports_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Report]:
    """Operators and supervisors see every report; agency staff only reports assigned to
    their agency; a field officer only those their unit was sent to (SPEC §7: what their
    agency's staff see of their unit's assignments); anyone else nothing."""
    role = user_role(user)
    if role in (Role.OPERATOR, Role.SUPERVISOR):
        return Report.objects.all()
    if role == Role.AGENCY_STAFF:
        return Report.objects.filter(assignments__agency=user_agency(user))
    if role == Role.FIELD and (unit_id := user_unit_id(user)) is not None:
        return Report.objects.filter(assignments__unit_ref_id=unit_id)
    return Report.objects.none()


def report_visible_to(user: AbstractBaseUser | AnonymousUser, report_id: int) -> Report | None:
    return reports_visible_to(user).filter(pk=report_id).first()


def reports_engaged_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Report]:
    """The reports the user takes part in: every report for the command centre; for agency
    staff, those on which their agency's assignment was neither rejected nor cancelled."""
    role = user_role(user)
    if role in (Role.OPERATOR, Role.SUPERVISOR):
        return Report.objects.all()
    if role == Role.AGENCY_STAFF:
        # One filter() call: both conditions on the same assignment row.
        return Report.objects.filter(
            assignments__agency=user_agency(user),
            assignments__status__in=ENGAGED_ASSIGNMENT_STATUSES,
        )
    if role == Role.FIELD and (unit_id := user_unit_id(user)) is not None:
        return Report.objects.filter(
            assignments__unit_ref_id=unit_id,
            assignments__status__in=ENGAGED_ASSIGNMENT_STATUSES,
        )
    return Report.objects.none()


def has_left(report: Report, agency_id: int | None) -> bool:
    """Whether the agency left `report` (the query-free form of reports_engaged_by, on a
    report whose assignments are loaded, as with_details loads them)."""
    return agency_id is not None and any(
        a.agency_id == agency_id and a.status in LEFT_ASSIGNMENT_STATUSES
        for a in report.assignments.all()
    )


def events_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Event]:
    """The live events the user may receive (on resume): every event of the reports they
    take part in, and for a report their agency left, only the event that says so; and the
    units' own events: every unit's for the command centre, the agency's units' for its
    staff, their own unit's for a field officer."""
    role = user_role(user)
    events = Event.objects.filter(report__in=reports_engaged_by(user).values("pk"))
    if role in (Role.OPERATOR, Role.SUPERVISOR):
        return events | Event.objects.filter(report__isnull=True)
    if role == Role.AGENCY_STAFF:
        agency = user_agency(user)
        return (
            events
            | Event.objects.filter(assignment__agency=agency, kind__in=LEAVING_EVENT_KINDS)
            | Event.objects.filter(report__isnull=True, unit__agency=agency)
        )
    if role == Role.FIELD and (unit_id := user_unit_id(user)) is not None:
        return (
            events
            | Event.objects.filter(assignment__unit_ref_id=unit_id, kind__in=LEAVING_EVENT_KINDS)
            | Event.objects.filter(report__isnull=True, unit_id=unit_id)
        )
    return events


def assignments_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Assignment]:
    """Every assignment on a report the user takes part in (agencies on one incident see
    each other's progress; an agency that left no longer follows it)."""
    return Assignment.objects.filter(report__in=reports_engaged_by(user).values("pk"))


def open_reports_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Report]:
    return with_details(reports_visible_to(user).filter(status=ReportStatus.OPEN)).order_by(
        "priority", "received_at"
    )


# --- Operator helpers: a caller's history, possible duplicates -----------------------------------

DUPLICATE_WINDOW = timedelta(hours=1)
DUPLICATE_RADIUS_METRES = 500
_METRES_PER_DEGREE = 111_320


def phone_history(phone: str, *, now: datetime | None = None, recent: int = 10) -> dict:
    """What an operator should know about a (normalised) number before talking: how often it
    called, how many prank/ghost calls in the window, whether it is flagged, its open reports."""
    now = now or timezone.now()
    calls = Call.objects.filter(caller_phone=phone)
    window_start = now - timedelta(days=settings.DISPATCH_PRANK_WINDOW_DAYS)
    prank_count = calls.filter(
        outcome__in=[CallOutcome.PRANK, CallOutcome.GHOST], received_at__gte=window_start
    ).count()
    return {
        "phone": phone,
        "calls_total": calls.count(),
        "prank_count": prank_count,
        "flagged": prank_count >= settings.DISPATCH_PRANK_FLAG_THRESHOLD,
        "calls": list(calls.select_related("operator", "report").order_by("-received_at")[:recent]),
        "open_reports": list(
            with_details(Report.objects.filter(caller_phone=phone, status=ReportStatus.OPEN))
        ),
    }


def possible_duplicates(
    *,
    category: str | None = None,
    kecamatan: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    phone: str | None = None,
    now: datetime | None = None,
) -> list[Report]:
    """Open reports a new call may be about: same category in the last hour and in the same
    kecamatan or within 500 m, or any open report from the same phone. Nearest first."""
    now = now or timezone.now()
    matches = Q(pk__in=[])
    located = latitude is not None and longitude is not None
    if category and (kecamatan or located):
        place = Q(kecamatan__code=kecamatan) if kecamatan else Q(pk__in=[])
        if located:
            # A bounding box in SQL; the exact distance is checked below.
            dlat = DUPLICATE_RADIUS_METRES / _METRES_PER_DEGREE
            dlng = dlat / max(math.cos(math.radians(latitude)), 0.01)
            place |= Q(
                latitude__range=(latitude - dlat, latitude + dlat),
                longitude__range=(longitude - dlng, longitude + dlng),
            )
        matches |= Q(category__code=category, received_at__gte=now - DUPLICATE_WINDOW) & place
    if phone:
        matches |= Q(caller_phone=phone)
    candidates = with_details(Report.objects.filter(matches, status=ReportStatus.OPEN))[:50]

    def distance(report: Report) -> float | None:
        if not located or report.latitude is None:
            return None
        return _metres(latitude, longitude, float(report.latitude), float(report.longitude))

    kept = [
        r
        for r in candidates
        if (phone and r.caller_phone == phone)
        or (kecamatan and r.kecamatan and r.kecamatan.code == kecamatan)
        or (distance(r) is not None and distance(r) <= DUPLICATE_RADIUS_METRES)
    ]
    return sorted(kept, key=lambda r: (distance(r) is None, distance(r) or 0, -r.pk))


def _metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return geo.metres(lat1, lng1, lat2, lng2)


def with_details(reports: QuerySet[Report]) -> QuerySet[Report]:
    """Everything a report's API or page shows, in three queries for any number of reports."""
    return reports.select_related("category", "kecamatan", "operator").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("agency"))
    )
