"""Nothing is lost when a component fails (issue 7 §4). Real processes: a Daphne server on
the test PostgreSQL database, a redis-server of the test's own on a free port (stopped and
started again by the test), a TCP proxy in front of PostgreSQL that the test can cut, and
websocket dashboards over the network. Each test counts what was lost; it must be 0.

- Redis down: reports are still saved and the operator gets 201; the failure is logged; a
  dashboard reconnects when Redis is back and `resume` brings every missed event.
- PostgreSQL slow (a lock held elsewhere) or down (the proxy cut): the operator gets a 503
  with a clear message within seconds, nothing half-saved; it works again afterwards.
- A dashboard that drops three times during a stream of 500+ events misses none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time

import psycopg
import pytest
import redis
from django.db import connection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from reports.models import Event, Report

from .servers import Server, dashboard, free_port, post_report, server_env, token, wait_healthy
from .waiting import close_quietly, join_threads, recv_json, stop_tasks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SUMMARY: list[str] = []  # one line per scenario, printed at the end of the run (conftest)
PRODUCER_DEADLINE = 60  # s for the stream test's 170 POSTs (each has its own 10-s timeout)


# --- Components the tests break ------------------------------------------------------------------


class RedisProcess:
    """A redis-server of the test's own, on a free port; stop() and start() keep the port."""

    def __init__(self):
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        self.stop()  # not left running when it never answered
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()  # as a crash would: no goodbye to the clients
            self.process.wait(timeout=10)


class TcpProxy:
    """Forwards a local port to PostgreSQL; down() cuts every connection and refuses new
    ones, as a database host that died would; up() serves again on the same port."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.threads: list[threading.Thread] = []  # joined by down()
        self.lock = threading.Lock()

    def up(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        self._start(self._accept, listener)
        return self

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self.lock:
            self.threads.append(thread)
        thread.start()

    def down(self) -> None:
        """Cuts everything and joins every thread the proxy started (bounded). Repeated
        until none is left: a connection accepted just as the listener closed starts its
        pumps after the first pass."""
        while True:
            with self.lock:
                if self.listener is not None:
                    # shutdown() wakes the thread blocked in accept(); close() alone would not.
                    with contextlib.suppress(OSError):
                        self.listener.shutdown(socket.SHUT_RDWR)
                    self.listener.close()
                    self.listener = None
                for sock in self.sockets:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                self.sockets.clear()
                threads, self.threads = self.threads, []
            if not threads:
                return
            join_threads(threads, seconds=10)

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)  # an idle pooled connection may wait for ever
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                self._start(self._pump, a, b)

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def daphne(name: str, **env):
    server = Server(name, free_port(), {**server_env(), **env})
    try:
        wait_healthy(server)
        yield server
    finally:
        server.stop()


# --- Helpers --------------------------------------------------------------------------------------


async def post(server: Server, key: str) -> tuple[int, dict, float]:
    start = time.perf_counter()
    status, body = await asyncio.to_thread(post_report, server.http, key)
    return status, body, time.perf_counter() - start


def visible_event_ids(report_ids) -> set[int]:
    """Every event on these reports (all of them kemacetan: Dishub sees them all). Run in a
    worker thread: its connection is closed, or the test database could not be dropped."""
    try:
        return set(Event.objects.filter(report_id__in=report_ids).values_list("id", flat=True))
    finally:
        connection.close()


async def collect(ws, until: set[int], seen: set[int], deadline: float) -> None:
    """Reads events into `seen` until it holds `until` or the deadline passes."""
    while not until <= seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=remaining))
        except (TimeoutError, ConnectionClosed):
            return
        if "event_id" in message:
            seen.add(message["event_id"])


async def reconnect(server: Server, key: str, last_event_id: int, deadline: float):
    """Connects again (retrying while the server cannot take it) and asks to resume."""
    while True:
        ws = None
        try:
            ws = await dashboard(server.ws, key)
            snapshot = await recv_json(ws, timeout=5)
            assert snapshot["type"] == "snapshot", snapshot
            await ws.send(json.dumps({"type": "resume", "last_event_id": last_event_id}))
            return ws
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError, AssertionError):
            if ws is not None:  # connected, then failed: not left open behind the retry
                await close_quietly(ws)
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


# --- Redis down ----------------------------------------------------------------------------------


def test_redis_down_reports_are_saved_and_dashboards_catch_up(city, operator, staff_of):
    own_redis = RedisProcess().start()
    operator_key, dishub_key = token(operator), token(staff_of("dishub"))
    outage_reports: list[int] = []
    try:
        with daphne("redis-fault", REDIS_URL=own_redis.url) as server:

            async def scenario():
                ws = await dashboard(server.ws, dishub_key)
                try:
                    last = (await recv_json(ws))["last_event_id"]
                    # Live while Redis is up.
                    status, body, _ = await post(server, operator_key)
                    assert status == 201
                    seen: set[int] = set()
                    live = await asyncio.to_thread(visible_event_ids, [body["id"]])
                    await collect(ws, live, seen, time.monotonic() + 5)
                    assert live <= seen, "events did not arrive live before the outage"
                    last = max(seen)

                    own_redis.stop()
                    timings = []
                    for _ in range(5):
                        status, body, seconds = await post(server, operator_key)
                        timings.append(seconds)
                        assert status == 201, body  # the operator sees success
                        assert seconds < 3, f"the POST took {seconds:.1f} s with Redis down"
                        outage_reports.append(body["id"])
                    await close_quietly(ws)

                    own_redis.start()
                    expected = await asyncio.to_thread(visible_event_ids, outage_reports)
                    ws = await reconnect(server, dishub_key, last, time.monotonic() + 20)
                    await collect(ws, expected, seen, time.monotonic() + 10)
                finally:
                    await close_quietly(ws)
                SUMMARY.append(
                    f"Redis down: 5 reports saved (201 in {min(timings) * 1000:.0f}–"
                    f"{max(timings) * 1000:.0f} ms), {len(expected)} events, "
                    f"{len(expected - seen)} lost after resume"
                )
                return expected - seen

            lost = asyncio.run(scenario())
            log = server.output()
    finally:
        own_redis.stop()
    assert Report.objects.filter(pk__in=outage_reports).count() == 5  # every report saved
    assert lost == set(), f"{len(lost)} events never reached the dashboard"
    assert "were not published" in log  # logged for the administrators


# --- PostgreSQL slow or down ---------------------------------------------------------------------


def test_a_slow_database_gives_a_clear_error_within_seconds(city, operator):
    key = token(operator)
    db = connection.settings_dict
    dsn = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with daphne("slow-db", DB_TIMEOUT="3") as server:
        before = Report.objects.count()
        # Another session holds the report counter: every new report waits on it.
        with psycopg.connect(dsn) as blocker:
            blocker.execute("LOCK TABLE reports_reportcounter IN ACCESS EXCLUSIVE MODE")
            status, body, seconds = asyncio.run(post(server, key))
            blocker.rollback()
        assert status == 503, body
        assert body["code"] == "database_unavailable", body
        assert 2.5 < seconds < 6, seconds
        SUMMARY.append(f"PostgreSQL slow (DB_TIMEOUT=3 s): 503 after {seconds:.1f} s, 0 saved")
        assert Report.objects.count() == before  # nothing half-saved
        status, _, _ = asyncio.run(post(server, key))
        assert status == 201  # and it works again at once


def test_a_database_that_goes_down_gives_a_clear_error_and_recovers(city, operator):
    key = token(operator)
    db = connection.settings_dict
    proxy = TcpProxy(int(db["PORT"] or 5432)).up()
    url = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    try:
        with daphne("db-down", DATABASE_URL=url) as server:
            assert asyncio.run(post(server, key))[0] == 201
            before = Report.objects.count()
            proxy.down()
            for _ in range(2):  # the pooled connection dies, then no new one can be made
                status, body, seconds = asyncio.run(post(server, key))
                assert status == 503, body
                assert body["code"] == "database_unavailable", body
                assert seconds < 8, seconds
                SUMMARY.append(f"PostgreSQL down: 503 after {seconds:.2f} s")
            proxy.up()
            # The pool reconnects in the background with a backoff: the first requests after
            # the database returns may still get the 503 (and save nothing).
            back = time.monotonic()
            while (status := asyncio.run(post(server, key))[0]) == 503:
                assert time.monotonic() - back < 30, "no recovery within 30 s"
                time.sleep(0.5)
            assert status == 201
            assert Report.objects.count() == before + 1
            SUMMARY.append(
                f"PostgreSQL back: reports accepted again after {time.monotonic() - back:.1f} s"
            )
    finally:
        proxy.down()


# --- A dashboard that drops mid-stream ---------------------------------------------------------


def test_a_dashboard_dropping_mid_stream_misses_nothing(city, operator, staff_of):
    """170 reports through the API (510 events, all for Dishub) while the dashboard's
    connection is cut three times; after each reconnect it resumes from its last event."""
    operator_key, dishub_key = token(operator), token(staff_of("dishub"))
    reports = 170
    with daphne("stream") as server:

        async def scenario():
            ws = await dashboard(server.ws, dishub_key)
            created: list[int] = []

            async def producer():
                for _ in range(reports):
                    status, body, _ = await post(server, operator_key)
                    assert status == 201
                    created.append(body["id"])

            producing = None
            try:
                await recv_json(ws)  # the snapshot
                producing = asyncio.create_task(producer())
                seen: list[int] = []
                drops = 0
                for drop_after in (100, 250, 400):
                    while len(set(seen)) < drop_after:
                        message = await recv_json(ws, timeout=15)
                        if "event_id" in message:
                            seen.append(message["event_id"])
                    ws.transport.abort()  # the network goes, no closing handshake
                    drops += 1
                    ws = await reconnect(server, dishub_key, max(seen), time.monotonic() + 10)
                await asyncio.wait_for(producing, timeout=PRODUCER_DEADLINE)
                expected = await asyncio.to_thread(visible_event_ids, created)
                got = set(seen)
                await collect(ws, expected, got, time.monotonic() + 15)
            finally:
                if producing is not None:
                    await stop_tasks(producing)
                await close_quietly(ws)
            return expected, got, drops

        expected, got, drops = asyncio.run(scenario())
    assert drops == 3
    assert len(expected) == 3 * reports  # report.created + two assignment.created each
    SUMMARY.append(
        f"Dashboard dropped {drops}× during {len(expected)} events: {len(expected - got)} lost"
    )
    assert expected - got == set(), f"{len(expected - got)} of {len(expected)} events lost"
