"""The live-event wire format (SPEC §5), built once per event for every subscriber."""

from __future__ import annotations

from django.utils import timezone

from reports.api.serializers import MessageSerializer, ReportSerializer
from reports.models import LEFT_ASSIGNMENT_STATUSES, Event, Message
from reports.privacy import masked, withheld
from reports.selectors import LEAVING_EVENT_KINDS, with_details

# Event kinds in the log → the event types clients see.
LIVE_TYPES = {
    "assignment.created": "assignment.created",
    "assignment.acknowledged": "assignment.updated",
    "assignment.dispatched": "assignment.updated",
    "assignment.arrived": "assignment.updated",
    "assignment.resolved": "assignment.updated",
    "assignment.rejected": "assignment.updated",
    "assignment.cancelled": "assignment.updated",
    "assignment.escalated": "assignment.escalated",
    "assignment.overdue": "assignment.updated",
    "report.created": "report.updated",
    "report.closed": "report.updated",
    "call.attached": "report.updated",
    "message.created": "message.created",
    "assignment.departed": "assignment.updated",
    "assignment.unit_diverted": "assignment.updated",
    "unit.updated": "unit.updated",
}


# One instance of each serializer for every payload: DRF builds a ModelSerializer's fields
# (model introspection, about a millisecond) per instance, and these are only read from.
_REPORT = ReportSerializer()
_MESSAGE = MessageSerializer()


def live_payloads(events: list[Event]) -> list[dict]:
    """Payloads for `events` (ordered by id): the report as it is now, the assignment the
    event is about, and for a chat line the message."""
    from .publish import report_in_memory

    reports = {e.report_id: r for e in events if (r := report_in_memory(e)) is not None}
    if missing := {e.report_id for e in events if e.report_id is not None} - reports.keys():
        reports.update((r.pk, r) for r in with_details(_reports(missing)))
    message_ids = [e.data.get("message") for e in events if e.kind == "message.created"]
    messages = {
        m.pk: m
        for m in Message.objects.filter(pk__in=message_ids).select_related(
            "author", "author_agency"
        )
    }
    server_time = timezone.now().isoformat()
    # A transaction's events are usually about one report: serialise each report once.
    report_data = {pk: _REPORT.to_representation(report) for pk, report in reports.items()}
    # The event's assignment is one the report's data already holds, serialised by the same
    # AssignmentSerializer: taken from there, not serialised again (payloads are only read).
    assignment_data = {a["id"]: a for data in report_data.values() for a in data["assignments"]}
    units = _units_of([e.unit_id for e in events if e.report_id is None])
    payloads = []
    for event in events:
        if event.report_id is None:  # a unit's own event
            payloads.append(
                {
                    "type": "unit.updated",
                    "kind": event.kind,
                    "event_id": event.pk,
                    "server_time": server_time,
                    "unit": units[event.unit_id],
                    "data": event.data,
                }
            )
            continue
        payload = {
            "type": LIVE_TYPES.get(event.kind, "report.updated"),
            "kind": event.kind,
            "event_id": event.pk,
            "server_time": server_time,
            "report": report_data[event.report_id],
            "assignment": assignment_data.get(event.assignment_id),
        }
        if event.kind == "message.created":
            message = messages.get(event.data.get("message"))
            payload["message"] = _MESSAGE.to_representation(message) if message else None
        payloads.append(payload)
    return payloads


def for_agency_staff(payload: dict, *, left: bool = False) -> dict:
    """The payload as agency staff receive it: the caller's number masked, or the caller
    withheld for an agency that `left` the report."""
    if payload.get("type") == "snapshot":  # only reports the user takes part in
        return {
            **payload,
            "assignments": [{**a, "report": masked(a["report"])} for a in payload["assignments"]],
        }
    return {**payload, "report": (withheld if left else masked)(payload["report"])}


def agencies_left(payload: dict) -> set[str]:
    """The agencies that left the payload's report (reports.selectors.has_left, on the
    serialised report)."""
    assignments = payload["report"]["assignments"]
    return {a["agency"] for a in assignments if a["status"] in LEFT_ASSIGNMENT_STATUSES}


def agency_recipients(payload: dict) -> tuple[list[str], list[str]]:
    """Which agencies' staff receive the payload: (the agencies on the report, which get it
    masked; the agency this event says left, which gets it withheld). An agency that left
    earlier receives nothing more (reports.selectors.events_visible_to)."""
    left = agencies_left(payload)
    engaged = [a["agency"] for a in payload["report"]["assignments"] if a["agency"] not in left]
    assignment = payload.get("assignment")
    if payload["kind"] in LEAVING_EVENT_KINDS and assignment and assignment["agency"] in left:
        return engaged, [assignment["agency"]]
    return engaged, []


def _units_of(unit_ids: list[int]) -> dict[int, dict]:
    if not unit_ids:
        return {}
    from agencies.models import Unit

    units = Unit.objects.filter(pk__in=set(unit_ids)).select_related("agency", "home_kecamatan")
    return {data["id"]: data for data in units_data(units)}


def unit_recipients(payload: dict) -> tuple[list[int], list[int]]:
    """The units whose field officers receive a report's payload, as agency_recipients:
    (units serving an assignment of an agency on the report, masked; the unit of the
    assignment this event says left, withheld)."""
    left = agencies_left(payload)
    serving = [
        a["unit_id"]
        for a in payload["report"]["assignments"]
        if a.get("unit_id") and a["agency"] not in left
    ]
    assignment = payload.get("assignment")
    if (
        payload["kind"] in LEAVING_EVENT_KINDS
        and assignment
        and assignment.get("unit_id")
        and assignment["agency"] in left
    ):
        return serving, [assignment["unit_id"]]
    return serving, []


def _reports(report_ids):
    from reports.models import Report

    return Report.objects.filter(pk__in=report_ids)


# --- Units (SPEC §7) ------------------------------------------------------------------------------


def units_data(units) -> list[dict]:
    """The wire form of units (the API's, the snapshot's and the live events'), with the
    assignment each one serves: one query for any number of units."""
    from reports.models import UNIT_BUSY_STATUSES, Assignment

    units = list(units)
    serving = {
        unit_id: (pk, report_id, number)
        for unit_id, pk, report_id, number in Assignment.objects.filter(
            unit_ref__in=[u.pk for u in units], status__in=UNIT_BUSY_STATUSES
        ).values_list("unit_ref_id", "pk", "report_id", "report__number")
    }
    return [unit_data(u, serving.get(u.pk)) for u in units]


def unit_data(unit, serving: tuple[int, int, str] | None) -> dict:
    """`unit` needs its agency and home kecamatan loaded (select_related)."""
    assignment, report, number = serving or (None, None, None)
    return {
        "id": unit.pk,
        "agency": unit.agency.code,
        "call_sign": unit.call_sign,
        "kind": unit.kind,
        "home_kecamatan": unit.home_kecamatan.code if unit.home_kecamatan else None,
        "status": unit.status,
        "active": unit.active,
        "latitude": unit.latitude,
        "longitude": unit.longitude,
        "accuracy_m": unit.accuracy_m,
        "position_at": unit.position_at.isoformat() if unit.position_at else None,
        "assignment": assignment,
        "report": report,
        "report_number": number,
    }


def position_payload(unit) -> dict:
    """`unit.position`: a unit's last position, live only (no event id, SPEC §7)."""
    return {
        "type": "unit.position",
        "server_time": timezone.now().isoformat(),
        "unit": {
            "id": unit.pk,
            "agency": unit.agency.code,
            "call_sign": unit.call_sign,
            "status": unit.status,
            "latitude": unit.latitude,
            "longitude": unit.longitude,
            "accuracy_m": unit.accuracy_m,
            "position_at": unit.position_at.isoformat() if unit.position_at else None,
        },
    }
