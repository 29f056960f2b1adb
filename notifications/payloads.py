"""The live-event wire format (SPEC §5), built once per event for every subscriber."""

from __future__ import annotations

from django.utils import timezone

from reports.access import CallerFields
from reports.api.serializers import MessageSerializer, ReportSerializer
from reports.models import Event, Message
from reports.privacy import shown
from reports.selectors import with_details

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
    "report.edited": "report.updated",
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
    event is about, the event's data, and for a chat line the message."""
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
            # What the event says beyond the report's state: the fields an edit changed, an
            # attached call's note, a cancellation's reason (never a caller's name or number).
            "data": event.data,
        }
        if event.kind == "message.created":
            message = messages.get(event.data.get("message"))
            payload["message"] = _MESSAGE.to_representation(message) if message else None
        payloads.append(payload)
    return payloads


def for_viewers(payload: dict, fields: CallerFields) -> dict:
    """The payload with its caller as `fields` says (reports.access decides for whom): for
    a snapshot, on every report in it (only reports its viewer takes part in)."""
    if payload.get("type") == "snapshot":
        return {
            **payload,
            "assignments": [
                {**a, "report": shown(a["report"], fields)} for a in payload["assignments"]
            ],
        }
    return {**payload, "report": shown(payload["report"], fields)}


def _units_of(unit_ids: list[int]) -> dict[int, dict]:
    if not unit_ids:
        return {}
    from agencies.models import Unit

    units = Unit.objects.filter(pk__in=set(unit_ids)).select_related("agency", "home_kecamatan")
    return {data["id"]: data for data in units_data(units)}


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
