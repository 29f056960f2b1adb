"""Field units on /ws/events/ (issue 14 §6, SPEC §7), with real websocket clients:
`unit.positions` (live only, scoped, coalesced once per process), positions sent as frames by
the field app, `unit.updated` and the unit's reports reaching its crew, and `units` in the
snapshot."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from agencies.models import Kecamatan
from reports import services
from units import services as unit_services
from units.models import UnitPosition

from .test_events_consumer import connect, run, session_headers
from .waiting import received_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def amb(unit_of):
    return unit_of(
        "ambulans", "AMB-01", home_kecamatan=Kecamatan.objects.get(code="semarang_tengah")
    )


def positions(messages) -> list[dict]:
    """Each unit's position in the `unit.positions` frames received, in order."""
    return [
        {"unit": unit} for m in messages if m["type"] == "unit.positions" for unit in m["units"]
    ]


def test_positions_reach_the_command_centre_and_the_units_agency_only(
    amb, operator, staff_of, field_officer_of
):
    sockets = {
        "operator": session_headers(operator),
        "ambulans": session_headers(staff_of("ambulans")),
        "damkar": session_headers(staff_of("damkar")),
        "crew": session_headers(officer := field_officer_of("ambulans", unit=amb)),
    }

    async def scenario():
        connected = {name: await connect(headers) for name, headers in sockets.items()}
        for communicator in connected.values():
            snapshot = await communicator.receive_json_from(timeout=5)
            assert snapshot["type"] == "snapshot"
        await database_sync_to_async(unit_services.record_position)(
            actor=officer, unit=amb, latitude=-6.99, longitude=110.42, accuracy_m=7
        )
        got = {name: await received_until_quiet(c, 0.3, first=2.0) for name, c in connected.items()}
        for name in ("operator", "ambulans"):
            (position,) = positions(got[name])
            assert position["unit"]["call_sign"] == "AMB-01"
            assert (position["unit"]["latitude"], position["unit"]["accuracy_m"]) == (-6.99, 7)
            assert "event_id" not in position  # not an Event
        assert positions(got["damkar"]) == [] and positions(got["crew"]) == []
        for communicator in connected.values():
            await communicator.disconnect()

    run(scenario)


def test_positions_are_coalesced_to_one_per_unit_per_second_per_dashboard(
    amb, staff_of, field_officer_of, settings
):
    settings.DISPATCH_POSITION_COALESCE_SECONDS = 1.0
    officer = field_officer_of("ambulans", unit=amb)
    headers = session_headers(staff_of("ambulans"))

    async def scenario():
        desk = await connect(headers)
        await desk.receive_json_from(timeout=5)
        record = database_sync_to_async(unit_services.record_position)
        for step in range(5):  # five fixes in well under a second
            await record(actor=officer, unit=amb, latitude=-6.99 + step / 1000, longitude=110.42)
        got = positions(await received_until_quiet(desk, 1.5, first=2.0))
        # The latest always arrives; before it at most the first (the hub sends a unit at
        # once, then at most once a second; with Redis the publishing process batches them
        # first, notifications.positions).
        latitudes = [p["unit"]["latitude"] for p in got]
        assert latitudes in ([-6.99, -6.986], [-6.986]), latitudes
        assert await database_sync_to_async(UnitPosition.objects.count)() == 5  # all stored
        await desk.disconnect()

    run(scenario)


def test_the_field_app_sends_positions_as_frames(amb, operator, field_officer_of, unit_of):
    officer = field_officer_of("ambulans", unit=amb)
    other = unit_of("ambulans", "AMB-02")
    damkar = unit_of("damkar", "DMK-01")
    crew, desk = session_headers(officer), session_headers(operator)

    async def scenario():
        phone, centre = await connect(crew), await connect(desk)
        await phone.receive_json_from(timeout=5)
        await centre.receive_json_from(timeout=5)
        now = timezone.now().isoformat()
        fix = {"latitude": -6.98, "longitude": 110.41, "accuracy_m": 4, "recorded_at": now}
        await phone.send_json_to({"type": "position", "unit": amb.pk, **fix})
        (position,) = positions(await received_until_quiet(centre, 0.3, first=2.0))
        assert position["unit"]["latitude"] == -6.98
        assert await phone.receive_nothing(timeout=0.2)  # nothing back for a good frame
        bad = [
            ({"unit": amb.pk, "latitude": 95, "longitude": 110.4}, "bad position"),
            ({"unit": amb.pk, "latitude": -6.9}, "bad position"),
            ({"unit": "AMB-01", "latitude": -6.9, "longitude": 110.4}, "unit must be a unit id"),
            ({"unit": amb.pk, "latitude": -6.9, "longitude": 110.4, "recorded_at": "nanti"},
             "recorded_at must be an ISO 8601 time with zone"),
            ({"unit": other.pk, "latitude": -6.9, "longitude": 110.4}, None),  # not theirs
            ({"unit": damkar.pk, "latitude": -6.9, "longitude": 110.4}, "no such unit"),
        ]  # fmt: skip
        for frame, detail in bad:
            await phone.send_json_to({"type": "position", **frame})
            reply = await phone.receive_json_from(timeout=5)
            assert reply["type"] == "error", frame
            if detail:
                assert reply["detail"] == detail
        assert await database_sync_to_async(UnitPosition.objects.count)() == 1
        assert positions(await received_until_quiet(centre, 0.3)) == []
        await phone.disconnect()
        await centre.disconnect()

    run(scenario)


def test_the_crew_hears_its_dispatch_and_its_reports_events_masked(
    amb, make_report, staff_of, field_officer_of
):
    officer = field_officer_of("ambulans", unit=amb)
    staff = staff_of("ambulans")
    report = make_report(category="darurat_medis", address="Jl. Pandanaran")
    crew = session_headers(officer)

    async def scenario():
        phone = await connect(crew)
        snapshot = await phone.receive_json_from(timeout=5)
        assert snapshot["assignments"] == []  # not sent anywhere yet
        assert [u["call_sign"] for u in snapshot["units"]] == ["AMB-01"]
        assignment = await database_sync_to_async(lambda: report.assignments.get())()
        await database_sync_to_async(services.assignment_dispatch)(
            assignment=assignment, actor=staff, unit="AMB-01"
        )
        got = await received_until_quiet(phone, 0.3, first=2.0)
        kinds = [m.get("kind") for m in got]
        assert "assignment.dispatched" in kinds and "unit.updated" in kinds
        updated = next(m for m in got if m["type"] == "unit.updated")
        assert updated["unit"]["status"] == "dispatched"  # not yet moving
        assert updated["unit"]["assignment"] == assignment.pk
        dispatched = next(m for m in got if m.get("kind") == "assignment.dispatched")
        assert dispatched["report"]["caller_phone"] == "+62812*****890"
        post = database_sync_to_async(services.message_post)
        await post(author=staff, report=report, body="Pasien lansia, lantai 2")
        got = await received_until_quiet(phone, 0.3, first=2.0)
        assert [m["message"]["body"] for m in got if m["type"] == "message.created"] == [
            "Pasien lansia, lantai 2"
        ]
        await phone.disconnect()

    run(scenario)


def test_the_snapshot_carries_units_by_visibility(amb, unit_of, operator, staff_of):
    unit_of("damkar", "DMK-01")
    headers = {"operator": session_headers(operator), "damkar": session_headers(staff_of("damkar"))}

    async def scenario():
        for name, expected in (("operator", ["AMB-01", "DMK-01"]), ("damkar", ["DMK-01"])):
            communicator = await connect(headers[name])
            snapshot = await communicator.receive_json_from(timeout=5)
            assert sorted(u["call_sign"] for u in snapshot["units"]) == expected
            await communicator.disconnect()

    run(scenario)


def test_signing_on_reconnects_the_officers_sockets(amb, field_officer_of):
    officer = field_officer_of("ambulans")
    headers = session_headers(officer)

    async def scenario():
        phone = await connect(headers)
        snapshot = await phone.receive_json_from(timeout=5)
        assert snapshot["units"] == []  # not signed on: accepted, hearing nothing
        await database_sync_to_async(unit_services.sign_on)(officer=officer, unit=amb)
        closed = await phone.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4001}

    run(scenario)
