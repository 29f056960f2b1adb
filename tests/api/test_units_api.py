"""Field units over the API (issue 14, SPEC §7): dispatch names a unit, the closest first,
the field officer's steps with their offline rules, positions, and who may do what."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from agencies.models import Kecamatan, UnitStatus
from reports import services
from reports.models import Assignment, Event, IdempotentRequest, PersonalDataAccess
from units.models import UnitPosition

from .conftest import JsonClient

SIMPANG_LIMA = (-6.9905, 110.4228)


def client_for(user) -> JsonClient:
    client = JsonClient()
    client.force_login(user)
    return client


@pytest.fixture
def fleet(unit_of):
    """Three Ambulans Hebat units: AMB-01 far (Mijen), AMB-02 near Simpang Lima, AMB-03 with no
    position yet (from its home, Semarang Tengah)."""
    tengah = Kecamatan.objects.get(code="semarang_tengah")
    now = timezone.now()
    return {
        "far": unit_of("ambulans", "AMB-01", latitude=-7.0550, longitude=110.3100,
                       position_at=now - timedelta(seconds=30)),
        "near": unit_of("ambulans", "AMB-02", latitude=-6.9920, longitude=110.4210,
                        position_at=now - timedelta(seconds=12)),
        "home": unit_of("ambulans", "AMB-03", home_kecamatan=tengah),
    }  # fmt: skip


@pytest.fixture
def accident(make_report):
    """A kecelakaan at Simpang Lima: Polrestabes, Ambulans Hebat and Dishub."""
    return make_report(
        category="kecelakaan", address="Simpang Lima", latitude=SIMPANG_LIMA[0],
        longitude=SIMPANG_LIMA[1],
    )  # fmt: skip


@pytest.fixture
def ambulans(staff_of):
    return client_for(staff_of("ambulans"))


def job(report, code="ambulans") -> Assignment:
    return report.assignments.get(agency__code=code)


# --- The closest unit first ---------------------------------------------------------------------


def test_units_are_ranked_available_first_by_estimated_travel_time(accident, fleet, ambulans):
    fleet["near"].status = UnitStatus.OUT_OF_SERVICE
    fleet["near"].save()
    ranked = ambulans.get(f"/api/v1/assignments/{job(accident).pk}/units/").json()
    assert [u["call_sign"] for u in ranked] == ["AMB-03", "AMB-01", "AMB-02"]
    home, far, out = ranked
    assert out["status"] == "out_of_service"  # last, however close
    assert home["from_home"] is True and home["position_age_s"] is None
    assert far["from_home"] is False and 25 <= far["position_age_s"] <= 60
    # haversine × 1.4 at 30 km/h: Mijen → Simpang Lima is ~14 km, 39–40 minutes.
    assert 13_000 < far["distance_m"] < 15_500
    assert far["eta_minutes"] == pytest.approx(far["distance_m"] * 1.4 / 500, abs=1)
    assert set(home) == {"id", "call_sign", "kind", "status", "distance_m", "eta_minutes",
                         "position_age_s", "from_home"}  # fmt: skip


def test_another_agencys_assignment_has_no_unit_list(accident, fleet, staff_of):
    damkar = client_for(staff_of("damkar"))
    assert damkar.get(f"/api/v1/assignments/{job(accident).pk}/units/").status_code == 404


# --- Dispatch names a unit -------------------------------------------------------------------


def test_dispatch_sends_the_unit_with_the_estimated_eta_and_berangkat_starts_it(
    accident, fleet, ambulans
):
    answer = ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "amb-02"})
    assert answer.status_code == 200, answer.json()
    data = answer.json()
    assert data["unit"] == "AMB-02" and data["unit_id"] == fleet["near"].pk
    assert data["status"] == "dispatched" and 1 <= data["eta_minutes"] <= 3
    fleet["near"].refresh_from_db()
    # Sent, not yet moving (issue 37 §7): en route only once the crew taps Berangkat.
    assert fleet["near"].status == UnitStatus.DISPATCHED
    assert Event.objects.filter(unit=fleet["near"], kind="unit.updated",
                                data__status="dispatched").count() == 1  # fmt: skip
    departed = ambulans.post(f"/api/v1/assignments/{job(accident).pk}/depart/", {})
    assert departed.status_code == 200, departed.json()
    fleet["near"].refresh_from_db()
    assert fleet["near"].status == UnitStatus.EN_ROUTE
    assert Event.objects.filter(unit=fleet["near"], kind="unit.updated",
                                data__status="en_route").count() == 1  # fmt: skip


def test_an_unknown_call_sign_is_refused_with_the_available_units(
    accident, fleet, ambulans, unit_of
):
    unit_of("damkar", "DMK-01")
    before = Event.objects.count()
    for call_sign in ("AMB-99", "DMK-01", ""):  # DMK-01 is Damkar's, not Ambulans Hebat's
        answer = ambulans.post(
            f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": call_sign}
        )
        assert answer.status_code == 400
        assert answer.json()["available_units"] == ["AMB-01", "AMB-02", "AMB-03"]
        assert "AMB-01, AMB-02, AMB-03" in answer.json()["unit"][0]
    assert Event.objects.count() == before
    assert job(accident).status == "notified"


def test_a_busy_unit_is_409_unless_diverted_and_then_leaves_its_assignment(
    make_report, accident, fleet, ambulans
):
    first = make_report(category="darurat_medis", address="Jl. Pandanaran")
    ambulans.post(f"/api/v1/assignments/{job(first).pk}/dispatch/", {"unit": "AMB-02"})
    url = f"/api/v1/assignments/{job(accident).pk}/dispatch/"
    busy = ambulans.post(url, {"unit": "AMB-02", "eta_minutes": 4})
    assert busy.status_code == 409
    assert first.number in busy.json()["detail"] and "divert" in busy.json()["detail"]
    diverted = ambulans.post(url, {"unit": "AMB-02", "eta_minutes": 4, "divert": True})
    assert diverted.status_code == 200
    left_behind = job(first)
    assert left_behind.status == "acknowledged" and left_behind.unit_ref is None
    assert left_behind.dispatched_at is None and left_behind.eta_minutes is None
    event = Event.objects.get(assignment=left_behind, kind="assignment.unit_diverted")
    assert event.data == {
        "status": "acknowledged", "unit": "AMB-02", "to_report": accident.number,
        "to_assignment": job(accident).pk,
    }  # fmt: skip
    assert Event.objects.filter(assignment=job(accident), kind="assignment.dispatched").exists()
    assert Assignment.objects.filter(unit_ref=fleet["near"], status="dispatched").count() == 1


def test_the_unit_follows_its_assignment_to_the_end(accident, fleet, ambulans, operator):
    unit = fleet["near"]
    url = f"/api/v1/assignments/{job(accident).pk}"
    ambulans.post(f"{url}/dispatch/", {"unit": "AMB-02"})
    ambulans.post(f"{url}/arrive/", {})
    unit.refresh_from_db()
    assert unit.status == UnitStatus.ON_SCENE
    ambulans.post(f"{url}/resolve/", {"note": "Korban dibawa ke RS"})
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE
    # Cancelled by the command centre (the report closed) frees the unit as well.
    second = services.report_create(
        operator=operator, caller_phone="081234567890", category="darurat_medis",
        description="Sesak napas", address="Jl. Pemuda", kecamatan="semarang_tengah",
    )  # fmt: skip
    ambulans.post(f"/api/v1/assignments/{job(second).pk}/dispatch/", {"unit": "AMB-02"})
    services.report_close(actor=operator, report=second, reason="non_emergency")
    unit.refresh_from_db()
    assert unit.status == UnitStatus.AVAILABLE


def test_an_agency_without_units_keeps_free_text(accident, fleet, staff_of):
    dishub = client_for(staff_of("dishub"))
    url = f"/api/v1/assignments/{job(accident, 'dishub').pk}/dispatch/"
    assert dishub.post(url, {"unit": "Derek 2"}).status_code == 400  # the ETA is still needed
    answer = dishub.post(url, {"unit": "Derek 2", "eta_minutes": 10})
    assert answer.status_code == 200
    assert answer.json()["unit"] == "Derek 2" and answer.json()["unit_id"] is None


def test_a_busy_unit_cannot_be_set_out_of_service(accident, fleet, ambulans):
    ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "AMB-02"})
    answer = ambulans.post(
        f"/api/v1/units/{fleet['near'].pk}/status/", {"status": "out_of_service"}
    )
    assert answer.status_code == 409
    answer = ambulans.post(f"/api/v1/units/{fleet['far'].pk}/status/", {"status": "on_scene"})
    assert answer.status_code == 400  # only available / out of service by hand


# --- The field officer ------------------------------------------------------------------------


@pytest.fixture
def crew(fleet, field_officer_of):
    """AMB-02's field officer (signed on) and AMB-01's."""
    return {
        "near": client_for(field_officer_of("ambulans", unit=fleet["near"])),
        "far": client_for(field_officer_of("ambulans", unit=fleet["far"])),
    }


def test_a_field_officer_sees_only_their_units_assignment_masked(accident, fleet, ambulans, crew):
    near, far = crew["near"], crew["far"]
    assert near.get(f"/api/v1/reports/{accident.pk}/").status_code == 404  # not sent yet
    ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "AMB-02"})
    listed = near.get("/api/v1/reports/").json()["results"]
    assert [r["number"] for r in listed] == [accident.number]
    assert "*" in listed[0]["caller_phone"]
    detail = near.get(f"/api/v1/reports/{accident.pk}/").json()
    assert detail["caller_phone"] == "+6281234567890"
    assert PersonalDataAccess.objects.filter(report=accident).count() == 1  # the reveal is logged
    # AMB-01's officer: another unit's assignment is not theirs at all.
    assert far.get(f"/api/v1/reports/{accident.pk}/").status_code == 404
    assert far.post(f"/api/v1/assignments/{job(accident).pk}/arrive/", {}).status_code == 404
    assert far.post(f"/api/v1/units/{fleet['near'].pk}/position/",
                    {"latitude": -6.99, "longitude": 110.42}).status_code == 403  # fmt: skip
    # And no desk step: a field officer cannot reject or acknowledge.
    assert near.post(f"/api/v1/assignments/{job(accident).pk}/reject/",
                     {"reason": "x"}).status_code == 403  # fmt: skip


def test_sign_on_and_off(fleet, field_officer_of, unit_of):
    officer = field_officer_of("ambulans")
    phone = client_for(officer)
    assert phone.post(f"/api/v1/units/{fleet['home'].pk}/sign-on/", {}).status_code == 200
    officer.agency_membership.refresh_from_db()
    assert officer.agency_membership.unit == fleet["home"]
    damkar_unit = unit_of("damkar", "DMK-01")
    assert phone.post(f"/api/v1/units/{damkar_unit.pk}/sign-on/", {}).status_code == 404
    assert phone.post(f"/api/v1/units/{fleet['far'].pk}/sign-off/", {}).status_code == 409
    assert phone.post(f"/api/v1/units/{fleet['home'].pk}/sign-off/", {}).status_code == 200
    officer.agency_membership.refresh_from_db()
    assert officer.agency_membership.unit is None
    reasons = list(Event.objects.filter(unit=fleet["home"]).values_list("data__reason", flat=True))
    assert reasons == ["signed_on", "signed_off"]


def test_a_queued_arrival_keeps_its_tapped_time_and_is_marked_late(accident, fleet, ambulans, crew):
    ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "AMB-02"})
    dispatched = job(accident).dispatched_at
    tapped = dispatched + timedelta(seconds=1)  # "queued" offline; synced minutes later
    with_time = {"occurred_at": tapped.isoformat(), "latitude": -6.9906, "longitude": 110.4229,
                 "accuracy_m": 8}  # fmt: skip
    real_now = timezone.now
    later = real_now() + timedelta(minutes=5)
    try:
        timezone.now = lambda: later  # the phone came back online five minutes later
        answer = crew["near"].post(f"/api/v1/assignments/{job(accident).pk}/arrive/", with_time)
    finally:
        timezone.now = real_now
    assert answer.status_code == 200, answer.json()
    arrived = job(accident)
    assert arrived.arrived_at == tapped  # the response time ends at the tap
    assert arrived.arrival_synced_late is True
    assert 10 <= arrived.arrival_distance_m <= 20
    assert (arrived.arrival_latitude, arrived.arrival_accuracy_m) == (-6.9906, 8)
    event = Event.objects.get(assignment=arrived, kind="assignment.arrived")
    assert event.data["late_sync"] is True
    assert event.data["occurred_at"] == tapped.astimezone(UTC).isoformat()
    assert event.data["received_at"] == later.astimezone(UTC).isoformat()  # both times kept
    assert event.data["arrival_distance_m"] == arrived.arrival_distance_m


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(timedelta(minutes=5), "in_future"), (-timedelta(hours=1), "before_previous_step")],
)
def test_an_occurred_at_out_of_bounds_is_replaced_by_the_receipt_time(
    accident, fleet, ambulans, crew, offset, reason
):
    ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "AMB-02"})
    claimed = timezone.now() + offset
    before = timezone.now()
    answer = crew["near"].post(
        f"/api/v1/assignments/{job(accident).pk}/arrive/", {"occurred_at": claimed.isoformat()}
    )
    assert answer.status_code == 200
    arrived = job(accident)
    assert before <= arrived.arrived_at <= timezone.now()  # not lost, not the bad time
    assert arrived.arrival_synced_late is False
    event = Event.objects.get(assignment=arrived, kind="assignment.arrived")
    assert event.data["occurred_at_ignored"] == reason
    assert event.data["occurred_at"] == claimed.astimezone(UTC).isoformat()


def test_a_replayed_idempotency_key_returns_the_first_answer_and_writes_nothing(
    accident, fleet, ambulans, crew
):
    ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "AMB-02"})
    url = f"/api/v1/assignments/{job(accident).pk}/arrive/"
    key = {"headers": {"Idempotency-Key": "3f1c0a9e-tap"}}
    first = crew["near"].post(url, {"occurred_at": timezone.now().isoformat()}, **key)
    events = Event.objects.count()
    again = crew["near"].post(url, {"occurred_at": timezone.now().isoformat()}, **key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == events
    assert IdempotentRequest.objects.count() == 1
    # Without the key the same tap is a step that is no longer allowed.
    assert crew["near"].post(url, {}).status_code == 409
    # A key is the user's: the same key on another path is a client error, not a replay.
    other = crew["near"].post(
        f"/api/v1/units/{fleet['near'].pk}/status/", {"status": "available"}, **key
    )
    assert other.status_code == 400 and "Idempotency-Key" in other.json()


def test_a_refused_step_stores_no_answer(accident, fleet, crew):
    url = f"/api/v1/assignments/{job(accident).pk}/arrive/"
    refused = crew["near"].post(url, {}, headers={"Idempotency-Key": "k1"})
    assert refused.status_code == 404  # not dispatched to AMB-02: not its assignment
    assert not IdempotentRequest.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"latitude": 91, "longitude": 110.4},
        {"latitude": -6.99},
        {"latitude": "x", "longitude": 110.4},
        {"latitude": -6.99, "longitude": 110.4, "accuracy_m": -1},
        {"latitude": -6.99, "longitude": 181},
        {"latitude": -6.99, "longitude": 110.4, "recorded_at": "2999-01-01T00:00:00Z"},
        {"latitude": -6.99, "longitude": 110.4, "recorded_at": "kemarin"},
    ],
)
def test_bad_positions_are_400_and_store_nothing(fleet, crew, body):
    unit = fleet["near"]
    answer = crew["near"].post(f"/api/v1/units/{unit.pk}/position/", body)
    assert answer.status_code == 400, answer.content
    assert not UnitPosition.objects.exists()
    unit.refresh_from_db()
    assert unit.latitude == -6.9920  # unchanged


def test_bad_arrival_coordinates_are_400_and_the_step_is_not_taken(accident, fleet, ambulans, crew):
    ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "AMB-02"})
    answer = crew["near"].post(
        f"/api/v1/assignments/{job(accident).pk}/arrive/", {"latitude": 95, "longitude": 110}
    )
    assert answer.status_code == 400 and "latitude" in answer.json()
    assert job(accident).status == "dispatched"


def test_a_position_moves_the_unit_and_an_older_one_only_joins_the_track(fleet, crew):
    unit, phone = fleet["near"], crew["near"]
    now = timezone.now()
    fix = {"latitude": -6.98, "longitude": 110.41, "accuracy_m": 5, "recorded_at": now.isoformat()}
    assert phone.post(f"/api/v1/units/{unit.pk}/position/", fix).status_code == 204
    old = {**fix, "latitude": -7.0, "recorded_at": (now - timedelta(minutes=1)).isoformat()}
    assert phone.post(f"/api/v1/units/{unit.pk}/position/", old).status_code == 204
    unit.refresh_from_db()
    assert (unit.latitude, unit.longitude, unit.position_at) == (-6.98, 110.41, now)
    assert UnitPosition.objects.filter(unit=unit).count() == 2


def test_tracks_are_pruned_after_the_retention(fleet, settings):
    from units.services import prune_tracks

    settings.DISPATCH_TRACK_DAYS = 7
    now = timezone.now()
    for days in (1, 6, 8, 30):
        UnitPosition.objects.create(unit=fleet["near"], latitude=-6.99, longitude=110.42,
                                    recorded_at=now - timedelta(days=days))  # fmt: skip
    assert prune_tracks(now=now) == 2
    assert UnitPosition.objects.count() == 2


# --- The agency manages its units ---------------------------------------------------------------


def test_staff_add_and_change_their_own_units_only(fleet, ambulans, staff_of, field_officer_of):
    created = ambulans.post("/api/v1/units/", {"call_sign": "amb-07", "kind": "ambulance",
                                               "home_kecamatan": "tembalang"})  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["call_sign"] == "AMB-07" and created.json()["agency"] == "ambulans"
    duplicate = ambulans.post("/api/v1/units/", {"call_sign": "AMB-07", "kind": "ambulance"})
    assert duplicate.status_code == 400 and "call_sign" in duplicate.json()
    bad = ambulans.post("/api/v1/units/", {"call_sign": "AMB 7!", "kind": "spaceship"})
    assert bad.status_code == 400 and {"call_sign", "kind"} <= set(bad.json())
    unit_id = created.json()["id"]
    officer = field_officer_of("ambulans")
    assert client_for(officer).post(f"/api/v1/units/{unit_id}/sign-on/", {}).status_code == 200
    retired = ambulans.patch(f"/api/v1/units/{unit_id}/", {"active": False})
    assert retired.status_code == 200 and retired.json()["active"] is False
    officer.agency_membership.refresh_from_db()
    assert officer.agency_membership.unit is None  # its crew is signed off
    assert client_for(officer).post(f"/api/v1/units/{unit_id}/sign-on/", {}).status_code == 403
    damkar = client_for(staff_of("damkar"))
    assert damkar.patch(f"/api/v1/units/{unit_id}/", {"active": True}).status_code == 404


def test_response_time_counts_the_field_arrival(accident, fleet, ambulans, crew, supervisor):
    ambulans.post(f"/api/v1/assignments/{job(accident).pk}/dispatch/", {"unit": "AMB-02"})
    tapped = job(accident).dispatched_at + timedelta(seconds=3)
    crew["near"].post(f"/api/v1/assignments/{job(accident).pk}/arrive/",
                      {"occurred_at": tapped.isoformat()})  # fmt: skip
    day = timezone.localdate().isoformat()
    rows = client_for(supervisor).get(f"/api/v1/stats/agencies/?since={day}&until={day}").json()
    row = next(r for r in rows if r["agency"] == "ambulans")
    expected = (tapped - accident.received_at).total_seconds()
    assert row["arrived"] == 1
    assert row["response_seconds_median"] == pytest.approx(expected, abs=0.05)  # 0.1 s shown
