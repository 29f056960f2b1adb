"""Calls (SPEC §4): operators log calls that made no report, or attach them to an open
report; the command centre reads a number's history. Agency staff see none of it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import services
from reports.models import Call, Event, Report

from .helpers import counts, expect

URL = "/api/v1/calls/"
HISTORY = f"{URL}history/"
PRANKSTER = "0813-2222-3333"


def log(api, **fields):
    return api.post(URL, {"caller_phone": PRANKSTER, "outcome": "prank", **fields})


@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 201,
            "supervisor": 403,
            "assigned_staff": 403,
            "other_staff": 403,
        }
    ),
)
def test_only_operators_log_calls(client_as, role, status):
    client = client_as(role)
    before = counts()
    response = client.post(URL, {"caller_phone": PRANKSTER, "outcome": "information"})
    assert response.status_code == status
    if status == 201:
        assert Call.objects.count() == before["Call"] + 1
    else:
        assert counts() == before


READ = expect(
    {
        "anonymous": 401,
        "inactive": 401,
        "no_role": 403,
        "operator": 200,
        "supervisor": 200,
        "assigned_staff": 403,
        "other_staff": 403,
    }
)


@pytest.mark.parametrize(("role", "status"), READ)
def test_only_the_command_centre_lists_calls(client_as, make_report, role, status):
    make_report()  # logs its call
    response = client_as(role).get(URL, {"phone": "081234567890"})
    assert response.status_code == status
    if status == 200:
        assert [c["outcome"] for c in response.json()["results"]] == ["report"]
    else:
        assert "results" not in response.json()


@pytest.mark.parametrize(("role", "status"), READ)
def test_only_the_command_centre_reads_a_numbers_history(client_as, make_report, role, status):
    make_report()
    response = client_as(role).get(HISTORY, {"phone": "081234567890"})
    assert response.status_code == status
    if status == 200:
        assert response.json()["calls_total"] == 1
    else:
        assert "calls_total" not in response.json()


# --- Logging ------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["information", "prank", "ghost", "other"])
def test_an_operator_logs_a_call_without_a_report(api, operator, city, outcome):
    response = api.post(
        URL,
        {"caller_phone": PRANKSTER, "caller_name": "Anon", "outcome": outcome, "note": "Catatan"},
    )
    assert response.status_code == 201
    body = response.json()
    call = Call.objects.get()
    assert body["id"] == call.pk
    assert (body["caller_phone"], body["caller_name"], body["outcome"], body["note"]) == (
        "+6281322223333",
        "Anon",
        outcome,
        "Catatan",
    )
    assert (body["report"], body["report_number"]) == (None, None)
    assert body["operator"] == operator.username
    assert (call.outcome, call.report, call.operator) == (outcome, None, operator)
    assert not Report.objects.exists()
    assert not Event.objects.exists()


def test_a_call_is_attached_to_an_open_report(api, make_report):
    report = make_report()
    response = api.post(
        URL,
        {
            "caller_phone": "0857 4444 5555",
            "outcome": "attached",
            "report": report.pk,
            "note": "Warga lain melapor kejadian yang sama",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["outcome"], body["report"], body["report_number"]) == (
        "attached",
        report.pk,
        report.number,
    )
    assert Call.objects.get(pk=body["id"]).report == report
    event = Event.objects.get(kind="call.attached")
    assert (event.report, event.data["call"]) == (report, body["id"])
    assert report.assignments.count() == 2  # not dispatched again


def test_a_call_cannot_be_attached_to_a_closed_report(api, make_report, operator):
    report = make_report()
    services.report_close(actor=operator, report=report, reason="resolved")
    before = counts()
    response = api.post(
        URL, {"caller_phone": PRANKSTER, "outcome": "attached", "report": report.pk}
    )
    assert response.status_code == 400
    assert report.number in response.json()["report"][0]
    assert counts() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"outcome": "report"}, "outcome"),
        ({"outcome": "nope"}, "outcome"),
        ({"outcome": None}, "outcome"),
        ({"outcome": "attached"}, "report"),
        ({"outcome": "attached", "report": 999999}, "report"),
        ({"outcome": "attached", "report": 10**20}, "report"),
        ({"outcome": "attached", "report": "abc"}, "report"),
        ({"outcome": "prank", "report": "OPEN"}, "report"),
        ({"caller_phone": "12345"}, "caller_phone"),
        ({"caller_phone": ""}, "caller_phone"),
        ({"caller_phone": None}, "caller_phone"),
        ({"caller_phone": "+44 20"}, "caller_phone"),
        ({"note": "a\x00b"}, "note"),
        ({"note": "a\ud800b"}, "note"),
        ({"caller_name": "\udfff"}, "caller_name"),
        ({"note": "n" * 2001}, "note"),
        ({"caller_name": "n" * 121}, "caller_name"),
        ({"received_at": "2999-01-01T00:00:00Z"}, "received_at"),
        ({"received_at": "kemarin"}, "received_at"),
    ],
)
def test_invalid_calls_are_a_400_and_save_nothing(api, make_report, payload, field):
    report = make_report()
    if payload.get("report") == "OPEN":
        payload = {**payload, "report": report.pk}
    before = counts()
    response = api.post(URL, {"caller_phone": PRANKSTER, "outcome": "prank", **payload})
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert counts() == before


def test_malformed_json_is_a_400(api, city):
    response = api.post(URL, '{"outcome": "prank"', content_type="application/json")
    assert response.status_code == 400
    assert not Call.objects.exists()


# --- A number's history -------------------------------------------------------------------------


def test_calls_are_filtered_by_phone_however_it_is_typed(api, make_report):
    make_report(caller_phone="081234567890")
    log(api, outcome="ghost")
    log(api, caller_phone="+62 813 2222 3333", outcome="information")
    for typed in ["0813-2222-3333", "+6281322223333", "62 813 2222 3333", "(0813) 2222 3333"]:
        response = api.get(URL, {"phone": typed})
        assert response.status_code == 200
        results = response.json()["results"]
        assert [c["outcome"] for c in results] == ["information", "ghost"], typed
        assert {c["caller_phone"] for c in results} == {"+6281322223333"}
    assert response.json()["count"] == 2
    assert api.get(URL).json()["count"] == 3


def test_calls_are_filtered_by_outcome(api, city):
    log(api, outcome="ghost")
    log(api, outcome="prank")
    log(api, outcome="information")
    response = api.get(URL, {"outcome": ["prank", "ghost"]})
    assert sorted(c["outcome"] for c in response.json()["results"]) == ["ghost", "prank"]


@pytest.mark.parametrize(
    "query", [{"phone": "12345"}, {"outcome": "nope"}, {"received_after": "x"}, {"report": "x"}]
)
def test_invalid_call_filters_are_a_400(api, city, query):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())


def test_a_number_is_flagged_at_its_third_prank_or_ghost_call(api, city):
    def history():
        response = api.get(HISTORY, {"phone": "+62 813-2222-3333"})
        assert response.status_code == 200
        return response.json()

    assert history() == {
        "phone": "+6281322223333",
        "calls_total": 0,
        "prank_count": 0,
        "flagged": False,
        "calls": [],
        "open_reports": [],
    }
    log(api, outcome="prank")
    log(api, outcome="information")
    body = history()
    assert (body["calls_total"], body["prank_count"], body["flagged"]) == (2, 1, False)
    log(api, outcome="ghost")
    body = history()
    assert (body["calls_total"], body["prank_count"], body["flagged"]) == (3, 2, False)
    log(api, outcome="prank")
    body = history()
    assert (body["calls_total"], body["prank_count"], body["flagged"]) == (4, 3, True)
    assert [c["outcome"] for c in body["calls"]] == ["prank", "ghost", "information", "prank"]


def test_old_pranks_do_not_flag_a_number(api, city):
    for _ in range(3):
        assert log(api).status_code == 201
    Call.objects.update(received_at=timezone.now() - timedelta(days=31))
    body = api.get(HISTORY, {"phone": PRANKSTER}).json()
    assert (body["calls_total"], body["prank_count"], body["flagged"]) == (3, 0, False)


def test_history_lists_the_numbers_open_reports(api, make_report, operator):
    open_report = make_report(caller_phone=PRANKSTER)
    closed = make_report(caller_phone=PRANKSTER)
    services.report_close(actor=operator, report=closed, reason="prank")
    make_report(caller_phone="081234567890")
    body = api.get(HISTORY, {"phone": PRANKSTER}).json()
    assert body["calls_total"] == 2
    assert [r["id"] for r in body["open_reports"]] == [open_report.pk]
    assert {a["agency"] for a in body["open_reports"][0]["assignments"]} == {
        "dishub",
        "polrestabes",
    }


@pytest.mark.parametrize("query", [{}, {"phone": ""}, {"phone": "12345"}, {"phone": "a\x00"}])
def test_history_needs_a_valid_phone(api, city, query):
    response = api.get(HISTORY, query)
    assert response.status_code == 400
    assert response.json()["phone"]
