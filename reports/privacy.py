"""Callers' personal data (UU PDP No. 27/2022): who may read a number, and the record of
every time agency staff read one.

The command centre works with callers' numbers all day. Agency staff need one only to call a
caller back, so lists, live events and snapshots show them masked; opening a report
(`GET /api/v1/reports/{id}/`, the dashboard's "show number") returns it whole and records
the read in PersonalDataAccess, which is append-only like the event log.

An agency that left a report (rejected, or cancelled: reports.access.has_left) keeps the
report in its history with the caller's name and number withheld altogether: it has no call
to make back, so there is nothing to reveal and nothing is recorded."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from .access import CallerFields, Viewer
from .models import PersonalDataAccess, Report

VISIBLE_PREFIX = 6  # "+62812": the operator's network, not the subscriber
VISIBLE_SUFFIX = 3


def serializer_context(viewer: Viewer, *, detail: bool = False) -> dict:
    """What ReportSerializer needs to show `viewer` a report (reports.access.caller_fields):
    a report's `detail` shows agency staff the number whole, and the view records the read."""
    return {"viewer": viewer, "detail": detail}


def shown(report_data: dict, fields: CallerFields) -> dict:
    """A serialised report (with its caller in full) as `fields` says the viewer gets it."""
    if fields == CallerFields.WITHHELD:
        return withheld(report_data)
    if fields == CallerFields.MASKED:
        return masked(report_data)
    return report_data


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
