"""The operator's steering reaches the agencies live (SPEC §11, §5): real websocket clients
against dispatch112.asgi.application, as tests/test_events_consumer.py."""

import pytest
from channels.db import database_sync_to_async

from reports import services

from .test_events_consumer import connect, received_events, run, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def _on_desks(headers_by_name: dict, action) -> dict[str, list[dict]]:
    """What each desk's socket receives while `action` (sync, in its own transaction) runs."""

    async def scenario():
        sockets = {name: await connect(h) for name, h in headers_by_name.items()}
        for socket in sockets.values():
            assert (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
        await database_sync_to_async(action)()
        received = {name: await received_events(s) for name, s in sockets.items()}
        for socket in sockets.values():
            await socket.disconnect()
        return received

    return run(scenario)


def test_an_edit_reaches_the_agencies_with_the_changed_fields(make_report, operator, staff_of):
    report = make_report(category="kemacetan", priority=3)
    desks = {"dishub": session_headers(staff_of("dishub")), "centre": session_headers(operator)}
    got = _on_desks(desks, lambda: services.report_edit(actor=operator, report=report, priority=1))
    for name in ("dishub", "centre"):
        [event] = got[name]
        assert (event["type"], event["kind"]) == ("report.updated", "report.edited")
        assert event["data"]["fields"] == ["priority"]
        assert event["report"]["priority"] == 1
    assert got["dishub"][0]["report"]["caller_phone_masked"] is True


def test_an_added_agency_gets_its_new_assignment(make_report, operator, staff_of):
    report = make_report(category="kemacetan")
    desks = {"satpolpp": session_headers(staff_of("satpolpp")),
             "dishub": session_headers(staff_of("dishub"))}  # fmt: skip
    got = _on_desks(
        desks,
        lambda: services.assignment_add(
            actor=operator, report=report, agency="satpolpp", note="PKL di trotoar"
        ),
    )
    [event] = got["satpolpp"]
    assert (event["type"], event["assignment"]["agency"]) == ("assignment.created", "satpolpp")
    assert event["assignment"]["status"] == "notified"
    assert event["data"] == {"added": True, "note": "PKL di trotoar"}
    assert event["report"]["caller_phone_masked"] is True
    # The agencies already on it see who joined.
    assert [e["assignment"]["agency"] for e in got["dishub"]] == ["satpolpp"]


def test_a_cancelled_agency_is_told_why_without_the_caller(make_report, operator, staff_of):
    report = make_report(category="kemacetan")
    assignment = report.assignments.get(agency__code="dishub")
    got = _on_desks(
        {"dishub": session_headers(staff_of("dishub"))},
        lambda: services.assignment_cancel(
            assignment=assignment, actor=operator, reason="Sudah terurai"
        ),
    )
    [event] = got["dishub"]
    assert (event["kind"], event["data"]["reason"]) == ("assignment.cancelled", "Sudah terurai")
    assert event["assignment"]["cancel_reason"] == "Sudah terurai"
    assert event["report"]["caller_withheld"] is True


def test_an_attached_call_reaches_the_agencies_as_new_information(make_report, operator, staff_of):
    report = make_report(category="kemacetan")
    got = _on_desks(
        {"dishub": session_headers(staff_of("dishub"))},
        lambda: services.call_log(
            operator=operator, caller_phone="081311112222", outcome="attached",
            report=report.pk, note="Penelepon kedua: dua orang terjebak",
        ),
    )  # fmt: skip
    [event] = got["dishub"]
    assert (event["type"], event["kind"]) == ("report.updated", "call.attached")
    assert event["data"]["note"] == "Penelepon kedua: dua orang terjebak"
    assert "081311112222" not in str(event) and "+6281311112222" not in str(event)
