"""The assignment state machine (SPEC §6): each agency's steps on its assignment, the
unit's status following them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies import geo
from agencies.models import Unit, UnitStatus
from agencies.roles import Role, user_agency, user_role, user_unit_id
from core.errors import ActionForbidden, TransitionNotAllowed
from core.validation import Errors, clean_position, clean_text

from ..models import OPEN_ASSIGNMENT_STATUSES, Assignment, AssignmentStatus
from ..validation import step_time
from .events import User, event_record

# --- The assignment state machine ---------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentAction:
    name: str
    sources: frozenset[str]
    target: str
    stamp: str  # prefix of the <stamp>_at / <stamp>_by fields this step fills
    label: str  # the verb, for error messages


ASSIGNMENT_ACTIONS: dict[str, AssignmentAction] = {
    a.name: a
    for a in [
        AssignmentAction(
            "acknowledge",
            frozenset({"notified"}),
            AssignmentStatus.ACKNOWLEDGED,
            "acknowledged",
            gettext_lazy("acknowledge"),
        ),
        # Dispatching straight from `notified` acknowledges at the same moment: an ambulance
        # crew should not need two taps to roll.
        AssignmentAction(
            "dispatch",
            frozenset({"notified", "acknowledged"}),
            AssignmentStatus.DISPATCHED,
            "dispatched",
            gettext_lazy("dispatch"),
        ),
        # The crew's *Berangkat*: the unit rolls (it stays dispatched; turnout time ends).
        AssignmentAction(
            "depart",
            frozenset({"dispatched"}),
            AssignmentStatus.DISPATCHED,
            "departed",
            gettext_lazy("mark departure"),
        ),
        AssignmentAction(
            "arrive",
            frozenset({"dispatched"}),
            AssignmentStatus.ON_SCENE,
            "arrived",
            gettext_lazy("mark arrival"),
        ),
        AssignmentAction(
            "resolve",
            frozenset({"on_scene"}),
            AssignmentStatus.RESOLVED,
            "resolved",
            gettext_lazy("resolve"),
        ),
        AssignmentAction(
            "reject",
            frozenset({"notified", "acknowledged"}),
            AssignmentStatus.REJECTED,
            "rejected",
            gettext_lazy("reject"),
        ),
        AssignmentAction(
            "cancel",
            frozenset(OPEN_ASSIGNMENT_STATUSES),
            AssignmentStatus.CANCELLED,
            "cancelled",
            gettext_lazy("cancel"),
        ),
    ]
}


# The steps a field officer takes on their own unit's assignment (SPEC §7).
FIELD_ACTIONS = frozenset({"depart", "arrive", "resolve"})
# What becomes of the serving unit when its assignment takes a step.
UNIT_AFTER = {
    "depart": UnitStatus.EN_ROUTE,
    "arrive": UnitStatus.ON_SCENE,
    "resolve": UnitStatus.AVAILABLE,
    "cancel": UnitStatus.AVAILABLE,
}


def _check_source(assignment: Assignment, action: AssignmentAction) -> None:
    if assignment.status not in action.sources or (
        action.name == "depart" and assignment.departed_at is not None
    ):
        status = assignment.get_status_display()
        if action.name == "depart" and assignment.departed_at is not None:
            status = _("already under way")
        raise TransitionNotAllowed(
            _("Cannot %(action)s: the assignment is %(status)s.")
            % {"action": action.label, "status": status}
        )


def _previous_step_at(assignment: Assignment) -> datetime:
    stamps = (
        assignment.notified_at,
        assignment.acknowledged_at,
        assignment.dispatched_at,
        assignment.departed_at,
        assignment.arrived_at,
    )
    return max(t for t in stamps if t is not None)


def _apply(
    assignment: Assignment,
    action: AssignmentAction,
    *,
    actor: User,
    now: datetime,
    fields: dict | None = None,
    event_data: dict | None = None,
) -> Assignment:
    """Moves a locked assignment along `action`, stamping time and actor, and emits the
    Event; the unit serving it follows (UNIT_AFTER)."""
    _check_source(assignment, action)
    fields = dict(fields or {})
    fields["status"] = action.target
    fields[f"{action.stamp}_at"] = now
    fields[f"{action.stamp}_by"] = actor
    if action.name == "dispatch" and assignment.acknowledged_at is None:
        fields["acknowledged_at"] = now
        fields["acknowledged_by"] = actor
    for name, value in fields.items():
        setattr(assignment, name, value)
    assignment.save(update_fields=list(fields))
    data = {k: v for k, v in fields.items() if k in ("eta_minutes", "unit", "reject_reason")}
    if "arrival_distance_m" in fields:
        data["arrival_distance_m"] = fields["arrival_distance_m"]
    event_record(
        assignment.report,
        f"assignment.{action.stamp}",
        actor=actor,
        assignment=assignment,
        data={"status": action.target, **data, **(event_data or {})},
    )
    if action.name in UNIT_AFTER and assignment.unit_ref_id is not None:
        unit = Unit.objects.select_for_update(no_key=True).get(pk=assignment.unit_ref_id)
        unit_set_status(unit, UNIT_AFTER[action.name], actor=actor, assignment=assignment)
    return assignment


def unit_set_status(
    unit: Unit,
    status: str,
    *,
    actor: User | None,
    assignment: Assignment | None = None,
    reason: str = "",
) -> Unit:
    """Sets a locked unit's status and records `unit.updated` (published after commit)."""
    if unit.status == status and not reason:
        return unit
    unit.status = status
    unit.save(update_fields=["status"])
    event_record(
        None,
        "unit.updated",
        actor=actor,
        unit=unit,
        data={
            "status": status,
            "assignment": assignment.pk if assignment is not None else None,
            "reason": reason,
        },
    )
    return unit


def _lock(assignment: Assignment | int) -> Assignment:
    assignment_id = assignment.pk if isinstance(assignment, Assignment) else assignment
    # The row lock serialises concurrent actions: the second one sees the new status.
    return (
        Assignment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("report", "report__kecamatan", "agency")
        .get(pk=assignment_id)
    )


def _check_allowed(assignment: Assignment, action_name: str, actor: User) -> None:
    role = user_role(actor)
    if action_name == "cancel":
        allowed = role == Role.OPERATOR
    elif role == Role.FIELD:
        # A field officer acts on the assignment of the unit they are signed on to.
        allowed = (
            action_name in FIELD_ACTIONS
            and assignment.unit_ref_id is not None
            and assignment.unit_ref_id == user_unit_id(actor)
        )
    else:
        # Agency staff act on their own agency's work; an operator may record a step an
        # agency reported by radio or phone.
        allowed = role == Role.OPERATOR or (
            role == Role.AGENCY_STAFF and user_agency(actor) == assignment.agency
        )
    if not allowed:
        raise ActionForbidden(_("You may not act on this assignment."))


def _transition(
    assignment: Assignment | int,
    action_name: str,
    *,
    actor: User,
    fields: dict | None = None,
    field: dict | None = None,
) -> Assignment:
    """`field`: what a phone sent with the step (occurred_at, position), SPEC §7."""
    action = ASSIGNMENT_ACTIONS[action_name]
    field = field or {}
    with transaction.atomic():
        locked = _lock(assignment)
        _check_allowed(locked, action_name, actor)
        _check_source(locked, action)
        now = timezone.now()
        timing = step_time(field.get("occurred_at"), previous=_previous_step_at(locked), now=now)
        fields = dict(fields or {})
        if action_name == "arrive":
            fields.update(_arrival_fields(locked, field.get("position"), late=timing["late"]))
        return _apply(
            locked, action, actor=actor, now=timing["at"], fields=fields,
            event_data=timing["event"],
        )  # fmt: skip


def _arrival_fields(assignment: Assignment, position, *, late: bool) -> dict:
    """Where the arrival was tapped, and how far from the report's own coordinates."""
    fields = {"arrival_synced_late": late}
    if position is None:
        return fields
    lat, lng, accuracy = position
    fields.update(arrival_latitude=lat, arrival_longitude=lng, arrival_accuracy_m=accuracy)
    report = assignment.report
    if report.latitude is not None:
        fields["arrival_distance_m"] = round(
            geo.metres(lat, lng, float(report.latitude), float(report.longitude))
        )
    return fields


def _field_input(errors: Errors, occurred_at=None, latitude=None, longitude=None, accuracy_m=None):
    if occurred_at is not None and not isinstance(occurred_at, datetime):
        errors.add("occurred_at", _("Give a date and time (ISO 8601)."))
        occurred_at = None
    position = clean_position(errors, latitude, longitude, accuracy_m, required=False)
    return {"occurred_at": occurred_at, "position": position}


def assignment_acknowledge(*, assignment: Assignment | int, actor: User) -> Assignment:
    """notified → acknowledged: the agency has seen it."""
    return _transition(assignment, "acknowledge", actor=actor)


def assignment_depart(*, assignment: Assignment | int, actor: User, **field) -> Assignment:
    """The crew rolls (*Berangkat*): the dispatched assignment records when."""
    errors = Errors()
    field = _field_input(errors, **field)
    errors.raise_if_any()
    return _transition(assignment, "depart", actor=actor, field=field)


def assignment_arrive(*, assignment: Assignment | int, actor: User, **field) -> Assignment:
    """dispatched → on_scene: stops the response-time clock (at the tap's time, SPEC §7),
    with where it was tapped and how far that is from the report."""
    errors = Errors()
    field = _field_input(errors, **field)
    errors.raise_if_any()
    return _transition(assignment, "arrive", actor=actor, field=field)


def assignment_resolve(
    *, assignment: Assignment | int, actor: User, note: str = "", **field
) -> Assignment:
    """on_scene → resolved, with an optional note on what was done."""
    errors = Errors()
    note = clean_text(errors, "note", note, max_length=2000)
    field = _field_input(errors, **field)
    errors.raise_if_any()
    return _transition(
        assignment, "resolve", actor=actor, fields={"resolution_note": note}, field=field
    )


def assignment_reject(*, assignment: Assignment | int, actor: User, reason: str) -> Assignment:
    """notified/acknowledged → rejected: not this agency's job; the reason is required."""
    errors = Errors()
    reason = clean_text(errors, "reason", reason, max_length=2000, required=True)
    errors.raise_if_any()
    return _transition(assignment, "reject", actor=actor, fields={"reject_reason": reason})


# The operator's steering of an open report (SPEC §11) lives in its own module; its actions
