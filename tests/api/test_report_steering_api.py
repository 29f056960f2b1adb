"""The operator steers an open report through the API (SPEC §11): PATCH a report, add an
agency, cancel one with a reason, read the timeline, and the agency queue's order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import services
from reports.models import Assignment, Event

from .helpers import expect

OPERATORS_ONLY = expect(
    {
        "anonymous": 401,
        "inactive": 401,
        "no_role": 403,
        "operator": 200,
        "supervisor": 403,
        "assigned_staff": 403,
        "other_staff": 404,
    }
)


@pytest.fixture
def report(make_report):
    return make_report(category="kemacetan", priority=3)  # dishub, polrestabes


def test_an_operator_patches_a_report_and_gets_it_back(api, report):
    response = api.patch(
        f"/api/v1/reports/{report.pk}/",
        {"priority": 1, "address": "Jl. Pahlawan No. 5", "kecamatan": "candisari"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["priority"], body["address"], body["kecamatan"]) == (
        1, "Jl. Pahlawan No. 5", "candisari",
    )  # fmt: skip
    event = Event.objects.get(report=report, kind="report.edited")
    assert event.data["fields"] == ["address", "kecamatan", "priority"]


@pytest.mark.parametrize(("role", "status"), OPERATORS_ONLY)
def test_only_operators_patch(client_as, report, role, status):
    response = client_as(role).patch(f"/api/v1/reports/{report.pk}/", {"priority": 1})
    assert response.status_code == status


def test_a_bad_patch_is_a_400_naming_the_fields(api, report):
    response = api.patch(
        f"/api/v1/reports/{report.pk}/", {"priority": 9, "description": "a\x00b", "latitude": 1}
    )
    assert response.status_code == 400
    assert {"priority", "description"} <= set(response.json())
    assert not Event.objects.filter(kind="report.edited").exists()


def test_patching_a_closed_report_is_a_409(api, report, operator):
    services.report_close(actor=operator, report=report, reason="resolved")
    response = api.patch(f"/api/v1/reports/{report.pk}/", {"priority": 1})
    assert response.status_code == 409


def test_an_operator_adds_an_agency(api, report, staff_of):
    services.assignment_reject(
        assignment=report.assignments.get(agency__code="polrestabes"),
        actor=staff_of("polrestabes"),
        reason="Bukan wewenang",
    )
    response = api.post(
        f"/api/v1/reports/{report.pk}/assignments/", {"agency": "satpolpp", "note": "PKL"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["agency"], body["status"], body["report"]) == ("satpolpp", "notified", report.pk)
    assert body["notified_at"]


@pytest.mark.parametrize(("role", "status"), OPERATORS_ONLY)
def test_only_operators_add_agencies(client_as, report, role, status):
    response = client_as(role).post(
        f"/api/v1/reports/{report.pk}/assignments/", {"agency": "satpolpp"}
    )
    assert response.status_code == (201 if status == 200 else status)


def test_an_agency_already_active_is_a_409_in_indonesian(api, report):
    response = api.post(f"/api/v1/reports/{report.pk}/assignments/", {"agency": "dishub"})
    assert response.status_code == 409
    assert response.json()["detail"] == "Dishub sudah menangani laporan ini (diberitahukan)."
    english = api.post(
        f"/api/v1/reports/{report.pk}/assignments/", {"agency": "dishub"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert english.json()["detail"] == "Dishub is already on this report (notified)."


def test_an_unknown_agency_is_a_400(api, report):
    response = api.post(f"/api/v1/reports/{report.pk}/assignments/", {"agency": "atlantis"})
    assert response.status_code == 400
    assert "agency" in response.json()


def test_an_operator_cancels_an_assignment_with_a_reason(api, report):
    assignment = report.assignments.get(agency__code="dishub")
    url = f"/api/v1/assignments/{assignment.pk}/cancel/"
    assert api.post(url, {}).status_code == 400
    response = api.post(url, {"reason": "Sudah terurai"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_reason"]) == (
        "cancelled", "Sudah terurai",
    )  # fmt: skip


def test_agency_staff_cannot_cancel(client_as, report):
    assignment = report.assignments.get(agency__code="dishub")
    response = client_as("assigned_staff").post(
        f"/api/v1/assignments/{assignment.pk}/cancel/", {"reason": "x"}
    )
    assert response.status_code == 403
    assert (
        client_as("other_staff")
        .post(f"/api/v1/assignments/{assignment.pk}/cancel/", {"reason": "x"})
        .status_code
        == 404
    )


def test_the_timeline_is_oldest_first_with_who(api, report, operator, staff_of):
    dishub = staff_of("dishub")
    services.assignment_acknowledge(
        assignment=report.assignments.get(agency__code="dishub"), actor=dishub
    )
    services.report_edit(actor=operator, report=report, priority=1)
    body = api.get(f"/api/v1/reports/{report.pk}/events/").json()
    kinds = [e["kind"] for e in body]
    assert kinds == [
        "report.created", "assignment.created", "assignment.created",
        "assignment.acknowledged", "report.edited",
    ]  # fmt: skip
    ack = body[3]
    assert (ack["actor"], ack["agency"]) == (dishub.username, "dishub")
    assert [e["id"] for e in body] == sorted(e["id"] for e in body)


def test_the_timeline_follows_who_may_see_the_report(client_as, report):
    url = f"/api/v1/reports/{report.pk}/events/"
    assert client_as("assigned_staff").get(url).status_code == 200
    assert client_as("other_staff").get(url).status_code == 404
    assert client_as("anonymous").get(url).status_code == 401


def test_the_timeline_never_carries_the_caller(client_as, report):
    text = client_as("assigned_staff").get(f"/api/v1/reports/{report.pk}/events/").content
    assert report.caller_phone.encode() not in text
    assert b"Budi" not in text


def test_an_agency_that_left_sees_only_its_leaving(client_for, report, staff_of):
    police = staff_of("polrestabes")
    services.assignment_reject(
        assignment=report.assignments.get(agency__code="polrestabes"), actor=police,
        reason="Bukan",
    )  # fmt: skip
    body = client_for(police).get(f"/api/v1/reports/{report.pk}/events/").json()
    assert [e["kind"] for e in body] == ["assignment.rejected"]


def test_the_agency_queue_is_waiting_first_then_priority_then_oldest(
    make_report, client_for, staff_of
):
    dishub = staff_of("dishub")
    old_p3 = make_report(category="kemacetan", priority=3)
    new_p1 = make_report(category="kemacetan", priority=1)
    under_way_p1 = make_report(category="kemacetan", priority=1)
    second_p3 = make_report(category="kemacetan", priority=3)
    services.assignment_acknowledge(
        assignment=under_way_p1.assignments.get(agency__code="dishub"), actor=dishub
    )
    # The P3 jam waited long; the P1 came later: the P1 is still first.
    Assignment.objects.filter(report=old_p3).update(notified_at=timezone.now() - timedelta(hours=1))
    rows = client_for(dishub).get("/api/v1/assignments/").json()["results"]
    assert [r["report"] for r in rows] == [new_p1.pk, old_p3.pk, second_p3.pk, under_way_p1.pk]
