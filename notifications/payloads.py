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
    if missing := {e.report_id for e in events} - reports.keys():
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
    payloads = []
    for event in events:
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


def _reports(report_ids):
    from reports.models import Report

    return Report.objects.filter(pk__in=report_ids)
