"""Events leave through notifications.publish after commit, to the groups that may see
them: the command centre and the agencies on the report. Runs on the configured channel
layer: in-memory by default, real Redis in CI's second pass."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from notifications.layer import stoppable_receive
from notifications.publish import ALL_REPORTS_GROUP, agency_group
from reports import services
from reports.models import Event, Report

from .waiting import join_threads

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(*groups: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return channel


def received(channel: str, quiet: float = 0.3) -> list[dict]:
    """Every event payload waiting on `channel` (decoded from the group messages, which carry
    each transaction's events as JSON text), once none arrives for `quiet` seconds. The
    timed-out read is a stoppable_receive: a plain layer.receive() can lose the cancellation
    on Redis (notifications.layer) and then hang the event loop's shutdown."""

    async def drain():
        layer = get_channel_layer()
        messages = []
        while True:
            try:
                message = await asyncio.wait_for(stoppable_receive(layer, channel), quiet)
            except TimeoutError:
                return messages
            assert message["type"] == "dispatch.events"
            messages.extend(json.loads(text) for text in message["texts"])

    return async_to_sync(drain)()


def test_a_new_report_reaches_its_agencies_and_the_command_centre(make_report):
    centre = subscribe(ALL_REPORTS_GROUP)
    dishub = subscribe(agency_group("dishub"))
    police = subscribe(agency_group("polrestabes"))
    dpu = subscribe(agency_group("dpu"))

    report = make_report(category="kemacetan")  # → dishub, polrestabes

    expected = list(Event.objects.filter(report=report).values_list("id", "kind"))
    assert [kind for _, kind in expected] == [
        "report.created",
        "assignment.created",
        "assignment.created",
    ]
    for channel in (centre, dishub, police):
        messages = received(channel)
        assert [(m["event_id"], m["kind"]) for m in messages] == expected
        assert all(m["report"]["id"] == report.pk for m in messages)
    assert received(dpu) == []


def test_an_agency_action_reaches_every_agency_on_the_report(make_report, staff_of):
    report = make_report(category="kemacetan")
    police = subscribe(agency_group("polrestabes"))
    dishub_assignment = report.assignments.get(agency__code="dishub")
    services.assignment_acknowledge(assignment=dishub_assignment, actor=staff_of("dishub"))
    (payload,) = received(police)
    assert (payload["type"], payload["kind"]) == ("assignment.updated", "assignment.acknowledged")
    assert payload["assignment"]["id"] == dishub_assignment.pk
    assert payload["assignment"]["status"] == "acknowledged"
    assert {a["agency"] for a in payload["report"]["assignments"]} == {"dishub", "polrestabes"}


def test_nothing_is_published_for_a_rolled_back_transaction(make_report):
    centre = subscribe(ALL_REPORTS_GROUP, agency_group("damkar"))
    with pytest.raises(RuntimeError), transaction.atomic():
        make_report(category="kebakaran")
        raise RuntimeError("operator's request failed later in the same transaction")
    assert not Report.objects.exists()
    assert received(centre) == []


def test_a_rolled_back_savepoint_drops_only_its_own_events(make_report, operator):
    centre = subscribe(ALL_REPORTS_GROUP)
    with transaction.atomic():
        kept = make_report(category="kebakaran")
        with pytest.raises(RuntimeError), transaction.atomic():
            make_report(category="banjir")
            raise RuntimeError("this part of the work is undone")
        services.call_log(
            operator=operator, caller_phone="081234567899", outcome="attached", report=kept
        )
    messages = received(centre)
    assert {m["report"]["id"] for m in messages} == {kept.pk}
    assert [m["kind"] for m in messages] == [
        "report.created",
        "assignment.created",
        "call.attached",
    ]
    assert [m["event_id"] for m in messages] == sorted(m["event_id"] for m in messages)


def test_a_rolled_back_transaction_leaves_nothing_for_the_next_one(make_report):
    """On SQLite a rolled-back event id is handed out again; it must not be published twice
    or stand in for another event."""
    centre = subscribe(ALL_REPORTS_GROUP)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_report(category="kebakaran")
        raise RuntimeError("undone")
    report = make_report(category="kebakaran")
    messages = received(centre)
    expected = list(Event.objects.filter(report=report).values_list("id", flat=True))
    assert [m["event_id"] for m in messages] == expected
    assert {m["report"]["id"] for m in messages} == {report.pk}


@pytest.mark.postgres
def test_concurrent_transactions_each_publish_their_own_events(make_report, staff_of):
    """Thread A is still inside its transaction when thread B writes its events: B's flush
    must neither send nor swallow A's events. (B's events wait for A's commit: event ids
    follow commit order, SPEC §12a, notifications/migrations/0001.)"""
    import threading
    import time

    from django.db import connection

    existing = make_report(category="kemacetan")
    assignment = existing.assignments.get(agency__code="dishub")
    crew = staff_of("dishub")
    centre = subscribe(ALL_REPORTS_GROUP)
    a_wrote, b_started, b_done = threading.Event(), threading.Event(), threading.Event()
    created = {}

    def thread_a():
        try:
            with transaction.atomic():
                created["report"] = make_report(category="kebakaran")
                a_wrote.set()
                b_started.wait(10)
                time.sleep(0.3)  # B is in its transaction, waiting to write its event
        finally:
            connection.close()

    def thread_b():
        try:
            a_wrote.wait(10)
            b_started.set()
            services.assignment_acknowledge(assignment=assignment, actor=crew)
        finally:
            b_done.set()
            connection.close()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    join_threads(threads)

    messages = received(centre)
    by_report = {}
    for payload in messages:
        by_report.setdefault(payload["report"]["id"], []).append(payload["kind"])
    assert by_report[existing.pk] == ["assignment.acknowledged"]
    assert by_report[created["report"].pk] == ["report.created", "assignment.created"]
    assert len(messages) == len({m["event_id"] for m in messages}) == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "kecelakaan", "latitude": "-6.9830", "longitude": "110.4091", "priority": 1},
        {"category": "kebakaran", "kecamatan": None, "caller_name": "", "agencies": ["damkar"]},
    ],
)
def test_a_new_report_is_published_from_memory_exactly_as_the_database_holds_it(
    make_report, fields
):
    """report_create's events are published from the objects it has just written, with no
    query: what they carry must be what reading the events back from the database gives."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.access import CallerFields
    from reports.live import for_viewers, live_payloads

    centre = subscribe(ALL_REPORTS_GROUP)
    staff = subscribe(agency_group(fields.get("agencies", ["polrestabes"])[0]))
    with CaptureQueriesContext(connection) as queries:
        report = make_report(**fields)
    after_commit = [q["sql"] for q in queries][
        next(i for i, q in enumerate(queries) if q["sql"] == "COMMIT") + 1 :
    ]
    assert after_commit == []  # the payloads were built from memory

    def without_clock(payloads):
        return [{k: v for k, v in p.items() if k != "server_time"} for p in payloads]

    from_database = live_payloads(list(Event.objects.filter(report=report).order_by("pk")))
    assert len(from_database) == 1 + report.assignments.count()
    assert without_clock(received(centre)) == without_clock(from_database)
    masked = [for_viewers(p, CallerFields.MASKED) for p in from_database]
    assert without_clock(received(staff)) == without_clock(masked)
