"""The live map's data (issue 15 §5, SPEC §8): what /map/ hands its script per role, and what
the map draws from /ws/events/ — reports with a place, a priority and each agency's status;
units with their call sign, kind, status and position — scoped as everywhere (agency staff:
their agency's units and reports only), with real websocket clients. The browser side (markers
moving, tiles blocked, wall mode) is tests/browser/test_map_browser.py."""

import json
import re

import pytest
from channels.db import database_sync_to_async

from agencies.models import Kecamatan
from reports import services
from units import services as unit_services

from .test_events_consumer import connect, run, session_headers
from .waiting import received_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)


def page_config(client, user, path="/map/") -> dict:
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    found = re.search(
        r'<script id="live-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(found.group(1))


def test_the_command_centre_gets_the_whole_city_and_staff_their_agency(
    client, operator, supervisor, staff_of, city
):
    centroids = Kecamatan.objects.exclude(latitude=None)
    for user in (operator, supervisor):
        config = page_config(client, user)
        assert config["own_agency"] is None  # every agency, every unit
        assert config["wall"] is False
        assert {k["code"] for k in config["kecamatan"]} == {k.code for k in centroids}
    config = page_config(client, staff_of("ambulans"))
    assert config["own_agency"] == "ambulans"
    tengah = next(k for k in config["kecamatan"] if k["code"] == "semarang_tengah")
    expected = Kecamatan.objects.get(code="semarang_tengah")
    place = (float(tengah["latitude"]), float(tengah["longitude"]))
    assert place == (float(expected.latitude), float(expected.longitude))
    assert tengah["name"] == expected.name  # the offline background labels the centroids


def test_the_tiles_and_the_wall_mode_come_from_the_server(client, operator, settings):
    settings.DISPATCH_MAP_TILES = "http://tiles.pemkot.example/{z}/{x}/{y}.png"
    settings.DISPATCH_MAP_CENTER = [-7.0, 110.4]
    config = page_config(client, operator, "/map/?wall=1")
    assert config["map"] == {
        "tiles": "http://tiles.pemkot.example/{z}/{x}/{y}.png",
        "center": [-7.0, 110.4],
    }
    assert config["wall"] is True


def test_field_officers_and_users_without_a_role_have_no_map(
    client, field_officer_of, django_user_model, admin_user
):
    nobody = django_user_model.objects.create_user("tanpa_peran", password="x")
    for user in (field_officer_of("ambulans"), nobody):
        client.force_login(user)
        assert client.get("/map/").status_code == 403
    assert page_config(client, admin_user)["own_agency"] is None  # superuser = supervisor


def test_the_first_frame_has_everything_the_map_draws(
    unit_of, make_report, operator, staff_of, field_officer_of
):
    amb = unit_of("ambulans", "AMB-01", home_kecamatan=Kecamatan.objects.get(code="gajahmungkur"))
    unit_of("damkar", "DMK-01")
    officer = field_officer_of("ambulans", unit=amb)
    unit_services.record_position(actor=officer, unit=amb, latitude=-7.01, longitude=110.41)
    pinned = make_report(
        category="darurat_medis", address="Jl. Pandanaran", latitude=-6.985, longitude=110.41
    )
    by_kecamatan = make_report(category="kebakaran", address="Pasar Johar")  # no pin
    headers = {"operator": session_headers(operator), "damkar": session_headers(staff_of("damkar"))}

    async def first_frame(name):
        communicator = await connect(headers[name])
        snapshot = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return snapshot

    async def scenario():
        return {name: await first_frame(name) for name in headers}

    snapshots = run(scenario)
    centre = {a["report"]["id"]: a["report"] for a in snapshots["operator"]["assignments"]}
    assert set(centre) == {pinned.pk, by_kecamatan.pk}
    marker = centre[pinned.pk]
    assert (float(marker["latitude"]), float(marker["longitude"])) == (-6.985, 110.41)
    assert marker["status"] == "open" and marker["priority"] == pinned.priority
    assert {(a["agency"], a["status"]) for a in marker["assignments"]} == {
        (a.agency.code, a.status) for a in pinned.assignments.all()
    }
    fallback = centre[by_kecamatan.pk]
    assert fallback["latitude"] is None and fallback["kecamatan"] == "semarang_tengah"
    units = {u["call_sign"]: u for u in snapshots["operator"]["units"]}
    assert set(units) == {"AMB-01", "DMK-01"}
    assert (units["AMB-01"]["latitude"], units["AMB-01"]["longitude"]) == (-7.01, 110.41)
    assert (units["AMB-01"]["kind"], units["AMB-01"]["status"]) == (amb.kind, "available")
    # Damkar staff: the fire (their agency's) and their own unit, nothing of Ambulans'.
    damkar = snapshots["damkar"]
    assert {a["report"]["id"] for a in damkar["assignments"]} == {by_kecamatan.pk}
    assert [u["call_sign"] for u in damkar["units"]] == ["DMK-01"]


def test_a_dispatch_recolours_the_unit_for_those_who_see_it_only(
    unit_of, make_report, operator, staff_of
):
    amb = unit_of("ambulans", "AMB-01")
    report = make_report(category="darurat_medis", address="Jl. Pandanaran")
    ambulans = staff_of("ambulans")
    headers = {
        "operator": session_headers(operator),
        "ambulans": session_headers(ambulans),
        "damkar": session_headers(staff_of("damkar")),
    }

    async def scenario():
        viewers = {name: await connect(h) for name, h in headers.items()}
        for viewer in viewers.values():
            await viewer.receive_json_from(timeout=5)
        assignment = await database_sync_to_async(
            lambda: report.assignments.get(agency__code="ambulans")
        )()
        await database_sync_to_async(services.assignment_dispatch)(
            assignment=assignment, actor=ambulans, unit="AMB-01", eta_minutes=8
        )
        got = {n: await received_until_quiet(v, 0.3, first=2.0) for n, v in viewers.items()}
        for viewer in viewers.values():
            await viewer.disconnect()
        return got

    got = run(scenario)
    for name in ("operator", "ambulans"):
        (updated,) = [m for m in got[name] if m["type"] == "unit.updated"]
        assert updated["unit"]["id"] == amb.pk
        assert updated["unit"]["status"] == "dispatched"  # sent, not yet moving
        dispatched = [m for m in got[name] if m.get("kind") == "assignment.dispatched"]
        assert dispatched[0]["report"]["id"] == report.pk  # the report's marker too
    assert got["damkar"] == []  # neither the unit nor the report is theirs


def test_a_new_report_appears_and_a_closed_one_leaves(make_report, operator, staff_of, city):
    headers = {
        "operator": session_headers(operator),
        "dishub": session_headers(staff_of("dishub")),
        "damkar": session_headers(staff_of("damkar")),
    }

    async def scenario():
        viewers = {name: await connect(h) for name, h in headers.items()}
        for viewer in viewers.values():
            await viewer.receive_json_from(timeout=5)
        report = await database_sync_to_async(make_report)(category="kemacetan")
        created = {n: await received_until_quiet(v, 0.3, first=2.0) for n, v in viewers.items()}
        await database_sync_to_async(services.report_close)(
            actor=operator, report=report, reason="resolved"
        )
        closed = {n: await received_until_quiet(v, 0.3, first=2.0) for n, v in viewers.items()}
        for viewer in viewers.values():
            await viewer.disconnect()
        return report, created, closed

    report, created, closed = run(scenario)
    for name in ("operator", "dishub"):
        (new,) = [m for m in created[name] if m.get("kind") == "report.created"]
        assert new["report"]["id"] == report.pk and new["report"]["status"] == "open"
        last = [m for m in closed[name] if m.get("report", {}).get("id") == report.pk][-1]
        # The map removes a report that is not open or has no open assignment left.
        assert last["report"]["status"] == "closed"
    assert created["damkar"] == [] and closed["damkar"] == []  # a traffic jam is not theirs
