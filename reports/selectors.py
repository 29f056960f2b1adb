"""Reads. `reports_visible_to` is the one rule for who may see which report; the API, the
pages and the live events all go through it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from agencies.roles import Role, user_agency, user_role

from .models import Assignment, Report, ReportStatus


def reports_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Report]:
    """Operators and supervisors see every report; agency staff only reports assigned to
    their agency; anyone else nothing."""
    role = user_role(user)
    if role in (Role.OPERATOR, Role.SUPERVISOR):
        return Report.objects.all()
    if role == Role.AGENCY_STAFF:
        return Report.objects.filter(assignments__agency=user_agency(user))
    return Report.objects.none()


def report_visible_to(user: AbstractBaseUser | AnonymousUser, report_id: int) -> Report | None:
    return reports_visible_to(user).filter(pk=report_id).first()


def assignments_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Assignment]:
    """Every assignment on a report the user may see (agencies on one incident see each
    other's progress)."""
    return Assignment.objects.filter(report__in=reports_visible_to(user).values("pk"))


def open_reports_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Report]:
    return (
        reports_visible_to(user)
        .filter(status=ReportStatus.OPEN)
        .select_related("category", "kecamatan")
        .prefetch_related("assignments__agency")
        .order_by("priority", "received_at")
    )
