"""The operator steers an open report (SPEC §11): corrects it, adds an agency, cancels one.

Each action runs in one transaction, records an Event and has it published after commit, as
every service in reports.services does; the agencies on the report hear it live."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import directory
from agencies.models import Agency, Kecamatan
from agencies.roles import Role
from core.errors import TransitionNotAllowed
from core.validation import Errors, clean_coordinate, clean_text

from .models import (
    LEFT_ASSIGNMENT_STATUSES,
    Assignment,
    Report,
    ReportStatus,
)
from .services.assignments import ASSIGNMENT_ACTIONS, _apply, _check_allowed, _lock
from .services.events import User, _require_role, event_record
from .validation import resolve_by_code

# The fields an operator may correct, in the order the event lists them.
EDITABLE_FIELDS = ("description", "address", "kecamatan", "latitude", "longitude", "priority")


def _open_report(report: Report | int) -> Report:
    report_id = report.pk if isinstance(report, Report) else report
    # NO KEY UPDATE, as report_close: Event and Message inserts take KEY SHARE on this row.
    locked = (
        Report.objects.select_for_update(of=("self",), no_key=True)
        .select_related("kecamatan")
        .get(pk=report_id)
    )
    if locked.status == ReportStatus.CLOSED:
        raise TransitionNotAllowed(_("Report %(number)s is closed.") % {"number": locked.number})
    return locked


@transaction.atomic
def report_edit(*, actor: User, report: Report | int, **fields) -> Report:
    """Corrects an open report: any of description, address, kecamatan (code or empty),
    latitude and longitude (both, or both empty), priority (1–3). Records `report.edited`
    with the fields that changed (none changed: no event); the agencies on the report get it
    as `report.updated` and mark those fields as new information."""
    _require_role(actor, Role.OPERATOR)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not an editable field: {sorted(unknown)}")
    report = _open_report(report)
    errors = Errors()
    new: dict = {}
    if "description" in fields:
        new["description"] = clean_text(
            errors, "description", fields["description"], max_length=4000, required=True
        )
    if "address" in fields:
        new["address"] = clean_text(
            errors, "address", fields["address"], max_length=300, required=True
        )
    if "kecamatan" in fields:
        known = directory.current()
        new["kecamatan"] = resolve_by_code(
            errors, "kecamatan", Kecamatan, fields["kecamatan"], required=False,
            known=known and known.kecamatan,
        )  # fmt: skip
    if "latitude" in fields or "longitude" in fields:
        lat = clean_coordinate(errors, "latitude", fields.get("latitude", report.latitude), 90)
        lng = clean_coordinate(errors, "longitude", fields.get("longitude", report.longitude), 180)
        if (lat is None) != (lng is None) and "latitude" not in errors.by_field:
            errors.add("longitude" if lng is None else "latitude", _("Give both coordinates."))
        new["latitude"], new["longitude"] = lat, lng
    if "priority" in fields:
        priority = fields["priority"]
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 3:
            errors.add("priority", _("Priority is 1 (life-threatening), 2 or 3."))
        new["priority"] = priority
    errors.raise_if_any()

    changed = [name for name in EDITABLE_FIELDS if name in new and _differs(report, name, new)]
    if not changed:
        return report
    before = {name: _wire(getattr(report, name)) for name in changed}
    for name in changed:
        setattr(report, name, new[name])
    if {"latitude", "longitude"} & set(changed):
        # The operator moved the pin: it is theirs now, whatever the handset said.
        report.location_source = "operator" if report.latitude is not None else ""
        report.location_accuracy_m = None
        changed_columns = [*changed, "location_source", "location_accuracy_m"]
    else:
        changed_columns = changed
    report.save(update_fields=changed_columns)
    event_record(
        report,
        "report.edited",
        actor=actor,
        data={
            "fields": changed,
            "before": before,
            "after": {name: _wire(getattr(report, name)) for name in changed},
        },
    )
    return report


def _differs(report: Report, name: str, new: dict) -> bool:
    old = getattr(report, name)
    value = new[name]
    if isinstance(old, Decimal) and value is not None:
        return Decimal(old) != Decimal(value)
    return old != value


def _wire(value):
    """A field's value as the event's data holds it (JSON)."""
    if isinstance(value, Kecamatan):
        return value.code
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic
def assignment_add(
    *, actor: User, report: Report | int, agency: Agency | str, note: str = ""
) -> Assignment:
    """Adds an agency to an open report (after a rejection, or when a later caller says
    more is needed): a new assignment, `notified`, whose clocks start now. An agency
    already on the report → TransitionNotAllowed (409), saying how it stands."""
    _require_role(actor, Role.OPERATOR)
    report = _open_report(report)
    errors = Errors()
    known = directory.current()
    agency = resolve_by_code(
        errors, "agency", Agency, agency, required=True, known=known and known.agencies
    )
    note = clean_text(errors, "note", note, max_length=2000)
    if agency is not None and not agency.active:
        errors.add("agency", _("This agency is no longer in use."))
    errors.raise_if_any()

    existing = report.assignments.filter(agency=agency).first()
    if existing is not None:
        if existing.status in LEFT_ASSIGNMENT_STATUSES:
            message = _("%(agency)s has already left this report (%(status)s).")
        else:
            message = _("%(agency)s is already on this report (%(status)s).")
        raise TransitionNotAllowed(
            message % {"agency": agency.short_name, "status": existing.get_status_display()}
        )
    now = timezone.now()
    # The agency's clocks start when it is asked, not when the call came in: its response
    # time (and the overdue sweep, escalation) counts from now.
    assignment = Assignment.objects.create(
        report=report, agency=agency, received_at=now, notified_at=now
    )
    event_record(
        report,
        "assignment.created",
        actor=actor,
        assignment=assignment,
        data={"added": True, "note": note},
    )
    return assignment


def assignment_cancel(*, assignment: Assignment | int, actor: User, reason: str) -> Assignment:
    """Any open state → cancelled, by an operator, with the reason the agency is told; its
    unit, if any, becomes available."""
    with transaction.atomic():
        locked = _lock(assignment)
        _check_allowed(locked, "cancel", actor)
        errors = Errors()
        reason = clean_text(errors, "reason", reason, max_length=2000, required=True)
        errors.raise_if_any()
        return _apply(
            locked,
            ASSIGNMENT_ACTIONS["cancel"],
            actor=actor,
            now=timezone.now(),
            fields={"cancel_reason": reason},
            event_data={"reason": reason},
        )
