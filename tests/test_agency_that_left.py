"""What an agency keeps of a report it left (issue 20 §2): after its assignment is rejected or
cancelled it still sees the report in its history, without the caller's name and number,
without the chat, and with no live event after the one that says it left. The API, the
websocket (live, snapshot and resume) and the services agree, because they ask one rule
(reports.selectors.reports_engaged_by / has_left)."""

import pytest
from channels.db import database_sync_to_async

from core.errors import ActionForbidden
from reports import services
from reports.models import Event, PersonalDataAccess

from .api.conftest import JsonClient
from .test_events_consumer import connect, received_events, run, session_headers

PHONE = "+6281234567890"


@pytest.fixture
def jam(make_report):
    """A kemacetan report (Dishub + Polrestabes) whose caller gave name and number."""
    return make_report(caller_phone=PHONE, caller_name="Budi Santoso")


def reject(report, staff, code="polrestabes"):
    assignment = report.assignments.get(agency__code=code)
    return services.assignment_reject(assignment=assignment, actor=staff, reason="Bukan wewenang")


def signed_in(user) -> JsonClient:
    client = JsonClient()
    client.force_login(user)
    return client


def test_the_report_stays_in_its_history_without_the_caller(jam, staff_of):
    police = staff_of("polrestabes")
    reject(jam, police)
    client = signed_in(police)

    detail = client.get(f"/api/v1/reports/{jam.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert (body["number"], body["description"]) == (jam.number, jam.description)
    assert (body["caller_name"], body["caller_phone"]) == ("", "")
    assert body["caller_withheld"] is True
    # Nothing was read, so nothing is recorded.
    assert not PersonalDataAccess.objects.filter(user=police).exists()

    [listed] = client.get("/api/v1/reports/").json()["results"]
    assert (listed["caller_name"], listed["caller_phone"], listed["caller_withheld"]) == (
        "",
        "",
        True,
    )


def test_the_agency_still_on_the_report_keeps_its_view(jam, staff_of):
    reject(jam, staff_of("polrestabes"))
    dishub = staff_of("dishub")
    body = signed_in(dishub).get(f"/api/v1/reports/{jam.pk}/").json()
    assert (body["caller_name"], body["caller_phone"], body["caller_withheld"]) == (
        "Budi Santoso",
        PHONE,
        False,
    )
    assert PersonalDataAccess.objects.filter(user=dishub, report=jam).count() == 1
    listed = signed_in(dishub).get("/api/v1/reports/").json()["results"][0]
    assert listed["caller_phone"] == "+62812*****890"


def test_its_chat_is_closed_to_it(jam, staff_of, operator):
    police = staff_of("polrestabes")
    services.message_post(author=operator, report=jam, body="Mohon segera")
    reject(jam, police)
    client = signed_in(police)
    assert client.get(f"/api/v1/reports/{jam.pk}/messages/").status_code == 403
    before = Event.objects.count()
    assert client.post(f"/api/v1/reports/{jam.pk}/messages/", {"body": "Halo"}).status_code == 403
    assert Event.objects.count() == before
    with pytest.raises(ActionForbidden):
        services.message_post(author=police, report=jam, body="Halo")


def test_a_cancelled_assignment_leaves_the_report_too(jam, staff_of, operator):
    services.report_close(actor=operator, report=jam, reason="prank")
    body = signed_in(staff_of("dishub")).get(f"/api/v1/reports/{jam.pk}/").json()
    assert body["caller_withheld"] is True
    assert body["caller_phone"] == ""


def test_an_agency_that_resolved_its_part_keeps_the_caller(jam, staff_of, operator):
    dishub = staff_of("dishub")
    assignment = jam.assignments.get(agency__code="dishub")
    services.assignment_dispatch(assignment=assignment, actor=dishub, eta_minutes=5)
    services.assignment_arrive(assignment=assignment, actor=dishub)
    services.assignment_resolve(assignment=assignment, actor=dishub)
    services.report_close(actor=operator, report=jam, reason="resolved")
    body = signed_in(dishub).get(f"/api/v1/reports/{jam.pk}/").json()
    assert (body["caller_phone"], body["caller_withheld"]) == (PHONE, False)


@pytest.mark.django_db(transaction=True)
def test_live_it_hears_that_it_left_and_then_nothing(jam, staff_of, operator):
    police, dishub = staff_of("polrestabes"), staff_of("dishub")
    police_headers, dishub_headers = session_headers(police), session_headers(dishub)
    act = database_sync_to_async

    async def scenario():
        police_socket = await connect(police_headers)
        dishub_socket = await connect(dishub_headers)
        for socket in (police_socket, dishub_socket):
            snapshot = await socket.receive_json_from(timeout=2)
            assert [a["report"]["id"] for a in snapshot["assignments"]] == [jam.pk, jam.pk]

        await act(reject)(jam, police)
        [left] = await received_events(police_socket)
        assert left["kind"] == "assignment.rejected"
        assert left["assignment"]["agency"] == "polrestabes"
        assert left["report"]["caller_withheld"] is True
        assert left["report"]["caller_phone"] == left["report"]["caller_name"] == ""
        [seen] = await received_events(dishub_socket)
        assert seen["report"]["caller_phone"] == "+62812*****890"

        await act(services.message_post)(author=dishub, report=jam, body="Kami tangani")
        assignment = await act(lambda: jam.assignments.get(agency__code="dishub"))()
        await act(services.assignment_acknowledge)(assignment=assignment, actor=dishub)
        assert [e["kind"] for e in await received_events(dishub_socket)] == [
            "message.created",
            "assignment.acknowledged",
        ]
        assert await received_events(police_socket) == []

        # Resuming from before it left: only the event that says it left.
        first = await act(lambda: Event.objects.filter(report=jam).order_by("pk").first().pk)()
        await police_socket.send_json_to({"type": "resume", "last_event_id": first})
        replayed = [e for e in await received_events(police_socket) if e["event_id"] > first]
        assert [e["kind"] for e in replayed] == ["assignment.rejected"]
        assert all(e["report"]["caller_withheld"] for e in replayed)
        for socket in (police_socket, dishub_socket):
            await socket.disconnect()

    run(scenario)


@pytest.mark.django_db(transaction=True)
def test_its_snapshot_no_longer_holds_the_report(jam, staff_of):
    police = staff_of("polrestabes")
    reject(jam, police)
    headers = session_headers(police)

    async def scenario():
        socket = await connect(headers)
        snapshot = await socket.receive_json_from(timeout=2)
        assert snapshot["assignments"] == []
        await socket.disconnect()

    run(scenario)
