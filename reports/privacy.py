"""Callers' personal data (UU PDP No. 27/2022): who may read a number, and the record of
every time agency staff read one.

The command centre works with callers' numbers all day. Agency staff need one only to call a
caller back, so lists, live events and snapshots show them masked; opening a report
(`GET /api/v1/reports/{id}/`, the dashboard's "show number") returns it whole and records
the read in PersonalDataAccess, which is append-only like the event log.

An agency that left a report (rejected, or cancelled: reports.selectors.has_left) keeps the
report in its history with the caller's name and number withheld altogether: it has no call
to make back, so there is nothing to reveal and nothing is recorded."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from agencies.roles import Role, user_agency, user_role

from .models import PersonalDataAccess, Report

VISIBLE_PREFIX = 6  # "+62812": the operator's network, not the subscriber
VISIBLE_SUFFIX = 3


def phone_visible_to(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether `user` sees callers' numbers unmasked everywhere (the command centre)."""
    return user_role(user) in (Role.OPERATOR, Role.SUPERVISOR)


def serializer_context(user: AbstractBaseUser | AnonymousUser, *, detail: bool = False) -> dict:
    """What ReportSerializer needs to show `user` a report: agency staff get the number
    masked (except in a report's `detail`) and the caller withheld on reports they left."""
    if phone_visible_to(user):
        return {"mask_phone": False, "viewer_agency_id": None}
    agency = user_agency(user)
    return {"mask_phone": not detail, "viewer_agency_id": agency.pk if agency else None}


def mask_phone(phone: str) -> str:
    """ "+6281234567890" → "+62812*****890". Blank (anonymised) stays blank."""
    hidden = len(phone) - VISIBLE_PREFIX - VISIBLE_SUFFIX
    if hidden <= 0:
        return "*" * len(phone)
    return phone[:VISIBLE_PREFIX] + "*" * hidden + phone[-VISIBLE_SUFFIX:]


def masked(report_data: dict) -> dict:
    """A copy of a serialised report with the caller's number masked."""
    return {
        **report_data,
        "caller_phone": mask_phone(report_data["caller_phone"]),
        "caller_phone_masked": True,
    }


def withheld(report_data: dict) -> dict:
    """A copy of a serialised report without the caller's name and number."""
    return {
        **report_data,
        "caller_name": "",
        "caller_phone": "",
        "caller_phone_masked": True,
        "caller_withheld": True,
    }


def record_phone_read(user: AbstractBaseUser, report: Report | int) -> None:
    """Records that `user` (agency staff) read the caller's number of `report`."""
    PersonalDataAccess.objects.create(
        user=user,
        report_id=report.pk if isinstance(report, Report) else report,
        field="caller_phone",
    )
