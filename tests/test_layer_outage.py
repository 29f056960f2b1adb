"""The channel layer (Redis) away, at the consumer (issue 35 §3), on any layer: a dashboard
connecting is accepted and closed with 4500 after a hint when to retry (never an HTTP 500), an
open one whose own channel fails is closed with 4500 (it was 1011), and the process logs the
outage once, without a traceback. tests/test_faults.py does the same with a real Redis."""

import logging

import pytest
import redis
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from dispatch112.asgi import application
from notifications.fanout import fanout_for
from notifications.outage import outage

from .test_events_consumer import run, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_outage_left():
    outage.since = None
    yield
    outage.since = None


def refuse(*args, **kwargs):
    raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379.")


def test_a_dashboard_connecting_while_redis_is_away_is_closed_with_4500(
    city, staff_of, monkeypatch, caplog
):
    headers = session_headers(staff_of("dishub"))
    layer = get_channel_layer()
    monkeypatch.setattr(layer, "group_add", refuse)

    async def scenario():
        outputs = []
        for _ in range(3):  # three screens retrying: one log line for all
            socket = WebsocketCommunicator(application, "/ws/events/", headers=headers)
            connected, _ = await socket.connect(timeout=5)
            assert connected  # accepted (a close code reaches only an open socket), no 500
            outputs.append(await socket.receive_json_from(timeout=5))
            outputs.append(await socket.receive_output(timeout=5))
            await socket.disconnect()
        return outputs

    with caplog.at_level(logging.INFO):
        outputs = run(scenario)
    assert outputs[:2] == [
        {"type": "unavailable", "retry_after_ms": 500},
        {"type": "websocket.close", "code": 4500},
    ]
    assert outputs == outputs[:2] * 3
    lines = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None  # once, and no traceback
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert outage.is_down()


def test_an_open_dashboard_whose_own_channel_fails_is_closed_with_4500(
    city, staff_of, monkeypatch, caplog
):
    headers = session_headers(staff_of("dishub"))

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/events/", headers=headers)
        assert (await socket.connect(timeout=5))[0]
        snapshot = await socket.receive_json_from(timeout=5)
        layer = get_channel_layer()

        async def failing_receive(channel):
            refuse()

        monkeypatch.setattr(layer, "receive", failing_receive)
        # The consumer reads its own channel again after its next message: send it one.
        fanout = fanout_for(layer)
        (dashboard,) = {m for members in fanout.members.values() for m in members}
        await layer.send(dashboard.channel_name, {"type": "live.frame", "text": "{}"})
        frames = [await socket.receive_output(timeout=5) for _ in range(3)]
        await socket.disconnect()
        return snapshot, frames

    with caplog.at_level(logging.INFO):
        snapshot, frames = run(scenario)
    assert snapshot["type"] == "snapshot"
    assert frames[-1] == {"type": "websocket.close", "code": 4500}, frames
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
