"""Floods and bad input at the doors this session owns (issue 33 findings 8 and 9, SPEC §13):
websocket frames are limited (a unit's positions stored at most one a second, a resume at most
one per 5 s per socket), a bad `recorded_at` or a binary frame gets an error frame naming it
(never a 1011), and the units list and the history page refuse control characters and unknown
values with a 400 naming the field (never a 500)."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from units.models import UnitPosition

from .api.conftest import JsonClient
from .test_events_consumer import connect, run, session_headers
from .waiting import received_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def amb(unit_of):
    return unit_of("ambulans", "AMB-01")


def fix(unit, **extra) -> dict:
    now = timezone.now().isoformat()
    return {"type": "position", "unit": unit.pk, "latitude": -6.98, "longitude": 110.41,
            "recorded_at": now, **extra}  # fmt: skip


def test_a_units_positions_are_stored_at_most_once_a_second(amb, unit_of, field_officer_of):
    officer = field_officer_of("ambulans", unit=amb)
    crew = session_headers(officer)

    async def scenario():
        phones = [await connect(crew), await connect(crew)]  # two sockets, one unit
        for phone in phones:
            await phone.receive_json_from(timeout=2)
        replies = []
        for i in range(6):
            await phones[i % 2].send_json_to(fix(amb))
        for phone in phones:
            replies += await received_until_quiet(phone, 0.3, first=1.0)
        for phone in phones:
            await phone.disconnect()
        return replies

    replies = run(scenario)
    assert UnitPosition.objects.filter(unit=amb).count() == 1
    assert len(replies) == 5 and {(r["type"], r["field"]) for r in replies} == {("error", "unit")}


def test_a_socket_resumes_at_most_once_every_five_seconds(make_report, operator):
    make_report()
    desk = session_headers(operator)

    async def scenario():
        screen = await connect(desk)
        await screen.receive_json_from(timeout=2)
        await screen.send_json_to({"type": "resume", "last_event_id": 0})
        first = await received_until_quiet(screen, 0.3, first=1.0)
        await screen.send_json_to({"type": "resume", "last_event_id": 0})
        second = await received_until_quiet(screen, 0.3, first=1.0)
        await screen.disconnect()
        return first, second

    first, second = run(scenario)
    assert first and all("event_id" in m for m in first)
    assert [(m["type"], m["field"]) for m in second] == [("error", "type")]


@pytest.mark.parametrize(
    "recorded_at",
    [
        "2026-02-30T10:00:00+07:00",  # no such day: parse_datetime raised, the socket got 1011
        "2026-12-06T10:00:00+23:00",  # no such time zone
        "9999-12-31T23:59:59+07:00",
        "nanti\x00",
        17,
    ],
)
def test_a_bad_recorded_at_gets_an_error_frame_naming_it(amb, field_officer_of, recorded_at):
    officer = field_officer_of("ambulans", unit=amb)
    crew = session_headers(officer)

    async def scenario():
        phone = await connect(crew)
        await phone.receive_json_from(timeout=2)
        await phone.send_json_to(fix(amb, recorded_at=recorded_at))
        reply = await phone.receive_json_from(timeout=2)
        await phone.send_json_to(fix(amb))  # the socket still serves, and stores
        assert await phone.receive_nothing(timeout=0.3)
        stored = await database_sync_to_async(UnitPosition.objects.count)()
        await phone.disconnect()
        return reply, stored

    reply, stored = run(scenario)
    assert (reply["type"], reply["field"]) == ("error", "recorded_at")
    assert "recorded_at" in reply["errors"]
    assert stored == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [("agency=dam%00kar", "agency"), ("status=%00", "status"), ("status=flying", "status"),
     ("agency=" + "x" * 100, "agency")],
)  # fmt: skip
def test_the_units_list_refuses_bad_filters_naming_them(operator, city, query, field):
    client = JsonClient()
    client.force_login(operator)
    response = client.get(f"/api/v1/units/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert client.get("/api/v1/units/?agency=damkar&status=available").status_code == 200


@pytest.mark.parametrize(("query", "field"), [("q=abc%00", "q"), ("q=a%1bb", "q"),
                                              ("day=%07", "day")])  # fmt: skip
def test_the_history_page_refuses_control_characters_naming_the_field(
    client, staff_of, query, field
):
    client.force_login(staff_of("ambulans"))
    response = client.get(f"/agency/history/?{query}")
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")
    assert client.get("/agency/history/?q=a%09b").status_code == 200  # a tab is text
