"""Calls that are not a new report: logged with their outcome, attached to a report, and
the caller's handset position (AML)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from agencies.roles import Role
from core.validation import Errors, clean_choice, clean_id, clean_text

from ..models import Call, CallOutcome, LocationSource, Report, ReportStatus
from ..signals import call_logged
from ..validation import clean_received_at
from .events import User, _require_role, event_record
from .intake import _clean_phone


@transaction.atomic
def call_log(
    *,
    operator: User,
    caller_phone: str,
    outcome: str,
    caller_name: str = "",
    note: str = "",
    report: Report | int | None = None,
    received_at: datetime | None = None,
) -> Call:
    """Logs a call that created no report: information, prank, ghost, other — or one
    ``attached`` to an open report about the same incident (it is not dispatched again)."""
    _require_role(operator, Role.OPERATOR)
    errors = Errors()
    phone = _clean_phone(errors, caller_phone)
    caller_name = clean_text(errors, "caller_name", caller_name, max_length=120)
    note = clean_text(errors, "note", note, max_length=2000)
    received_at = clean_received_at(errors, received_at)
    clean_choice(errors, "outcome", outcome, CallOutcome)
    if outcome == CallOutcome.REPORT:
        errors.add("outcome", _("A call that creates a report is logged with the report."))
    report_id = clean_id(errors, "report", report, Report)
    if outcome == CallOutcome.ATTACHED and "report" not in errors.by_field:
        report = Report.objects.select_for_update(no_key=True).filter(pk=report_id).first()
        if report is None:
            errors.add("report", _("Choose the open report this call is about."))
        elif report.status != ReportStatus.OPEN:
            errors.add("report", _("Report %(number)s is closed.") % {"number": report.number})
    elif outcome != CallOutcome.ATTACHED and report_id is not None:
        errors.add("report", _("Only an attached call refers to a report."))
    errors.raise_if_any()

    call = Call.objects.create(
        caller_phone=phone,
        caller_name=caller_name,
        received_at=received_at,
        operator=operator,
        outcome=outcome,
        report=report if outcome == CallOutcome.ATTACHED else None,
        note=note,
    )
    call_logged.send(sender=Call, call=call)
    if call.report is not None:
        event_record(
            call.report,
            "call.attached",
            actor=operator,
            data={"call": call.pk, "note": note},
        )
    return call


def call_set_caller_location(
    call: Call, *, latitude: float, longitude: float, accuracy_m: float | None, located_at
) -> Call:
    """The caller's handset position (AML, SPEC §9) on a logged call: the latest fix wins."""
    if call.caller_located_at is not None and located_at < call.caller_located_at:
        return call
    call.caller_latitude, call.caller_longitude = latitude, longitude
    call.caller_accuracy_m, call.caller_located_at = accuracy_m, located_at
    call.caller_location_source = LocationSource.AML
    call.save(
        update_fields=[
            "caller_latitude",
            "caller_longitude",
            "caller_accuracy_m",
            "caller_located_at",
            "caller_location_source",
        ]
    )
    return call
