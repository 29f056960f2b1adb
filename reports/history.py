"""An agency's past work and its shift handover (issue 17 §5): read-only queries.

History: the agency's assignments that ended (resolved, rejected, cancelled) or whose report
was closed, newest first, for one WIB day or searched by report number, address or caller's
number. Agency staff see their agency's; a field officer the assignments they worked on
themselves (departed, arrived or resolved), as the rest of the field app shows a field officer
only their own unit's work. Callers' numbers are shown masked, and withheld on assignments the
agency left, exactly as on the live queue (reports.privacy); a phone search matches only
where the number would be shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.models import Agency
from agencies.roles import Role, user_agency, user_role

from .models import (
    LEFT_ASSIGNMENT_STATUSES,
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    HandoverNote,
    ReportStatus,
)
from .phone import normalize_phone
from .privacy import mask_phone

HISTORY_LIMIT = 200


def _finished() -> Q:
    return ~Q(status__in=OPEN_ASSIGNMENT_STATUSES) | Q(report__status=ReportStatus.CLOSED)


def wib_day(day: date) -> tuple[datetime, datetime]:
    """The UTC bounds of a day in the command centre's time zone."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def today() -> date:
    return timezone.localdate()


def history_for(user, *, day: date | None = None, query: str = "") -> QuerySet[Assignment] | None:
    """The user's history (newest first, at most HISTORY_LIMIT rows), or None when the user
    has no history to see (not agency staff nor a field officer)."""
    role = user_role(user)
    if role == Role.AGENCY_STAFF and (agency := user_agency(user)) is not None:
        rows = Assignment.objects.filter(agency=agency)
    elif role == Role.FIELD:
        rows = Assignment.objects.filter(
            Q(departed_by=user) | Q(arrived_by=user) | Q(resolved_by=user)
        )
    else:
        return None
    rows = rows.filter(_finished()).annotate(
        finished_at=Coalesce(
            "resolved_at", "rejected_at", "cancelled_at", "report__closed_at", "notified_at"
        )
    )
    if day is not None:
        start, end = wib_day(day)
        rows = rows.filter(finished_at__gte=start, finished_at__lt=end)
    if query := query.strip():
        match = Q(report__number__icontains=query) | Q(report__address__icontains=query)
        match |= Q(report__kecamatan__name__icontains=query)
        if (phone := _as_phone(query)) and role == Role.AGENCY_STAFF:
            # Only where the number is shown (masked): not on reports the agency left.
            match |= Q(report__caller_phone=phone) & ~Q(status__in=LEFT_ASSIGNMENT_STATUSES)
        rows = rows.filter(match)
    return (
        rows.select_related("report", "report__category", "report__kecamatan", "unit_ref")
        .order_by("-finished_at", "-pk")
        .distinct()[:HISTORY_LIMIT]
    )


def _as_phone(query: str) -> str | None:
    if sum(c.isdigit() for c in query) < 8:
        return None
    try:
        return normalize_phone(query)
    except ValidationError:
        return None


def caller_shown(assignment: Assignment) -> str:
    """The caller's number as agency staff see it: masked, or withheld once they left."""
    if assignment.status in LEFT_ASSIGNMENT_STATUSES:
        return ""
    return mask_phone(assignment.report.caller_phone)


def response_minutes(assignment: Assignment) -> float | None:
    """Notification → on scene, in minutes (the SPEC's response time), when it arrived."""
    if assignment.arrived_at is None:
        return None
    return (assignment.arrived_at - assignment.notified_at).total_seconds() / 60


@dataclass(frozen=True)
class Handover:
    since: datetime
    open: list[Assignment]
    escalated: list[Assignment]
    resolved: int
    rejected: int
    notes: list[HandoverNote]


def handover_for(agency: Agency, *, hours: int | None = None) -> Handover:
    """What one shift hands the next: every open assignment (escalated and overdue first),
    what escalated or went overdue during the shift, how much was finished, and the notes of
    the last day."""
    hours = hours or settings.DISPATCH_SHIFT_HOURS
    since = timezone.now() - timedelta(hours=hours)
    related = ("report", "report__category", "report__kecamatan", "unit_ref")
    mine = Assignment.objects.filter(agency=agency).select_related(*related)
    open_now = list(
        mine.filter(status__in=OPEN_ASSIGNMENT_STATUSES, report__status=ReportStatus.OPEN).order_by(
            "escalated_at", "overdue_at", "notified_at"
        )
    )
    open_now.sort(key=lambda a: (a.escalated_at is None and a.overdue_at is None, a.notified_at))
    escalated = list(
        mine.filter(Q(escalated_at__gte=since) | Q(overdue_at__gte=since)).order_by("-notified_at")
    )
    finished = mine.filter(Q(resolved_at__gte=since) | Q(rejected_at__gte=since))
    notes = list(
        HandoverNote.objects.filter(
            agency=agency, created_at__gte=min(since, timezone.now() - timedelta(hours=24))
        ).select_related("author")[:50]
    )
    return Handover(
        since=since,
        open=open_now,
        escalated=escalated,
        resolved=finished.filter(resolved_at__gte=since).count(),
        rejected=finished.filter(rejected_at__gte=since).count(),
        notes=notes,
    )
