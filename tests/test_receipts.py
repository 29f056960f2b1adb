"""Delivery you can see (SPEC §12, issue 40 §2–3), with real websocket clients on the
configured channel layer: an agency's screen acknowledges what it showed (delivered_at), a
person says the card is on screen (seen_at, seen_by), and an assignment no screen of its
agency showed is announced to the command centre, once, with the agency's phone number."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from agencies.models import Agency
from reports.escalation import assignments_flag_unheard
from reports.models import Assignment, Event
from reports.tasks import sweep_escalations

from .test_events_consumer import connect, received_events, run, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_an_agency_with_no_screen_is_unheard_once_with_its_phone(make_report, operator, staff_of):
    """Damkar's desk is closed: 15 s after the fire was sent the operators are told, once,
    with Damkar's number; Damkar's own screens (when they come) are not told."""
    Agency.objects.filter(code="damkar").update(phone="024-3544000")
    centre, damkar = session_headers(operator), session_headers(staff_of("damkar"))
    report = make_report(category="kebakaran", priority=1)
    assignment = report.assignments.get()

    async def scenario():
        desk, console = await connect(damkar), await connect(centre)
        await desk.receive_json_from(timeout=5)
        await console.receive_json_from(timeout=5)  # the snapshots (nobody acknowledges)
        sweep = database_sync_to_async(assignments_flag_unheard)
        assert await sweep(now=later(14)) == []  # not yet
        assert await sweep(now=later(16)) == [assignment.pk]
        assert await sweep(now=later(30)) == []  # once
        got = await received_events(console)
        assert [e["type"] for e in got] == ["assignment.unheard"]
        assert got[0]["phone"] == "024-3544000"
        assert got[0]["assignment"]["id"] == assignment.pk
        assert got[0]["assignment"]["unheard_at"] is not None
        assert got[0]["report"]["number"] == report.number
        assert await received_events(desk) == []  # the command centre's alone
        # A desk reconnecting after the event is not replayed it either.
        await desk.send_json_to({"type": "resume", "last_event_id": 0})
        replayed = await received_events(desk)
        assert "assignment.unheard" not in {e.get("kind") for e in replayed}
        await desk.disconnect()
        await console.disconnect()

    run(scenario)
    assignment.refresh_from_db()
    assert assignment.unheard_at is not None and assignment.delivered_at is None


def test_a_desk_that_acknowledges_the_frame_delivers_it_and_is_never_unheard(
    make_report, operator, staff_of
):
    centre, damkar = session_headers(operator), session_headers(staff_of("damkar"))

    async def scenario():
        desk, console = await connect(damkar), await connect(centre)
        await desk.receive_json_from(timeout=5)
        await console.receive_json_from(timeout=5)
        report = await database_sync_to_async(make_report)(category="kebakaran", priority=1)
        created = [e for e in await received_events(desk) if e["type"] == "assignment.created"]
        assert len(created) == 1 and created[0]["assignment"]["delivered_at"] is None
        await received_events(console)
        await desk.send_json_to({"type": "ack", "event_id": created[0]["event_id"]})
        delivered = await received_events(console)
        assert [(e["type"], e["kind"]) for e in delivered] == [
            ("assignment.updated", "assignment.delivered")
        ]
        assert delivered[0]["assignment"]["delivered_at"] is not None
        assert delivered[0]["assignment"]["seen_at"] is None
        # The same frame acknowledged again, by another screen of Damkar: nothing more.
        await desk.send_json_to({"type": "ack", "event_id": created[0]["event_id"]})
        assert await received_events(console) == []
        sweep = database_sync_to_async(assignments_flag_unheard)
        assert await sweep(now=later(60)) == []
        await desk.disconnect()
        await console.disconnect()
        return report

    report = run(scenario)
    assert Event.objects.filter(report=report, kind="assignment.delivered").count() == 1
    assert not Event.objects.filter(report=report, kind="assignment.unheard").exists()


def test_a_desk_that_connects_late_delivers_what_its_snapshot_drew(make_report, staff_of):
    """Sent while Damkar's desk was closed; the desk opens 10 s later: the snapshot it drew
    delivers the assignment (the screen says which cards it drew)."""
    report = make_report(category="kebakaran", priority=1)
    assignment = report.assignments.get()
    damkar = session_headers(staff_of("damkar"))

    async def scenario():
        desk = await connect(damkar)
        snapshot = await desk.receive_json_from(timeout=5)
        drawn = [a["id"] for a in snapshot["assignments"]]
        assert drawn == [assignment.pk]
        await desk.send_json_to({"type": "ack", "assignments": drawn})
        got = await received_events(desk)  # the delivery, as a step of its own report
        assert [e["kind"] for e in got] == ["assignment.delivered"]
        await desk.disconnect()

    run(scenario)
    assignment.refresh_from_db()
    assert assignment.delivered_at is not None
    assert assignments_flag_unheard(now=later(60)) == []


def test_a_card_on_screen_is_seen_by_that_person(make_report, operator, staff_of):
    damkar_user = staff_of("damkar")
    report = make_report(category="kebakaran", priority=1)
    assignment = report.assignments.get()
    centre, damkar = session_headers(operator), session_headers(damkar_user)

    async def scenario():
        desk, console = await connect(damkar), await connect(centre)
        await desk.receive_json_from(timeout=5)
        await console.receive_json_from(timeout=5)
        await desk.send_json_to({"type": "seen", "assignment": assignment.pk})
        got = await received_events(console)
        assert [e["kind"] for e in got] == ["assignment.seen"]
        seen = got[0]["assignment"]
        assert seen["seen_by"] == damkar_user.username
        assert seen["seen_at"] is not None and seen["delivered_at"] is not None
        await desk.send_json_to({"type": "seen", "assignment": assignment.pk})  # once
        assert await received_events(console) == []
        await desk.disconnect()
        await console.disconnect()

    run(scenario)
    assignment.refresh_from_db()
    assert assignment.seen_by == damkar_user
    # The API says it too.
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(operator)
    data = client.get(f"/api/v1/assignments/{assignment.pk}/").json()
    assert data["seen_by"] == damkar_user.username and data["delivered_at"] is not None


def test_only_the_assigned_agency_gives_receipts(make_report, operator, staff_of):
    """Another agency's screen, the command centre's, a made-up id: nothing is recorded
    (another agency cannot make a fire look heard at Damkar)."""
    report = make_report(category="kebakaran", priority=1)
    assignment = report.assignments.get()
    created = Event.objects.get(assignment=assignment, kind="assignment.created")
    others = [session_headers(staff_of("dishub")), session_headers(operator)]

    async def scenario():
        for headers in others:
            socket = await connect(headers)
            await socket.receive_json_from(timeout=5)
            await socket.send_json_to({"type": "ack", "event_id": created.pk})
            await socket.send_json_to({"type": "ack", "assignments": [assignment.pk]})
            await socket.send_json_to({"type": "seen", "assignment": assignment.pk})
            await socket.send_json_to({"type": "seen", "assignment": 2**62})
            got = await received_events(socket)
            assert [e["type"] for e in got] == [], got
            await socket.disconnect()

    run(scenario)
    assignment.refresh_from_db()
    assert (assignment.delivered_at, assignment.seen_at) == (None, None)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "ack", "event_id": "12"},
        {"type": "ack", "event_id": True},
        {"type": "ack", "event_id": -1},
        {"type": "ack", "assignments": "1,2"},
        {"type": "ack", "assignments": [1, "2"]},
        {"type": "ack", "assignments": list(range(1, 600))},
        {"type": "seen"},
        {"type": "seen", "assignment": 2**63},
    ],
)
def test_a_bad_receipt_is_answered_not_crashed(city, staff_of, frame):
    damkar = session_headers(staff_of("damkar"))

    async def scenario():
        desk = await connect(damkar)
        await desk.receive_json_from(timeout=5)
        await desk.send_json_to(frame)
        answer = await desk.receive_json_from(timeout=5)
        assert answer["type"] == "error" and answer["detail"], answer
        await desk.disconnect()

    run(scenario)


def test_the_periodic_sweep_flags_unheard_assignments(make_report, settings):
    """The same sweep beat runs with Celery (and the embedded server runs in a thread)."""
    settings.DISPATCH_UNHEARD_SECONDS = 0
    report = make_report(category="kebakaran", priority=1)
    done = sweep_escalations.apply().get(timeout=10)
    assert done["unheard"] == 1
    assert Assignment.objects.get(report=report).unheard_at is not None
    assert sweep_escalations.apply().get(timeout=10)["unheard"] == 0


def test_a_backlog_older_than_the_window_is_left_to_escalation(make_report, settings):
    settings.DISPATCH_UNHEARD_WINDOW_SECONDS = 600
    report = make_report(category="kebakaran", priority=1)
    assert assignments_flag_unheard(now=later(601)) == []
    assert Assignment.objects.get(report=report).unheard_at is None
