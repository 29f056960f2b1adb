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
import random
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest
import redis
from django.db import connection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from reports.models import Event, Report

from .factories import OperatorFactory
from .servers import Server, dashboard, free_port, post_report, server_env, token, wait_healthy
from .test_live_order import out_of_order
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


async def closed_with(ws, seconds: float) -> int | None:
    """Reads until the server closes the socket; its close code (None: still open)."""
    deadline = time.monotonic() + seconds
    with contextlib.suppress(ConnectionClosed):
        while (remaining := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ws.recv(), timeout=remaining)
    return ws.close_code


async def refused_during_outage(server: Server, key: str) -> tuple[int | None, dict | None]:
    """A dashboard that connects while Redis is down: (close code, the frame before it)."""
    ws = await dashboard(server.ws, key)  # an HTTP 500 would raise InvalidStatus here
    try:
        hint = await recv_json(ws)
        return await closed_with(ws, 5), hint
    except ConnectionClosed:
        return ws.close_code, None
    finally:
        await close_quietly(ws)


async def live_again(server: Server, key: str, last: int, deadline: float):
    """Reconnects as live.js does (the server's hint, jittered, at most 2 s) with
    `?last_event_id=`, until a snapshot comes and the socket stays open."""
    while True:
        ws = None
        try:
            ws = await dashboard(f"{server.ws}?last_event_id={last}", key)
            first = await recv_json(ws, timeout=5)
            if first["type"] == "snapshot":
                return ws
            wait = first.get("retry_after_ms", 1000) / 1000
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
            wait = 0.5
        if ws is not None:
            await close_quietly(ws)
        if time.monotonic() > deadline:
            raise TimeoutError("no dashboard live again")
        await asyncio.sleep(min(wait * (1 + random.random() / 2), 2.0))


def test_redis_down_reports_are_saved_and_dashboards_catch_up(city, operator, staff_of):
    """Redis stops: dashboards are closed with 4500 (not 1011), reconnects are refused with a
    clean 4500 and a hint (not HTTP 500), reports are saved; no traceback in the log, one
    outage line; when Redis returns a dashboard is live again within ~2 s and gets every
    missed event, in order."""
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
                    closed = await closed_with(ws, 8)  # the fan-out notices within seconds
                    refused, hint = await refused_during_outage(server, dishub_key)
                    readiness = await asyncio.to_thread(ready, server)
                    timings = []
                    for _ in range(5):
                        status, body, seconds = await post(server, operator_key)
                        timings.append(seconds)
                        assert status == 201, body  # the operator sees success
                        assert seconds < 3, f"the POST took {seconds:.1f} s with Redis down"
                        outage_reports.append(body["id"])
                    again, hint_again = await refused_during_outage(server, dishub_key)

                    # A dashboard keeps retrying through the outage, as live.js does.
                    retrying = asyncio.ensure_future(
                        live_again(server, dishub_key, last, time.monotonic() + 30)
                    )
                    await asyncio.sleep(1.5)
                    assert not retrying.done()
                    await asyncio.to_thread(own_redis.start)
                    back = time.monotonic()
                    ws = await asyncio.wait_for(retrying, timeout=20)
                    dark = time.monotonic() - back
                    expected = await asyncio.to_thread(visible_event_ids, outage_reports)
                    frames: list[int] = []
                    while not expected <= seen:
                        message = await recv_json(ws, timeout=10)
                        if "event_id" in message:
                            frames.append(message["event_id"])
                            seen.add(message["event_id"])
                    # And live again: a new report's events arrive on the same socket.
                    status, body, _ = await post(server, operator_key)
                    assert status == 201
                    fresh = await asyncio.to_thread(visible_event_ids, [body["id"]])
                    await collect(ws, fresh, seen, time.monotonic() + 5)
                    assert fresh <= seen, "no live event after Redis returned"
                finally:
                    await close_quietly(ws)
                SUMMARY.append(
                    f"Redis down: closed with {closed}, reconnects refused with {refused}/"
                    f"{again}; 5 reports saved (201 in {min(timings) * 1000:.0f}–"
                    f"{max(timings) * 1000:.0f} ms), {len(expected)} events, "
                    f"{len(expected - seen)} lost, {out_of_order(frames)} out of order; "
                    f"live again {dark:.2f} s after Redis returned"
                )
                return (
                    expected - seen, closed, (refused, hint), (again, hint_again), dark, frames,
                    readiness,
                )  # fmt: skip

            lost, closed, refused, again, dark, frames, readiness = asyncio.run(scenario())
            log = server.output()
    finally:
        own_redis.stop()
    assert Report.objects.filter(pk__in=outage_reports).count() == 5  # every report saved
    assert lost == set(), f"{len(lost)} events never reached the dashboard"
    assert closed == 4500, f"closed with {closed}\n{log}"
    for code, hint in (refused, again):
        assert code == 4500, f"a reconnect during the outage: {code}\n{log}"
        assert hint == {"type": "unavailable", "retry_after_ms": 500}, hint
    assert out_of_order(frames) == 0, frames
    assert readiness[0] == 503 and "channel_layer" in readiness[1]["failing"], readiness
    assert dark < 2.5, f"dashboards live again only {dark:.1f} s after Redis returned"
    assert "were not published" in log  # logged for the administrators
    assert "Traceback" not in log, log
    assert log.count("channel layer (Redis) is unreachable") == 1, log  # once per outage
    assert " 500 " not in log, log


def ready(server: Server) -> tuple[int, dict]:
    """GET /readyz: (status, body)."""
    request = urllib.request.Request(f"{server.http}/readyz")
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            request, timeout=10
        ) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- A reconnect while operators keep posting: ORDER (SPEC §12a) ---------------------------------


async def follow(server: Server, key: str, legacy: bool, drops: int, done: asyncio.Event):
    """A dashboard that reads, drops (the network goes) `drops` times and reconnects: with
    `?last_event_id=` (SPEC §12a), or as older clients did (a `resume` frame after the
    snapshot). Returns the event ids of each socket, in the order they came."""
    sockets: list[list[int]] = []
    ws = await dashboard(server.ws, key)
    try:
        applied = (await recv_json(ws))["last_event_id"]
        for round_ in range(drops + 1):
            frames: list[int] = []
            sockets.append(frames)
            while True:
                if round_ < drops and len(frames) >= 12:
                    break
                try:
                    message = await recv_json(ws, timeout=1.0 if done.is_set() else 10)
                except TimeoutError:
                    if done.is_set():
                        break
                    raise
                if message.get("type") == "snapshot" and frames:
                    raise AssertionError("a second snapshot on one socket")
                if "event_id" in message:
                    frames.append(message["event_id"])
                    applied = max(applied, message["event_id"])
            if round_ == drops:
                break
            ws.transport.abort()
            await asyncio.sleep(0.3)  # away while the operators keep posting
            if legacy:
                ws = await dashboard(server.ws, key)
                await recv_json(ws)  # the snapshot
                await ws.send(json.dumps({"type": "resume", "last_event_id": applied}))
            else:
                ws = await dashboard(f"{server.ws}?last_event_id={applied}", key)
                assert (await recv_json(ws))["type"] == "snapshot"
    finally:
        await close_quietly(ws)
    return sockets


def test_a_reconnecting_dashboard_gets_every_event_once_and_in_order(city, operator, staff_of):
    """Two operators post through the API while two Dishub dashboards drop twice each: one
    reconnects with `?last_event_id=` (SPEC §12a), one as older clients do (`resume`). The
    first gets every event, none twice, and on each socket no lower id after a higher one."""
    keys = [token(operator), token(OperatorFactory())]
    dishub = token(staff_of("dishub"))
    with daphne("order") as server:

        async def scenario():
            done = asyncio.Event()
            created: list[int] = []

            async def keep_posting(key):
                for _ in range(30):
                    status, body, _ = await post(server, key)
                    assert status == 201, body
                    created.append(body["id"])

            followers = [
                asyncio.ensure_future(follow(server, dishub, legacy, 2, done))
                for legacy in (False, True)
            ]
            await asyncio.sleep(0.3)  # both connected
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(keep_posting(k) for k in keys)), PRODUCER_DEADLINE
                )
                done.set()
                current, legacy = await asyncio.wait_for(asyncio.gather(*followers), 30)
            finally:
                await stop_tasks(*followers)
            expected = await asyncio.to_thread(visible_event_ids, created)
            return expected, current, legacy

        expected, current, legacy = asyncio.run(scenario())

    def figures(sockets):
        ids = [i for frames in sockets for i in frames]
        disorder = sum(out_of_order(frames) for frames in sockets)
        return disorder, len(ids) - len(set(ids)), len(expected - set(ids))

    now, before = figures(current), figures(legacy)
    SUMMARY.append(
        f"Reconnect ×2 while 2 operators post ({len(expected)} events): last_event_id: "
        f"{now[0]} out of order, {now[1]} twice, {now[2]} missing; "
        f"legacy resume frame: {before[0]} out of order, {before[1]} twice, {before[2]} missing"
    )
    assert len(current) == 3
    assert now == (0, 0, 0), now
    # Each socket after a reconnect began with missed events, then live ones: in order.
    assert all(frames == sorted(frames) for frames in current)


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
