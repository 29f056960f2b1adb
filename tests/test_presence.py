"""Who is there (SPEC §12, issue 40 §1), with real websocket clients: the command centre's
snapshot and live `presence.updated` frames count each agency's connected desk screens and
field phones; agencies and crews are not told."""

import pytest

from .test_events_consumer import connect, run, session_headers
from .waiting import received_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)


async def presence_after_changes(communicator) -> dict | None:
    """The last presence the socket was told, once the frames have stopped coming (they are
    sent at most once a second)."""
    frames = await received_until_quiet(communicator, 1.5, first=3.0)
    updates = [f["presence"] for f in frames if f["type"] == "presence.updated"]
    return updates[-1] if updates else None


def test_the_command_centre_sees_desks_and_phones_come_and_go(
    city, operator, supervisor, staff_of, field_officer_of, unit_of
):
    amb = unit_of("ambulans", "AMB-01")
    headers = {
        "operator": session_headers(operator),
        "supervisor": session_headers(supervisor),
        "damkar desk": session_headers(staff_of("damkar")),
        "ambulans phone": session_headers(field_officer_of("ambulans", unit=amb)),
    }

    async def scenario():
        centre = await connect(headers["operator"])
        first = await centre.receive_json_from(timeout=5)
        assert first["type"] == "snapshot" and first["presence"] == {}
        desk = await connect(headers["damkar desk"])
        desk_snapshot = await desk.receive_json_from(timeout=5)
        assert "presence" not in desk_snapshot  # the command centre's to see
        phone = await connect(headers["ambulans phone"])
        await phone.receive_json_from(timeout=5)
        expected = {"damkar": {"desk": 1, "field": 0}, "ambulans": {"desk": 0, "field": 1}}
        assert await presence_after_changes(centre) == expected
        boss = await connect(headers["supervisor"])
        assert (await boss.receive_json_from(timeout=5))["presence"] == expected
        await desk.disconnect()
        assert await presence_after_changes(centre) == {"ambulans": {"desk": 0, "field": 1}}
        assert await presence_after_changes(boss) == {"ambulans": {"desk": 0, "field": 1}}
        frames = await received_until_quiet(phone, 0.5)
        assert [f for f in frames if f["type"] == "presence.updated"] == []  # crews: not told
        for communicator in (centre, phone, boss):
            await communicator.disconnect()

    run(scenario)
