"""Every change to calls, reports, assignments and messages goes through these functions.

Each runs in one transaction, records what happened as Events, and has the Events published
to live dashboards only after the transaction commits (notifications.publish)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies import directory, geo
from agencies.models import Category, Kecamatan, Unit, UnitStatus
from agencies.roles import Role, user_agency, user_role, user_unit_id
from agencies.routing import route

from .access import as_viewer, reports_engaged_by
from .errors import ActionForbidden, TransitionNotAllowed
from .live import publish_on_commit
from .models import (
    OPEN_ASSIGNMENT_STATUSES,
    UNIT_BUSY_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    CallOutcome,
    CloseReason,
    Event,
    HandoverNote,
    LocationSource,
    Message,
    Report,
    ReportSource,
    ReportStatus,
)
from .numbering import number_report, provisional_number
from .phone import normalize_phone
from .signals import call_logged
from .validation import (
    Errors,
    clean_accuracy,
    clean_choice,
    clean_coordinate,
    clean_id,
    clean_position,
    clean_received_at,
    clean_text,
    resolve_by_code,
    step_time,
)

User = AbstractBaseUser


def _require_role(user: User, *roles: Role) -> None:
    if user_role(user) not in roles:
        raise ActionForbidden(_("Your role may not do this."))


def event_record(
    report: Report | None,
    kind: str,
    *,
    actor: User | None,
    assignment: Assignment | None = None,
    unit: Unit | None = None,
    data: dict | None = None,
) -> Event:
    """Appends an Event and has it published once the surrounding transaction commits. An
    event is about a report (and maybe one of its assignments) or about a unit."""
    event = Event.objects.create(
        report=report, assignment=assignment, unit=unit, kind=kind, actor=actor, data=data or {}
    )
    publish_on_commit(event)
    return event


def events_record(
    events: list[Event],
    *,
    report: Report | None = None,
    assignments: list[Assignment] | None = None,
) -> list[Event]:
    """Appends several Events in one INSERT; published together after commit. An action that
    has just written `report` and all its `assignments` hands them over: the live payload is
    built from them, not read back (reports.live)."""
    created = Event.objects.bulk_create(events)
    for event in created:
        publish_on_commit(event, report=report, assignments=assignments)
    return created


def _clean_phone(errors: Errors, value) -> str:
    try:
        return normalize_phone(value)
    except ValidationError as error:
        errors.add("caller_phone", error)
        return ""


# --- Reports and calls --------------------------------------------------------------------------


@transaction.atomic
def report_create(*, operator: User, caller_phone: str, **fields) -> Report:
    """Logs a call as a new report and fans it out: one Assignment per routed agency.

    Fields: category, description, address (required); caller_name, kecamatan, latitude,
    longitude, priority, agencies (agency codes: replaces the category's default routing),
    received_at, location_source, location_accuracy_m. Writes the Call (outcome ``report``),
    the Report, its Assignments and their Events in one transaction; raises ValidationError
    with every field error and saves nothing on bad input."""
    _require_role(operator, Role.OPERATOR)
    return _report_open(actor=operator, caller_phone=caller_phone, **fields)


@transaction.atomic
def report_receive(
    *, actor: User, source: str, origin: str, caller_phone: str = "", **fields
) -> Report:
    """A report that did not come from a call here (SPEC §10): a city app's request
    (Open311) or another centre's incident (EIDO). Routed and published like a call's; no Call
    is logged, and the caller's number is optional. `actor` is the app's or centre's service
    account; `origin` names it and its own number for the report; `attach(report)`, if
    given, writes the caller's own rows about it in the same transaction."""
    if source not in ReportSource.values or source == ReportSource.CALL:
        raise ValueError(f"not a received report's source: {source!r}")
    return _report_open(
        actor=actor, caller_phone=caller_phone, source=source, origin=origin, **fields
    )


def _report_open(
    *,
    actor: User,
    caller_phone: str,
    category: Category | str,
    description: str,
    address: str,
    caller_name: str = "",
    kecamatan: Kecamatan | str | None = None,
    latitude: Decimal | float | str | None = None,
    longitude: Decimal | float | str | None = None,
    priority: int | None = None,
    agencies: Sequence[str] | None = None,
    received_at: datetime | None = None,
    location_source: str = "",
    location_accuracy_m: float | None = None,
    source: str = ReportSource.CALL,
    origin: str = "",
    attach=None,
) -> Report:
    operator = actor
    errors = Errors()
    by_call = source == ReportSource.CALL
    phone = _clean_phone(errors, caller_phone) if by_call or caller_phone else ""
    origin = clean_text(errors, "origin", origin, max_length=200)
    caller_name = clean_text(errors, "caller_name", caller_name, max_length=120)
    description = clean_text(errors, "description", description, max_length=4000, required=True)
    address = clean_text(errors, "address", address, max_length=300, required=True)
    known = directory.current()  # the configuration, without a query (agencies.directory)
    category = resolve_by_code(
        errors, "category", Category, category, required=True, known=known and known.categories
    )
    kecamatan = resolve_by_code(
        errors, "kecamatan", Kecamatan, kecamatan, required=False, known=known and known.kecamatan
    )
    lat = clean_coordinate(errors, "latitude", latitude, 90)
    lng = clean_coordinate(errors, "longitude", longitude, 180)
    if (lat is None) != (lng is None) and "latitude" not in errors.by_field:
        errors.add("longitude" if lng is None else "latitude", _("Give both coordinates."))
    location_source, location_accuracy_m = _clean_location_origin(
        errors, location_source, location_accuracy_m, has_pin=lat is not None
    )
    received_at = clean_received_at(errors, received_at)
    if priority is None and category is not None:
        priority = category.default_priority
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 3
    ):
        errors.add("priority", _("Priority is 1 (life-threatening), 2 or 3."))
    if category is not None and not category.active:
        errors.add("category", _("This category is no longer in use."))
    if agencies is not None and (isinstance(agencies, str) or not isinstance(agencies, Sequence)):
        errors.add("agencies", _("Give a list of agency codes."))
    elif category is not None and agencies == [] and source == ReportSource.EIDO:
        # Another CAD's call transfer with no incident yet: the operator classifies it and
        # adds the agencies (SPEC §10, §11).
        routed = []
    elif category is not None:
        try:
            routed = route(category=category, agency_codes=agencies, known=known)
        except ValidationError as error:
            errors.absorb(error)
    errors.raise_if_any()

    report = Report.objects.create(
        number=provisional_number(),
        caller_name=caller_name,
        caller_phone=phone,
        category=category,
        priority=priority,
        description=description,
        address=address,
        kecamatan=kecamatan,
        latitude=lat,
        longitude=lng,
        location_source=location_source,
        location_accuracy_m=location_accuracy_m,
        received_at=received_at,
        operator=operator,
        source=source,
        origin=origin,
    )
    call = None
    if by_call:
        call = Call.objects.create(
            caller_phone=phone,
            caller_name=caller_name,
            received_at=received_at,
            operator=operator,
            outcome=CallOutcome.REPORT,
            report=report,
        )
    now = timezone.now()
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(report=report, agency=agency, received_at=received_at, notified_at=now)
            for agency in routed
        ]
    )
    events_record(
        [
            Event(
                report=report,
                kind="report.created",
                actor=operator,
                data={"agencies": [a.code for a in routed], "source": source},
            ),
            *(
                Event(report=report, assignment=a, kind="assignment.created", actor=operator)
                for a in assignments
            ),
        ],
        report=report,  # the live payload is built from these objects (reports.live)
        assignments=assignments,
    )
    if call is not None:
        call_logged.send(sender=Call, call=call)
    if attach is not None:
        attach(report)  # the caller's own rows about the report (interop)
    number_report(report)  # last: it holds the day's counter until the commit
    return report


def _clean_location_origin(errors: Errors, source, accuracy_m, *, has_pin: bool):
    """The pin's source (operator, aml) and accuracy radius: only with a pin."""
    source = source or ""
    if source:
        clean_choice(errors, "location_source", source, LocationSource)
        if not has_pin:
            errors.add("location_source", _("A location source needs the pin's coordinates."))
    accuracy = clean_accuracy(errors, "location_accuracy_m", accuracy_m)
    if has_pin and not source:
        source = LocationSource.OPERATOR
    return source, accuracy if has_pin else None


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


@transaction.atomic
def report_close(
    *,
    actor: User,
    report: Report | int,
    reason: str,
    note: str = "",
    public_note: str = "",
    duplicate_of: Report | int | None = None,
    _handed_over: bool = False,
) -> Report:
    """Closes an open report and cancels its assignments that are still open. `note` is the
    operators' own; `public_note` is what city apps show (Open311 status_notes)."""
    _require_role(actor, Role.OPERATOR)
    report_id = report.pk if isinstance(report, Report) else report
    # NO KEY UPDATE: Event and Message inserts elsewhere take KEY SHARE locks on this row
    # (their foreign keys); a full FOR UPDATE here would deadlock with them.
    report = Report.objects.select_for_update(no_key=True).get(pk=report_id)
    if report.status == ReportStatus.CLOSED:
        raise TransitionNotAllowed(
            _("Report %(number)s is already closed.") % {"number": report.number}
        )
    errors = Errors()
    clean_choice(errors, "reason", reason, CloseReason)
    if (reason == CloseReason.HANDED_OVER) != _handed_over:
        errors.add(
            "reason",
            _("A report is handed over with the handover action: it sends it to the other centre."),
        )
    note = clean_text(errors, "note", note, max_length=2000)
    public_note = clean_text(errors, "public_note", public_note, max_length=500)
    original = None
    original_id = clean_id(errors, "duplicate_of", duplicate_of, Report)
    if reason == CloseReason.DUPLICATE and "duplicate_of" not in errors.by_field:
        original = (
            Report.objects.select_related("duplicate_of").filter(pk=original_id).first()
            if original_id
            else None
        )
        if original is None:
            errors.add("duplicate_of", _("Choose the report this one duplicates."))
        elif original.pk == report.pk:
            errors.add("duplicate_of", _("A report cannot duplicate itself."))
        elif original.close_reason == CloseReason.DUPLICATE:
            # Links always point at the original incident: no chains, so no cycles.
            errors.add(
                "duplicate_of",
                _("%(number)s is itself a duplicate of %(original)s: choose that one.")
                % {"number": original.number, "original": original.duplicate_of.number},
            )
    elif duplicate_of is not None and "duplicate_of" not in errors.by_field:
        errors.add("duplicate_of", _("Only a duplicate refers to another report."))
    errors.raise_if_any()

    now = timezone.now()
    for assignment in report.assignments.select_for_update(no_key=True).filter(
        status__in=OPEN_ASSIGNMENT_STATUSES
    ):
        _apply(assignment, ASSIGNMENT_ACTIONS["cancel"], actor=actor, now=now)
    report.status = ReportStatus.CLOSED
    report.close_reason = reason
    report.close_note = note
    report.public_note = public_note
    report.duplicate_of = original
    report.closed_at = now
    report.closed_by = actor
    report.save(
        update_fields=[
            "status",
            "close_reason",
            "close_note",
            "public_note",
            "duplicate_of",
            "closed_at",
            "closed_by",
        ]
    )
    event_record(
        report,
        "report.closed",
        actor=actor,
        data={
            "reason": reason,
            "note": note,
            "public_note": public_note,
            "duplicate_of": original.pk if original else None,
        },
    )
    return report


def report_hand_over(*, actor: User, report: Report | int, note: str) -> Report:
    """Closes a report that another centre has accepted (SPEC §10): `note` names the centre
    and its number for the report. The sending is interop's; this records its outcome."""
    return report_close(
        actor=actor, report=report, reason=CloseReason.HANDED_OVER, note=note, _handed_over=True
    )


@transaction.atomic
def message_post(*, author: User, report: Report | int, body: str) -> Message:
    """Adds a chat line to a report, from the command centre or one of its agencies."""
    report_id = report.pk if isinstance(report, Report) else report
    report = reports_engaged_by(as_viewer(author)).filter(pk=report_id).first()
    if report is None:
        raise ActionForbidden(_("You cannot write on this report."))
    errors = Errors()
    body = clean_text(errors, "body", body, max_length=2000, required=True)
    errors.raise_if_any()
    message = Message.objects.create(
        report=report, author=author, author_agency=user_agency(author), body=body
    )
    event_record(report, "message.created", actor=author, data={"message": message.pk})
    return message


def handover_note_add(*, author: User, body: str) -> HandoverNote:
    """Leaves a note for the next shift of the author's agency (issue 17 §5)."""
    _require_role(author, Role.AGENCY_STAFF)
    errors = Errors()
    body = clean_text(errors, "body", body, max_length=2000, required=True)
    errors.raise_if_any()
    return HandoverNote.objects.create(agency=user_agency(author), author=author, body=body)


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
# are reached from here like every other service.
from .steering import assignment_add, assignment_cancel, report_edit  # noqa: E402, F401
