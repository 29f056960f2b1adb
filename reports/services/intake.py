"""A call becomes a report (SPEC §4): validated, routed to its agencies, numbered, fanned
out live after the commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import directory
from agencies.models import Category, Kecamatan
from agencies.roles import Role
from agencies.routing import route
from core.validation import Errors, clean_accuracy, clean_choice, clean_coordinate, clean_text

from ..models import Assignment, Call, CallOutcome, Event, LocationSource, Report, ReportSource
from ..numbering import number_report, provisional_number
from ..phone import normalize_phone
from ..signals import call_logged
from ..validation import clean_received_at, resolve_by_code
from .events import User, _require_role, events_record


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
