"""Scale-out for real (SPEC §6): two Daphne processes on the same PostgreSQL and Redis share
live events, and so does the production layout's HTTP server (gunicorn, WSGI) with them. A
report created through process A's HTTP API reaches a dashboard connected to process B, and
agency scoping still holds across processes.

Why this fails if the channel layer is not shared: the dashboard on B is subscribed to its
groups only in B's channel layer, while the POST is handled, committed and published entirely
inside process A (`notifications.publish` runs in A's request thread). The test never talks
to B except through that websocket and sends no `resume`, so the only path from A's commit to
B's socket is the channel layer. With an in-memory layer per process, A's `group_send` lands
in A's memory, B's dashboard hears nothing and the 5 s wait for the three events times out.
The reverse test proves the same from B to A, so neither direction passes by accident.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from django.conf import settings
from websockets.asyncio.client import connect

from .servers import (
    Server,
    dashboard,
    free_port,
    post_report,
    server_env,
    token,
    wait_healthy,
)
from .waiting import recv_json, stop_tasks

# The servers are started once for the module: its tests run on one worker (make test).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("scale_out"),
]

REDIS_LAYER = "channels_redis.core.RedisChannelLayer"
STARTUP_DEADLINE = 20.0
EVENT_DEADLINE = 5.0
QUIET_PERIOD = 1.0
EXPECTED_TYPES = ["report.updated", "assignment.created", "assignment.created"]


@pytest.fixture(scope="module")
def servers(django_db_setup):
    """Two independent Daphne processes (A, B) and a gunicorn (HTTP, two workers) on the test
    database and the same Redis."""
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] != REDIS_LAYER:
        pytest.skip("needs the Redis channel layer shared by processes: run with REDIS_URL set")
    env = server_env()
    started: list[Server] = []
    try:
        for name, kind in (("A", "daphne"), ("B", "daphne"), ("HTTP", "gunicorn")):
            started.append(Server(name, free_port(), env, kind))
        wait_healthy(*started, deadline=STARTUP_DEADLINE)
        yield tuple(started)
    finally:
        for server in started:
            server.stop()


async def pump(ws, inbox: asyncio.Queue) -> None:
    """Every message the socket receives, stamped with its arrival time. A background task
    with no deadline of its own: its readers wait with theirs (events_for, quiet_about), and
    cross_process stops it before the socket closes."""
    async for raw in ws:
        await inbox.put((time.perf_counter(), json.loads(raw)))


async def snapshot_of(ws) -> dict:
    message = await recv_json(ws, timeout=5)
    assert message["type"] == "snapshot", message
    return message


async def events_for(inbox: asyncio.Queue, number: str, deadline: float) -> list[tuple]:
    """(arrival, event) for the report `number`, until three arrived or the deadline."""
    found, other = [], []
    while len(found) < len(EXPECTED_TYPES):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        try:
            arrived, event = await asyncio.wait_for(inbox.get(), timeout=remaining)
        except TimeoutError:
            break
        is_ours = (event.get("report") or {}).get("number") == number
        (found if is_ours else other).append((arrived, event))
    assert len(found) == len(EXPECTED_TYPES), (
        f"within {EVENT_DEADLINE} s got {[e['type'] for _, e in found]} for {number}; "
        f"other messages: {[e for _, e in other]}"
    )
    return found


async def quiet_about(inbox: asyncio.Queue, number: str, seconds: float) -> list[dict]:
    """Messages about report `number` that arrive within `seconds` (should be none)."""
    await asyncio.sleep(seconds)
    seen = []
    while not inbox.empty():
        _, event = inbox.get_nowait()
        if (event.get("report") or {}).get("number") == number:
            seen.append(event)
    return seen


async def cross_process(
    poster: Server,
    watcher: Server,
    operator_key: str,
    watcher_key: str,
    bystander: tuple[Server, str] | None = None,
):
    """A dashboard on `watcher`, optionally a bystander dashboard (server, token) that must
    hear nothing; then a report POSTed to `poster`. Returns (report, its events on `watcher`,
    what the bystander heard about it, ms from the POST to the last event)."""
    async with contextlib.AsyncExitStack() as stack:
        sockets = [(watcher, watcher_key)] + ([bystander] if bystander else [])
        inboxes = []
        for server, key in sockets:
            ws = await stack.enter_async_context(dashboard(server.ws, key))
            await snapshot_of(ws)
            inbox: asyncio.Queue = asyncio.Queue()
            task = asyncio.create_task(pump(ws, inbox))
            stack.push_async_callback(stop_tasks, task)  # cancelled and awaited, bounded
            inboxes.append(inbox)
        start = time.perf_counter()
        status, body = await asyncio.to_thread(post_report, poster.http, operator_key)
        assert status == 201, (status, body)
        found = await events_for(inboxes[0], body["number"], start + EVENT_DEADLINE)
        latency_ms = (max(arrived for arrived, _ in found) - start) * 1000
        heard = await quiet_about(inboxes[1], body["number"], QUIET_PERIOD) if bystander else []
    return body, [event for _, event in found], heard, latency_ms


def assert_fan_out(events: list[dict], number: str) -> None:
    assert [e["type"] for e in events] == EXPECTED_TYPES
    assert all(e["report"]["number"] == number for e in events)
    assert {e["assignment"]["agency"] for e in events[1:]} == {"dishub", "polrestabes"}
    assert [e["event_id"] for e in events] == sorted(e["event_id"] for e in events)


def test_a_report_posted_to_one_process_reaches_a_dashboard_on_another(
    servers, city, operator, staff_of, capsys
):
    a, b, _ = servers
    operator_key = token(operator)
    dishub_key, dpu_key = token(staff_of("dishub")), token(staff_of("dpu"))

    try:
        body, events, leaked, latency_ms = asyncio.run(
            cross_process(a, b, operator_key, dishub_key, bystander=(a, dpu_key))
        )
    except AssertionError as error:
        raise AssertionError(f"{error}\n{a.output()}\n{b.output()}") from None

    assert_fan_out(events, body["number"])
    # Scoping holds across processes: DPU, on the very process that published, hears nothing.
    assert leaked == []
    with capsys.disabled():
        print(f"\nscale-out A→B: POST on A to last event on B in {latency_ms:.1f} ms")


def test_the_reverse_direction_too(servers, city, operator, staff_of, capsys):
    a, b, _ = servers
    operator_key, dishub_key = token(operator), token(staff_of("dishub"))

    try:
        body, events, _, latency_ms = asyncio.run(cross_process(b, a, operator_key, dishub_key))
    except AssertionError as error:
        raise AssertionError(f"{error}\n{a.output()}\n{b.output()}") from None

    assert_fan_out(events, body["number"])
    with capsys.disabled():
        print(f"\nscale-out B→A: POST on B to last event on A in {latency_ms:.1f} ms")


def test_reports_posted_to_the_http_server_reach_dashboards_on_daphne(
    servers, city, operator, staff_of, capsys
):
    # The recommended layout: gunicorn answers the API, Daphne holds the websockets. The
    # WSGI worker publishes from its own publisher loop (notifications.publish); several
    # reports in a row go through the same worker's kept connection.
    a, b, http = servers
    operator_key = token(operator)
    dishub_key, dpu_key = token(staff_of("dishub")), token(staff_of("dpu"))

    latencies = []
    for watcher in (a, b, a):
        try:
            body, events, leaked, latency_ms = asyncio.run(
                cross_process(http, watcher, operator_key, dishub_key, bystander=(b, dpu_key))
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{http.output()}\n{a.output()}") from None
        assert_fan_out(events, body["number"])
        assert leaked == []
        latencies.append(latency_ms)

    with capsys.disabled():
        print(
            "\nscale-out gunicorn→Daphne: POST to last event in "
            + ", ".join(f"{ms:.1f}" for ms in latencies)
            + " ms"
        )


def test_a_burst_of_dashboards_connecting_at_once_all_get_their_snapshot(
    servers, city, staff_of, capsys
):
    # After a restart of a Daphne process every dashboard it held reconnects within the same
    # second. Each connect joins its groups in Redis; redis-py's pool refuses (rather than
    # queues) a command past its 100 connections, which once made a third of a burst of 200
    # fail with HTTP 500.
    a, _, _ = servers
    keys = [token(staff_of(code)) for code in ("dishub", "polrestabes", "bpbd", "damkar")]
    burst = 800

    async def one(key: str):
        async with connect(
            a.ws, additional_headers={"Authorization": f"Token {key}"}, proxy=None,
            open_timeout=60,
        ) as ws:  # fmt: skip
            return json.loads(await asyncio.wait_for(ws.recv(), timeout=60))["type"]

    async def all_at_once():
        return await asyncio.gather(
            *(one(keys[i % len(keys)]) for i in range(burst)), return_exceptions=True
        )

    start = time.perf_counter()
    results = asyncio.run(all_at_once())
    failed = [r for r in results if r != "snapshot"]
    assert failed == [], f"{len(failed)} of {burst} failed: {failed[0]!r}\n{a.output()[-3000:]}"
    with capsys.disabled():
        print(f"\n{burst} dashboards connected at once in {time.perf_counter() - start:.1f} s")
