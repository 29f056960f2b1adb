"""Assignments (SPEC §4): the per-agency state machine. Agency staff list and act on their own
agency's assignments (others: 404); an operator may record a step on an agency's behalf;
supervisors only read. A transition not allowed from the current state is a 409."""

import pytest

from reports import services
from reports.models import Assignment, Event

from .helpers import ASSIGNED_AGENCY, counts, expect

URL = "/api/v1/assignments/"
ACTIONS = ["acknowledge", "dispatch", "arrive", "resolve", "reject"]
INPUT = {
    "acknowledge": {},
    "dispatch": {"eta_minutes": 7, "unit": "DISHUB-02"},
    "arrive": {},
    "resolve": {"note": "Lalu lintas lancar kembali"},
    "reject": {"reason": "Bukan wewenang kami"},
}
# The state each action needs, reached through the service by the staff of the agency.
PATH_TO = {
    "acknowledge": [],
    "dispatch": ["acknowledge"],
    "arrive": ["dispatch"],
    "resolve": ["dispatch", "arrive"],
    "reject": [],
}
RESULT = {
    "acknowledge": ("acknowledged", "acknowledged_at"),
    "dispatch": ("dispatched", "dispatched_at"),
    "arrive": ("on_scene", "arrived_at"),
    "resolve": ("resolved", "resolved_at"),
    "reject": ("rejected", "rejected_at"),
}


def act_url(assignment, action):
    return f"{URL}{assignment.pk}/{action}/"


def advance(assignment, steps, actor):
    for step in steps:
        fields = {"dispatch": {"eta_minutes": 5}}.get(step, {})
        getattr(services, f"assignment_{step}")(assignment=assignment, actor=actor, **fields)
    assignment.refresh_from_db()
    return assignment


@pytest.fixture
def assignment(make_report):
    """The dishub assignment of a traffic jam (dishub, polrestabes), just notified."""
    return make_report().assignments.get(agency__code=ASSIGNED_AGENCY)


# --- Listing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "agencies"),
    [
        ("anonymous", 401, None),
        ("inactive", 401, None),
        ("no_role", 403, None),
        ("operator", 200, ["damkar", "dishub", "polrestabes"]),
        ("supervisor", 200, ["damkar", "dishub", "polrestabes"]),
        ("assigned_staff", 200, ["dishub"]),
        ("other_staff", 200, ["damkar"]),
    ],
)
def test_each_role_lists_the_assignments_it_may_see(client_as, make_report, role, status, agencies):
    make_report(category="kemacetan")
    make_report(category="kebakaran")
    response = client_as(role).get(URL)
    assert response.status_code == status
    if agencies is not None:
        body = response.json()
        assert sorted(a["agency"] for a in body["results"]) == agencies
        assert body["count"] == len(agencies)


@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 200,
            "supervisor": 200,
            "assigned_staff": 200,
            "other_staff": 404,
        }
    ),
)
def test_each_role_reads_an_assignment(client_as, assignment, role, status):
    response = client_as(role).get(f"{URL}{assignment.pk}/")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["id"], body["agency"], body["status"]) == (assignment.pk, "dishub", "notified")
        assert body["report"] == assignment.report_id
        assert body["report_number"] == assignment.report.number


def test_staff_do_not_see_other_agencies_assignments_on_their_own_report(client_as, assignment):
    police = assignment.report.assignments.get(agency__code="polrestabes")
    assert client_as("assigned_staff").get(f"{URL}{police.pk}/").status_code == 404


def test_assignments_are_filtered_by_status(client_as, make_report, users):
    jam = make_report()
    second = make_report()
    staff = users["assigned_staff"]
    advance(jam.assignments.get(agency__code="dishub"), ["acknowledge"], staff)
    advance(second.assignments.get(agency__code="dishub"), ["dispatch"], staff)
    client = client_as("assigned_staff")

    def statuses(query):
        response = client.get(URL, query)
        assert response.status_code == 200
        return sorted(a["status"] for a in response.json()["results"])

    assert statuses({"status": "acknowledged"}) == ["acknowledged"]
    assert statuses({"status": ["acknowledged", "dispatched"]}) == ["acknowledged", "dispatched"]
    assert statuses({"status": "notified"}) == []  # polrestabes' are not theirs
    operator = client_as("operator")
    notified = operator.get(URL, {"status": "notified"}).json()["results"]
    assert sorted(a["agency"] for a in notified) == ["polrestabes", "polrestabes"]


@pytest.mark.parametrize("query", [{"status": "nope"}, {"report": "x"}])
def test_invalid_assignment_filters_are_a_400(api, city, query):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())


# --- Acting -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 200,  # on the agency's behalf
            "supervisor": 403,
            "assigned_staff": 200,
            "other_staff": 404,
        }
    ),
)
def test_each_role_acts_on_an_assignment(client_as, users, assignment, action, role, status):
    advance(assignment, PATH_TO[action], users["assigned_staff"])
    before_status = assignment.status
    before = counts()
    response = client_as(role).post(act_url(assignment, action), INPUT[action])
    assert response.status_code == status, response.content
    assignment.refresh_from_db()
    if status == 200:
        target, stamp = RESULT[action]
        body = response.json()
        assert (body["id"], body["agency"], body["status"]) == (assignment.pk, "dishub", target)
        assert body[stamp] is not None
        assert assignment.status == target
        assert getattr(assignment, stamp.replace("_at", "_by")) == users[role]
        event = Event.objects.latest("id")
        assert (event.assignment, event.actor) == (assignment, users[role])
    else:
        assert "detail" in response.json()
        assert assignment.status == before_status
        assert counts() == before


def test_dispatch_records_the_unit_and_eta_and_acknowledges(client_as, assignment):
    response = client_as("assigned_staff").post(
        act_url(assignment, "dispatch"), {"eta_minutes": 12, "unit": "DISHUB-07"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["eta_minutes"], body["unit"]) == ("dispatched", 12, "DISHUB-07")
    assert body["acknowledged_at"] == body["dispatched_at"]


def test_the_whole_path_through_the_api(client_as, assignment):
    client = client_as("assigned_staff")
    for action in ["acknowledge", "dispatch", "arrive", "resolve"]:
        response = client.post(act_url(assignment, action), INPUT[action])
        assert response.status_code == 200, action
    body = response.json()
    assert body["status"] == "resolved"
    assert body["resolution_note"] == "Lalu lintas lancar kembali"
    assert all(body[f] for f in ("acknowledged_at", "dispatched_at", "arrived_at", "resolved_at"))


def test_reject_keeps_the_reason(client_as, assignment):
    response = client_as("assigned_staff").post(
        act_url(assignment, "reject"), {"reason": "  Di luar wilayah  "}
    )
    assert response.status_code == 200
    assert response.json()["reject_reason"] == "Di luar wilayah"


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        (["acknowledge"], "acknowledge"),
        ([], "arrive"),
        ([], "resolve"),
        (["acknowledge"], "resolve"),
        (["dispatch"], "dispatch"),
        (["dispatch"], "reject"),
        (["dispatch", "arrive"], "acknowledge"),
        (["dispatch", "arrive", "resolve"], "resolve"),
        (["dispatch", "arrive", "resolve"], "reject"),
        (["reject"], "acknowledge"),
        (["reject"], "dispatch"),
    ],
)
def test_a_transition_not_allowed_is_a_409(client_as, users, assignment, steps, action):
    staff = users["assigned_staff"]
    for step in steps:
        fields = {"reject": {"reason": "Bukan wewenang"}, "dispatch": {"eta_minutes": 5}}
        getattr(services, f"assignment_{step}")(
            assignment=assignment, actor=staff, **fields.get(step, {})
        )
    assignment.refresh_from_db()
    before_status = assignment.status
    before = counts()
    response = client_as("assigned_staff").post(act_url(assignment, action), INPUT[action])
    assert response.status_code == 409
    body = response.json()
    assert body["detail"]
    assert body["code"] == "transition_not_allowed"
    assignment.refresh_from_db()
    assert assignment.status == before_status
    assert counts() == before


def test_the_409_says_why_in_the_users_language(client_as, users, assignment):
    advance(assignment, ["acknowledge"], users["assigned_staff"])
    client = client_as("assigned_staff")
    indonesian = client.post(act_url(assignment, "acknowledge")).json()["detail"]
    english = client.post(act_url(assignment, "acknowledge"), HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["detail"] == "Cannot acknowledge: the assignment is acknowledged."
    assert indonesian != english["detail"]


def test_acting_on_a_cancelled_assignment_is_a_409(client_as, assignment, operator):
    services.report_close(actor=operator, report=assignment.report, reason="prank")
    response = client_as("assigned_staff").post(act_url(assignment, "acknowledge"))
    assert response.status_code == 409
    assignment.refresh_from_db()
    assert assignment.status == "cancelled"


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("dispatch", {}, "eta_minutes"),
        ("dispatch", {"unit": "DISHUB-02"}, "eta_minutes"),
        ("dispatch", {"eta_minutes": None}, "eta_minutes"),
        ("dispatch", {"eta_minutes": "soon"}, "eta_minutes"),
        ("dispatch", {"eta_minutes": -1}, "eta_minutes"),
        ("dispatch", {"eta_minutes": 1441}, "eta_minutes"),
        ("dispatch", {"eta_minutes": 2.5}, "eta_minutes"),
        ("dispatch", {"eta_minutes": True}, "eta_minutes"),
        ("dispatch", {"eta_minutes": 5, "unit": "u" * 81}, "unit"),
        ("dispatch", {"eta_minutes": 5, "unit": "A\x00"}, "unit"),
        ("reject", {}, "reason"),
        ("reject", {"reason": ""}, "reason"),
        ("reject", {"reason": "   "}, "reason"),
        ("reject", {"reason": None}, "reason"),
        ("reject", {"reason": "\ud800"}, "reason"),
        ("reject", {"reason": "r" * 2001}, "reason"),
        ("resolve", {"note": "n" * 2001}, "note"),
    ],
)
def test_invalid_action_input_is_a_400_and_changes_nothing(
    client_as, users, assignment, action, payload, field
):
    advance(assignment, PATH_TO[action], users["assigned_staff"])
    before_status = assignment.status
    before = counts()
    response = client_as("assigned_staff").post(act_url(assignment, action), payload)
    assert response.status_code == 400
    assert field in response.json()
    assignment.refresh_from_db()
    assert assignment.status == before_status
    assert counts() == before


def test_a_missing_assignment_is_a_404(api, city):
    assert api.post(f"{URL}999999/acknowledge/").status_code == 404
    assert api.post(f"{URL}abc/acknowledge/").status_code == 404


def test_actions_only_accept_post(client_as, assignment):
    client = client_as("assigned_staff")
    assert client.get(act_url(assignment, "acknowledge")).status_code == 405
    assert client.put(f"{URL}{assignment.pk}/", {"status": "resolved"}).status_code == 405
    assert client.delete(f"{URL}{assignment.pk}/").status_code == 405
    assert Assignment.objects.get(pk=assignment.pk).status == "notified"
