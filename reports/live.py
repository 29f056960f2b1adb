"""What each change tells whom, live (SPEC §5, issue 34 §1): the action that records an Event
computes its payload and its audience here, and hands the frames to the transport
(notifications.publish.send_events) once the transaction commits.

Events recorded in one transaction are published together by a single flush after it
commits: one trip into the channel layer's event loop however many events the transaction
wrote. A batch belongs to one connection (so to one thread) and lives only as long as its
on_commit callback: a rollback discards both. An action that has just written a report and
its assignments hands them over (`publish_on_commit(…, report=, assignments=)`): their payload
is built from those objects, with no query; other events are read back after the commit."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from notifications.publish import (
    ALL_REPORTS_GROUP,
    agency_group,
    encode,
    send_events,
    unit_group,
)

from . import push, wire
from .access import CallerFields, live_audience
from .models import UNIT_BUSY_STATUSES, Assignment, Event, Message, Report
from .privacy import shown
from .selectors import with_details

logger = logging.getLogger(__name__)

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
    "assignment.delivered": "assignment.updated",
    "assignment.seen": "assignment.updated",
    "assignment.unheard": "assignment.unheard",
    "report.created": "report.updated",
    "report.closed": "report.updated",
    "report.edited": "report.updated",
    "call.attached": "report.updated",
    "message.created": "message.created",
    "assignment.departed": "assignment.updated",
    "assignment.unit_diverted": "assignment.updated",
    "unit.updated": "unit.updated",
}

_BATCH = "_dispatch_event_batch"


# --- After the commit -----------------------------------------------------------------------------


class _Batch:
    """The events of one transaction on one connection, flushed by one on_commit callback."""

    def __init__(self, savepoints: tuple[str, ...]) -> None:
        self.events: list[Event] = []
        # Reports an action wrote and handed over, by id: (report, its assignments).
        self.known: dict[int, tuple[Report, list[Assignment]]] = {}
        # The savepoints open when the batch began. An event recorded under another one
        # may have been rolled back since (its savepoint undone, the batch kept): such a
        # batch is read back from the database at flush time, where undone events are gone.
        self.savepoints = savepoints
        self.same_savepoint = True

    def add(self, event: Event, savepoints: tuple[str, ...]) -> None:
        self.events.append(event)
        self.same_savepoint = self.same_savepoint and savepoints == self.savepoints

    def flush(self) -> None:
        if self.same_savepoint:
            publish_events(sorted(self.events, key=lambda e: e.pk), self.known)
        else:
            publish([e.pk for e in self.events])


def publish_on_commit(
    event: Event, *, report: Report | None = None, assignments: list[Assignment] | None = None
) -> None:
    """Publishes `event` once the current transaction commits; never if it rolls back.
    `report` with `assignments`: the event's report as the action has just written it,
    complete (its category, kecamatan, operator, and every assignment with its agency)."""
    # The real per-thread connection, not the `connection` proxy that all threads share.
    connection = transaction.get_connection()
    savepoints = tuple(connection.savepoint_ids)
    batch = getattr(connection, _BATCH, None)
    if batch is None or not _registered(connection, batch):
        # A new transaction, or the batch's callback was discarded by a rollback (which also
        # undid its events): start a new batch. Events are added before registering, so that
        # outside a transaction, where on_commit runs at once, the event is already in it.
        batch = _Batch(savepoints)
        _hand_over(batch, report, assignments)
        batch.add(event, savepoints)
        setattr(connection, _BATCH, batch)
        transaction.on_commit(batch.flush, robust=True)
    else:
        _hand_over(batch, report, assignments)
        batch.add(event, savepoints)


def _hand_over(batch: _Batch, report: Report | None, assignments) -> None:
    if report is not None and assignments is not None:
        batch.known[report.pk] = (report, list(assignments))


def _registered(connection, batch: _Batch) -> bool:
    # Django keeps pending callbacks as (savepoint ids, callable, robust) tuples and drops
    # them on rollback; a batch is live exactly while its flush is still among them.
    return any(entry[1] == batch.flush for entry in connection.run_on_commit)


def publish(event_ids: list[int]) -> None:
    """Sends the given events to everyone who may see them, in id order, read back from the
    database (ids of events that were rolled back are simply not found)."""
    publish_events(list(Event.objects.filter(pk__in=event_ids).order_by("pk")))


def publish_events(events: list[Event], known: dict | None = None) -> None:
    """publish() for events already read (or just written), ordered by id. A channel-layer
    outage is logged, not raised: the Event rows are committed and clients catch up by
    resuming."""
    if not events:
        return
    payloads = live_payloads(events, known)
    if (captured := getattr(_capture, "reports", None)) is not None:
        captured.update((p["report"]["id"], p["report"]) for p in payloads if "report" in p)
    push.after_publish(payloads)  # Web Push to closed tabs (SPEC §12): never raises, never waits
    if not send_events(frames_by_group(payloads)):
        ids = [e.pk for e in events]
        logger.error(
            "Events %s were not published; they are sent again once the layer is back", ids
        )
        _unpublished.add(ids)
    elif ids := _unpublished.take():
        # Committed during an outage, while a dashboard may have caught up already: sent
        # now, they reach each socket late, and a socket that never had them catches up in
        # order (EventsConsumer.deliver: a late frame gets it a snapshot and what followed).
        publish(ids)


class _Unpublished:
    """The ids of this process's events whose publication failed, to send again after the
    next publication that succeeds (at most MAX: a longer outage is for resume to cover)."""

    MAX = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[int] = []

    def add(self, ids: list[int]) -> None:
        with self._lock:
            self._ids = (self._ids + ids)[-self.MAX :]

    def take(self) -> list[int]:
        with self._lock:
            ids, self._ids = self._ids, []
        return ids


_unpublished = _Unpublished()


def frames_by_group(payloads: list[dict]) -> dict[str, list[tuple[int, str]]]:
    """Each payload's audience (reports.access.live_audience, from the payload alone), as the
    groups that hear it and the text each hears: encoded to JSON once (twice with the masked
    copy, three times with the withheld one), not once per dashboard."""
    frames: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for payload in payloads:
        event_id = payload["event_id"]
        if payload["type"] == "unit.updated":  # no caller in it: the same text for all
            text, unit = encode(payload), payload["unit"]
            for group in (ALL_REPORTS_GROUP, agency_group(unit["agency"]), unit_group(unit["id"])):
                frames[group].append((event_id, text))
            continue
        frames[ALL_REPORTS_GROUP].append((event_id, encode(payload)))
        audience = live_audience(payload)
        for agencies, units, fields in (
            (audience.agencies, audience.units, CallerFields.MASKED),
            (audience.agencies_left, audience.units_left, CallerFields.WITHHELD),
        ):
            if agencies or units:  # encoded once for all of them, only if someone gets it
                text = encode(for_viewers(payload, fields))
                for group in [*map(agency_group, agencies), *map(unit_group, units)]:
                    frames[group].append((event_id, text))
    return frames


_capture = threading.local()


@contextmanager
def built_reports():
    """Collects, by id, the reports (full, unmasked) as the flushes inside the block built
    them: the view that made the change answers with that data instead of reading and
    serialising the report again. Empty when nothing was published."""
    outer = getattr(_capture, "reports", None)
    _capture.reports = reports = {}
    try:
        yield reports
    finally:
        _capture.reports = outer


# --- Payloads (the wire format, SPEC §5) ----------------------------------------------------------


def live_payloads(events: list[Event], known: dict | None = None) -> list[dict]:
    """Payloads for `events` (ordered by id): the report as it is now, the assignment the
    event is about, the event's data, and for a chat line the message. `known`: reports by
    id with their assignments, as an action wrote them (not read again)."""
    known = known or {}
    report_data = {pk: wire.report_data(r, a) for pk, (r, a) in known.items()}
    if missing := {e.report_id for e in events if e.report_id is not None} - report_data.keys():
        for report in with_details(Report.objects.filter(pk__in=missing)):
            report_data[report.pk] = wire.report_data(report, list(report.assignments.all()))
    message_ids = [e.data.get("message") for e in events if e.kind == "message.created"]
    messages = (
        {
            m.pk: m
            for m in Message.objects.filter(pk__in=message_ids).select_related(
                "author", "author_agency"
            )
        }
        if message_ids
        else {}
    )
    server_time = timezone.now().isoformat()
    # The event's assignment is one the report's data already holds: taken from there.
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
            payload["message"] = wire.message_data(message) if message else None
        elif event.kind == "assignment.unheard":  # whom the operator calls (SPEC §12)
            payload["phone"] = event.data.get("phone", "")
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


# --- Units (SPEC §7) ------------------------------------------------------------------------------


def _units_of(unit_ids: list[int]) -> dict[int, dict]:
    if not unit_ids:
        return {}
    from agencies.models import Unit

    units = Unit.objects.filter(pk__in=set(unit_ids)).select_related("agency", "home_kecamatan")
    return {data["id"]: data for data in units_data(units)}


def units_data(units) -> list[dict]:
    """The wire form of units (the API's, the snapshot's and the live events'), with the
    assignment each one serves: one query for any number of units."""
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
