"""Events leave through notifications.publish after commit, to the groups that may see
them: the command centre and the agencies on the report. Runs on the configured channel
layer: in-memory by default, real Redis in CI's second pass."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from notifications.publish import ALL_REPORTS_GROUP, agency_group
from reports import services
from reports.models import Event, Report

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(*groups: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return channel


def received(channel: str, quiet: float = 0.3) -> list[dict]:
    """Every message waiting on `channel`, once none arrives for `quiet` seconds."""

    async def drain():
        layer = get_channel_layer()
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), quiet))
            except TimeoutError:
                return messages

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
        assert all(m["report_id"] == report.pk for m in messages)
    assert received(dpu) == []


def test_an_agency_action_reaches_every_agency_on_the_report(make_report, staff_of):
    report = make_report(category="kemacetan")
    police = subscribe(agency_group("polrestabes"))
    dishub_assignment = report.assignments.get(agency__code="dishub")
    services.assignment_acknowledge(assignment=dishub_assignment, actor=staff_of("dishub"))
    (message,) = received(police)
    assert (message["kind"], message["assignment_id"]) == (
        "assignment.acknowledged",
        dishub_assignment.pk,
    )


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
    assert {m["report_id"] for m in messages} == {kept.pk}
    assert [m["kind"] for m in messages] == [
        "report.created",
        "assignment.created",
        "call.attached",
    ]
    assert [m["event_id"] for m in messages] == sorted(m["event_id"] for m in messages)
