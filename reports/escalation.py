"""Escalations: assignments left unacknowledged past their priority's timeout, assignments
past their agency's response target without arrival on scene, and assignments no screen of
their agency has shown (unheard, SPEC §12).

The sweeps are safe to run anywhere, any number of times, concurrently: each flag is set by
a conditional UPDATE that only one run can win, in the same transaction as its Event, so
every assignment is escalated (and flagged overdue) exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency

from .models import Assignment, AssignmentStatus
from .services import event_record

NOT_ARRIVED = (
    AssignmentStatus.NOTIFIED,
    AssignmentStatus.ACKNOWLEDGED,
    AssignmentStatus.DISPATCHED,
)


def assignments_escalate_unacknowledged(*, now: datetime | None = None) -> list[int]:
    """Escalates every assignment still `notified` after its report priority's timeout
    (DISPATCH_ACK_TIMEOUT_P1/_P2/_P3). Returns the ids this run escalated."""
    now = now or timezone.now()
    due = []
    for priority, seconds in settings.DISPATCH_ACK_TIMEOUT.items():
        due += Assignment.objects.filter(
            status=AssignmentStatus.NOTIFIED,
            escalated_at__isnull=True,
            report__priority=priority,
            notified_at__lte=now - timedelta(seconds=seconds),
        ).values_list("pk", flat=True)
    return [pk for pk in due if _flag(pk, "escalated_at", "assignment.escalated", now,
                                      status=AssignmentStatus.NOTIFIED)]  # fmt: skip


def assignments_flag_overdue(*, now: datetime | None = None) -> list[int]:
    """Flags every assignment whose agency's response target (from the assignment's
    `received_at`: the call's, or when an operator added the agency) has passed without
    arrival on scene. Returns the ids this run flagged."""
    now = now or timezone.now()
    due = []
    for agency_id, target in Agency.objects.values_list("pk", "response_target_seconds"):
        due += Assignment.objects.filter(
            agency_id=agency_id,
            status__in=NOT_ARRIVED,
            overdue_at__isnull=True,
            received_at__lte=now - timedelta(seconds=target),
        ).values_list("pk", flat=True)
    return [pk for pk in due if _flag(pk, "overdue_at", "assignment.overdue", now,
                                      status__in=NOT_ARRIVED)]  # fmt: skip


def assignments_flag_unheard(*, now: datetime | None = None) -> list[int]:
    """Flags every assignment that no screen of its agency has shown DISPATCH_UNHEARD_SECONDS
    after it was sent (SPEC §12): still `notified`, never delivered. Its Event tells the
    command centre, once, with the agency's phone number: the operator calls. Assignments
    sent longer ago than DISPATCH_UNHEARD_WINDOW_SECONDS are left alone (those already
    waiting when the feature was deployed, or while the sweep was down, are escalated)."""
    now = now or timezone.now()
    due = Assignment.objects.filter(
        status=AssignmentStatus.NOTIFIED,
        delivered_at__isnull=True,
        unheard_at__isnull=True,
        notified_at__lte=now - timedelta(seconds=settings.DISPATCH_UNHEARD_SECONDS),
        notified_at__gt=now - timedelta(seconds=settings.DISPATCH_UNHEARD_WINDOW_SECONDS),
    ).values_list("pk", flat=True)
    return [pk for pk in due if _flag(pk, "unheard_at", "assignment.unheard", now,
                                      status=AssignmentStatus.NOTIFIED,
                                      delivered_at__isnull=True)]  # fmt: skip


def _flag(pk: int, field: str, kind: str, now: datetime, **still) -> bool:
    with transaction.atomic():
        # Only one concurrent run matches `field IS NULL`; the rest update nothing.
        won = Assignment.objects.filter(pk=pk, **{f"{field}__isnull": True}, **still).update(
            **{field: now}
        )
        if won:
            assignment = Assignment.objects.select_related("report", "agency").get(pk=pk)
            # Who to call when nobody there heard it.
            data = {"phone": assignment.agency.phone} if kind == "assignment.unheard" else None
            event_record(assignment.report, kind, actor=None, assignment=assignment, data=data)
        return bool(won)
