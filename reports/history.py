"""An agency's past work and its shift handover (issue 17 §5): read-only queries.

History: the viewer's own assignments (reports.access.own_assignments: the agency's for its
staff, those a field officer worked on themselves) that ended (resolved, rejected, cancelled)
or whose report was closed, newest first, for one WIB day or searched by report number or
address. Callers are shown as reports.access.caller_fields says (masked, withheld on what the
agency left). A caller's number is never searched here: a viewer who sees numbers masked
could test guesses of one (SPEC §13); that search is the command centre's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.models import Agency
from agencies.roles import Role

from .access import CallerFields, Viewer, caller_fields, own_assignments
from .models import OPEN_ASSIGNMENT_STATUSES, Assignment, HandoverNote, ReportStatus
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


def history_for(
    viewer: Viewer, *, day: date | None = None, query: str = ""
) -> QuerySet[Assignment] | None:
    """The viewer's history (newest first, at most HISTORY_LIMIT rows), or None when the
    viewer has no history to see (not agency staff nor a field officer)."""
    if viewer.role not in (Role.AGENCY_STAFF, Role.FIELD) or not viewer.in_agency:
        return None
    rows = (
        own_assignments(viewer)
        .filter(_finished())
        .annotate(
            finished_at=Coalesce(
                "resolved_at", "rejected_at", "cancelled_at", "report__closed_at", "notified_at"
            )
        )
    )
    if day is not None:
        start, end = wib_day(day)
        rows = rows.filter(finished_at__gte=start, finished_at__lt=end)
    if query := query.strip():
        match = Q(report__number__icontains=query) | Q(report__address__icontains=query)
        match |= Q(report__kecamatan__name__icontains=query)
        rows = rows.filter(match)
    return (
        rows.select_related("report", "report__category", "report__kecamatan", "unit_ref")
        .prefetch_related("report__assignments")  # for caller_fields, in memory
        .order_by("-finished_at", "-pk")
        .distinct()[:HISTORY_LIMIT]
    )


def looks_like_phone(query: str) -> bool:
    """Whether a search is a phone number (which the page does not search, and says so)."""
    if sum(c.isdigit() for c in query) < 8:
        return False
    try:
        normalize_phone(query)
    except ValidationError:
        return False
    return True


def caller_shown(viewer: Viewer, assignment: Assignment) -> str:
    """The caller's number of the assignment's report as the viewer sees it in a list."""
    report = assignment.report
    fields = caller_fields(viewer, report)
    if fields == CallerFields.WITHHELD:
        return ""
    return report.caller_phone if fields == CallerFields.FULL else mask_phone(report.caller_phone)


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
