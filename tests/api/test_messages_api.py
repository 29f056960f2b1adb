"""Messages (SPEC §4): the chat on a report, for the report's agencies, operators and
supervisors. Staff of an agency not on the report get 404."""

import pytest

from reports import services
from reports.models import Event, Message

from .helpers import counts, expect

ACCESS = expect(
    {
        "anonymous": 401,
        "inactive": 401,
        "no_role": 403,
        "operator": 200,
        "supervisor": 200,
        "assigned_staff": 200,
        "other_staff": 404,
    }
)
AUTHOR_AGENCY = {"operator": None, "supervisor": None, "assigned_staff": "dishub"}


def url(report) -> str:
    return f"/api/v1/reports/{report.pk}/messages/"


@pytest.fixture
def report(make_report, operator):
    report = make_report()  # dishub, polrestabes
    services.message_post(author=operator, report=report, body="Mohon segera ke lokasi")
    return report


@pytest.mark.parametrize(("role", "status"), ACCESS)
def test_each_role_reads_the_chat(client_as, report, operator, role, status):
    response = client_as(role).get(url(report))
    assert response.status_code == status
    if status == 200:
        [message] = response.json()  # unpaginated
        assert message["body"] == "Mohon segera ke lokasi"
        assert (message["author"], message["author_agency"]) == (operator.username, None)
        assert message["report"] == report.pk
        assert message["created_at"]
    else:
        assert "detail" in response.json()


@pytest.mark.parametrize(("role", "status"), ACCESS)
def test_each_role_writes_in_the_chat(client_as, users, report, role, status):
    status = 201 if status == 200 else status
    before = counts()
    response = client_as(role).post(url(report), {"body": "  Unit menuju lokasi  "})
    assert response.status_code == status
    if status == 201:
        body = response.json()
        message = Message.objects.get(pk=body["id"])
        assert body["body"] == message.body == "Unit menuju lokasi"
        assert body["author"] == users[role].username
        assert body["author_agency"] == AUTHOR_AGENCY[role]
        assert message.author == users[role]
        assert body["report"] == report.pk
        event = Event.objects.latest("id")
        assert (event.kind, event.data, event.actor) == (
            "message.created",
            {"message": message.pk},
            users[role],
        )
    else:
        assert counts() == before


def test_staff_of_every_agency_on_the_report_can_chat(client_for, staff_of, report):
    police = client_for(staff_of("polrestabes"))
    response = police.post(url(report), {"body": "Polisi sudah di lokasi"})
    assert response.status_code == 201
    assert response.json()["author_agency"] == "polrestabes"
    bodies = [m["body"] for m in police.get(url(report)).json()]
    assert bodies == ["Mohon segera ke lokasi", "Polisi sudah di lokasi"]


def test_staff_get_the_same_404_for_hidden_and_missing_reports(client_as, report):
    client = client_as("other_staff")
    hidden = client.post(url(report), {"body": "Halo"})
    missing = client.post(f"/api/v1/reports/{report.pk + 1000}/messages/", {"body": "Halo"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_the_chat_stays_readable_after_closing_for_an_agency_that_did_its_job(
    client_as, users, report, operator
):
    assignment = report.assignments.get(agency__code="dishub")
    staff = users["assigned_staff"]
    services.assignment_dispatch(assignment=assignment, actor=staff, eta_minutes=5)
    services.assignment_arrive(assignment=assignment, actor=staff)
    services.assignment_resolve(assignment=assignment, actor=staff)
    services.report_close(actor=operator, report=report, reason="resolved")
    response = client_as("assigned_staff").get(url(report))
    assert response.status_code == 200
    assert len(response.json()) == 1


def test_closing_cancels_an_open_assignment_and_with_it_the_chat(client_as, report, operator):
    services.report_close(actor=operator, report=report, reason="prank")
    response = client_as("assigned_staff").get(url(report))
    assert response.status_code == 403
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"body": ""},
        {"body": "   "},
        {"body": None},
        {"body": "x" * 2001},
        {"body": "a\x00"},
        {"body": "a\ud800"},
    ],
)
def test_an_empty_or_invalid_body_is_a_400(client_as, report, payload):
    before = counts()
    response = client_as("assigned_staff").post(url(report), payload)
    assert response.status_code == 400
    assert response.json()["body"]
    assert counts() == before


def test_author_fields_cannot_be_forged(client_as, report, users):
    response = client_as("assigned_staff").post(
        url(report),
        {"body": "Halo", "author": "someone", "author_agency": "damkar", "report": report.pk + 1},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["author"], body["author_agency"], body["report"]) == (
        users["assigned_staff"].username,
        "dishub",
        report.pk,
    )


def test_messages_of_a_missing_report_are_a_404(api, city):
    assert api.get("/api/v1/reports/999999/messages/").status_code == 404
    assert api.post("/api/v1/reports/999999/messages/", {"body": "Halo"}).status_code == 404
