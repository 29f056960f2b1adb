"""Sending a unit (SPEC §7): the agency picks one of its units (or a crew's call sign),
diverting a busy one if asked; the unit's status follows."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import geo
from agencies.models import Unit, UnitStatus
from core.errors import TransitionNotAllowed
from core.validation import Errors, clean_text

from ..models import UNIT_BUSY_STATUSES, Assignment, AssignmentStatus, Report
from .assignments import (
    ASSIGNMENT_ACTIONS,
    _apply,
    _check_allowed,
    _check_source,
    _lock,
    unit_set_status,
)
from .events import User, event_record


def assignment_dispatch(
    *,
    assignment: Assignment | int,
    actor: User,
    eta_minutes: int | None = None,
    unit: str = "",
    divert: bool = False,
) -> Assignment:
    """notified/acknowledged → dispatched, with the unit sent and its ETA in minutes.

    Where the agency has units, `unit` is one of its call signs: unknown → 400 listing the
    available ones; a unit that is not available → 409 unless `divert`, which takes it off
    the assignment it serves (an event on both); the unit goes en route, and the ETA defaults
    to the travel estimate. An agency without units names its unit in free text."""
    errors = Errors()
    if eta_minutes is not None and (
        isinstance(eta_minutes, bool) or not isinstance(eta_minutes, int)
    ):
        errors.add("eta_minutes", _("Give the ETA in whole minutes."))
    elif eta_minutes is not None and not 0 <= eta_minutes <= 1440:
        errors.add("eta_minutes", _("The ETA is between 0 and 1440 minutes."))
    unit = clean_text(errors, "unit", unit, max_length=80)
    errors.raise_if_any()
    action = ASSIGNMENT_ACTIONS["dispatch"]
    with transaction.atomic():
        locked = _lock(assignment)
        _check_allowed(locked, "dispatch", actor)
        _check_source(locked, action)
        fleet = Unit.objects.filter(agency_id=locked.agency_id, active=True)
        fields = {"unit": unit}
        if fleet.exists():
            chosen = _dispatchable_unit(locked, fleet, unit, divert=divert, actor=actor)
            fields.update(unit=chosen.call_sign, unit_ref=chosen)
            if eta_minutes is None:
                eta_minutes = _estimated_eta(chosen, locked.report)
            if eta_minutes is None:
                raise ValidationError(
                    {"eta_minutes": [_("No travel estimate: the report has no location. "
                                       "Give the ETA in whole minutes.")]}
                )  # fmt: skip
        if eta_minutes is None:
            raise ValidationError({"eta_minutes": [_("Give the ETA in whole minutes.")]})
        fields["eta_minutes"] = eta_minutes
        dispatched = _apply(locked, action, actor=actor, now=timezone.now(), fields=fields)
        if dispatched.unit_ref_id is not None:
            unit_set_status(
                dispatched.unit_ref, UnitStatus.DISPATCHED, actor=actor, assignment=dispatched,
                reason="dispatched",
            )  # fmt: skip
        return dispatched


def _dispatchable_unit(assignment, fleet, call_sign: str, *, divert: bool, actor) -> Unit:
    chosen = fleet.select_for_update(no_key=True).filter(call_sign=call_sign.upper()).first()
    if chosen is None:
        available = list(
            fleet.filter(status=UnitStatus.AVAILABLE).values_list("call_sign", flat=True)
        )
        message = (
            _("Choose one of %(agency)s's units. Available now: %(units)s.")
            % {"agency": assignment.agency.short_name, "units": ", ".join(available)}
            if available
            else _("Choose one of %(agency)s's units; none is available now.")
            % {"agency": assignment.agency.short_name}
        )
        raise ValidationError({"unit": [message], "available_units": available or [""]})
    if chosen.status == UnitStatus.AVAILABLE:
        return chosen
    serving = (
        Assignment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("report")
        .filter(unit_ref=chosen, status__in=UNIT_BUSY_STATUSES)
        .first()
    )
    if not divert:
        if serving is not None:
            message = _("%(unit)s is %(status)s for %(number)s: send divert to take it off.") % {
                "unit": chosen.call_sign,
                "status": chosen.get_status_display(),
                "number": serving.report.number,
            }
        else:
            message = _("%(unit)s is %(status)s: send divert to send it anyway.") % {
                "unit": chosen.call_sign,
                "status": chosen.get_status_display(),
            }
        raise TransitionNotAllowed(message)
    if serving is not None:
        _take_unit_off(serving, chosen, to=assignment, actor=actor)
    return chosen


def _take_unit_off(serving: Assignment, unit: Unit, *, to: Assignment, actor) -> None:
    """Diverting: the unit leaves the assignment it served. One not yet on scene goes back
    to acknowledged, waiting for another unit; one on scene keeps its arrival."""
    fields = {"unit": "", "unit_ref": None}
    if serving.status == AssignmentStatus.DISPATCHED:
        fields.update(
            status=AssignmentStatus.ACKNOWLEDGED, dispatched_at=None, dispatched_by=None,
            eta_minutes=None, departed_at=None, departed_by=None,
        )  # fmt: skip
    for name, value in fields.items():
        setattr(serving, name, value)
    serving.save(update_fields=list(fields))
    event_record(
        serving.report,
        "assignment.unit_diverted",
        actor=actor,
        assignment=serving,
        data={
            "status": serving.status,
            "unit": unit.call_sign,
            "to_report": to.report.number,
            "to_assignment": to.pk,
        },
    )


def _estimated_eta(unit: Unit, report: Report) -> int | None:
    start = geo.place_of(unit.latitude, unit.longitude, unit.home_kecamatan)
    end = geo.place_of(report.latitude, report.longitude, report.kecamatan)
    if start is None or end is None:
        return None
    return geo.travel_minutes(geo.metres(*start, *end))
