"""Scale-out for real (SPEC §6): two Daphne processes on the same PostgreSQL and Redis share
live events. A report created through process A's HTTP API reaches a dashboard connected to
process B, and agency scoping still holds across processes.

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
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_LAYER = "channels_redis.core.RedisChannelLayer"
REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_DEADLINE = 20.0
EVENT_DEADLINE = 5.0
QUIET_PERIOD = 1.0
REPORT = {
    "caller_phone": "081234567890",
    "category": "kemacetan",  # dishub + polrestabes
    "description": "Macet total",
    "address": "Jl. Pemuda",
    "kecamatan": "semarang_tengah",
}
EXPECTED_TYPES = ["report.updated", "assignment.created", "assignment.created"]
# No proxy from the environment for loopback requests.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Server:
    def __init__(self, name: str, port: int, env: dict[str, str]):
        self.name, self.port = name, port
        # Closed in stop(): the log outlives this constructor.
        self.log = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "dispatch112.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/events/"

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        return f"--- server {self.name} (port {self.port}, exit {self.process.poll()}) ---\n{text}"

    def healthy(self) -> bool:
        try:
            with _http.open(f"{self.http}/healthz", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env() -> dict[str, str]:
    """The test's own database (test_<name>) and Redis, in production mode."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'])}",
        "REDIS_URL": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "false",
        "ENV_FILE": "/nonexistent",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def servers(django_db_setup):
    """Two independent Daphne processes (A, B) on the test database and the same Redis."""
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] != REDIS_LAYER:
        pytest.skip("needs the Redis channel layer shared by processes: run with REDIS_URL set")
    env = server_env()
    started: list[Server] = []
    try:
        for name in ("A", "B"):
            started.append(Server(name, free_port(), env))
        deadline = time.monotonic() + STARTUP_DEADLINE
        for server in started:
            while not server.healthy():
                if server.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"server {server.name} did not answer /healthz with 200 within "
                        f"{STARTUP_DEADLINE:.0f} s\n" + "\n".join(s.output() for s in started)
                    )
                time.sleep(0.1)
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def token(user) -> str:
    return Token.objects.create(user=user).key


def post_report(base: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/v1/reports/",
        data=json.dumps(REPORT).encode(),
        method="POST",
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    try:
        with _http.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"error": error.read().decode(errors="replace")}


def dashboard(url: str, key: str):
    return connect(
        url, additional_headers={"Authorization": f"Token {key}"}, proxy=None, open_timeout=5
    )


async def pump(ws, inbox: asyncio.Queue) -> None:
    """Every message the socket receives, stamped with its arrival time."""
    async for raw in ws:
        await inbox.put((time.perf_counter(), json.loads(raw)))


async def snapshot_of(ws) -> dict:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
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
            stack.callback(task.cancel)
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
    a, b = servers
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
    a, b = servers
    operator_key, dishub_key = token(operator), token(staff_of("dishub"))

    try:
        body, events, _, latency_ms = asyncio.run(cross_process(b, a, operator_key, dishub_key))
    except AssertionError as error:
        raise AssertionError(f"{error}\n{a.output()}\n{b.output()}") from None

    assert_fan_out(events, body["number"])
    with capsys.disabled():
        print(f"\nscale-out B→A: POST on B to last event on A in {latency_ms:.1f} ms")
