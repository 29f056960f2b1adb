"""No single point that takes the centre dark (issue 35 §5), tested for real: a PostgreSQL
primary with a streaming replica and a Redis master with a replica and three sentinels, on
this machine (tests/clusters.py); Daphne on the multi-host DATABASE_URL
(target_session_attrs=read-write) and REDIS_SENTINELS. While an operator keeps posting
reports (each with an Idempotency-Key, sent again with the same key until it is answered, as
the console does) and a Dishub dashboard follows them (reconnecting with ?last_event_id=),
the Redis master dies and the sentinels promote its replica, then the PostgreSQL primary dies
and its replica is promoted. Every report the operator sent is saved once, and the dashboard
has every event of them, in order on each socket."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid

import psycopg
import pytest
from django.db import connection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from .clusters import failover_set, missing_binaries
from .servers import REPORT, Server, dashboard, free_port, server_env, token, wait_healthy
from .test_faults import SUMMARY
from .test_live_order import out_of_order
from .waiting import close_quietly, recv_json, run_bounded, stop_tasks

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        bool(missing_binaries()), reason=f"no local failover set-up: {missing_binaries()}"
    ),
]

_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
RETRY_FOR = 30.0  # seconds a report is sent again (same key) before the test gives up on it


def send_until_answered(base: str, key: str, deadline: float) -> tuple[int, float]:
    """One report, sent again with the same Idempotency-Key while the answer is an outage
    (503, a refused or cut connection): (its id, seconds until it was saved)."""
    idempotency_key = uuid.uuid4().hex
    start = time.monotonic()
    while True:
        request = urllib.request.Request(
            f"{base}/api/v1/reports/",
            data=json.dumps(REPORT).encode(),
            method="POST",
            headers={"Authorization": f"Token {key}", "Content-Type": "application/json",
                     "Idempotency-Key": idempotency_key},
        )  # fmt: skip
        try:
            with _http.open(request, timeout=10) as response:
                return json.loads(response.read())["id"], time.monotonic() - start
        except urllib.error.HTTPError as error:
            if error.code not in (502, 503, 504):
                raise AssertionError(f"{error.code}: {error.read()[:300]!r}") from None
        except OSError:
            pass  # the answer was lost: the same key again
        if time.monotonic() > deadline:
            raise TimeoutError("a report was never saved")
        time.sleep(0.3)


async def follow(server: Server, key: str, done: asyncio.Event, sockets: list[list[int]]):
    """A dashboard that reconnects with ?last_event_id= whenever its socket ends (as live.js
    does, waiting the server's hint); fills `sockets`: the event ids of each, in order."""
    applied = 0
    while not done.is_set():
        ws = None
        try:
            url = f"{server.ws}?last_event_id={applied}" if applied else server.ws
            ws = await dashboard(url, key)
            first = await recv_json(ws, timeout=5)
            if first.get("type") != "snapshot":
                await asyncio.sleep(first.get("retry_after_ms", 500) / 1000)
                continue
            applied = max(applied, first.get("last_event_id") or 0)
            frames: list[int] = []
            sockets.append(frames)
            while True:
                try:
                    message = await recv_json(ws, timeout=1)
                except TimeoutError:
                    if done.is_set():
                        break
                    continue
                if "event_id" in message:
                    frames.append(message["event_id"])
                    applied = max(applied, message["event_id"])
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
            await asyncio.sleep(0.3)
        finally:
            if ws is not None:
                await close_quietly(ws)


def test_a_postgres_and_a_redis_failover_lose_no_report(city, operator, staff_of):
    operator_key, dishub_key = token(operator), token(staff_of("dishub"))
    db = connection.settings_dict
    source = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
              "user": db["USER"] or "postgres", "dbname": db["NAME"]}  # fmt: skip
    with failover_set() as (pg, sentinels):
        pg.primary.copy_from(source, "dispatch112")
        env = {
            **server_env(),
            "DATABASE_URL": pg.url("dispatch112"),
            "REDIS_URL": "",
            "REDIS_SENTINELS": sentinels.addresses,
            "DB_TIMEOUT": "3",
        }
        server = Server("failover", free_port(), env)
        try:
            wait_healthy(server)

            async def scenario():
                done = asyncio.Event()
                sockets: list[list[int]] = []
                follower = asyncio.ensure_future(follow(server, dishub_key, done, sockets))
                saved: list[tuple[int, float]] = []
                timings = {}

                async def post(count: int):
                    for _ in range(count):
                        deadline = time.monotonic() + RETRY_FOR
                        saved.append(
                            await asyncio.to_thread(
                                send_until_answered, server.http, operator_key, deadline
                            )
                        )

                try:
                    # The dashboard has its snapshot (the events to come are all live), then
                    # has applied events (its reconnects resume from them) before any fault.
                    deadline = time.monotonic() + 15
                    while not sockets and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                    await post(3)
                    while sum(map(len, sockets)) < 9 and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                    posting = asyncio.ensure_future(post(12))
                    timings["redis"] = await asyncio.to_thread(sentinels.fail_over)
                    await asyncio.wait_for(posting, 4 * RETRY_FOR)
                    posting = asyncio.ensure_future(post(12))
                    timings["postgres"] = await asyncio.to_thread(pg.fail_over)
                    await asyncio.wait_for(posting, 4 * RETRY_FOR)
                    await post(3)  # and live afterwards
                    await asyncio.sleep(2)  # the last events reach the dashboard
                    done.set()
                    await asyncio.wait_for(follower, 15)
                finally:
                    await stop_tasks(follower)
                return saved, sockets, timings

            try:
                saved, sockets, timings = run_bounded(scenario())
            except (AssertionError, TimeoutError) as error:
                pytest.fail(f"{error}\n{server.output()}")
            log = server.output()
        finally:
            server.stop()

        ids = [report for report, _ in saved]
        with psycopg.connect(pg.replica.dsn.replace("dbname=postgres", "dbname=dispatch112")) as c:
            stored = [row[0] for row in c.execute("SELECT id FROM reports_report")]
            events = {
                row[0]
                for row in c.execute(
                    "SELECT id FROM reports_event WHERE report_id = ANY(%s)", (ids,)
                )
            }
    seen = [event for frames in sockets for event in frames]
    missing = events - set(seen)
    disorder = sum(out_of_order(frames) for frames in sockets)
    SUMMARY.append(
        f"Failover (Redis master → replica in {timings['redis']:.1f} s, PostgreSQL primary → "
        f"replica in {timings['postgres']:.1f} s) under a stream of reports: {len(ids)} sent, "
        f"{len(set(ids) - set(stored))} lost, {len(stored) - len(set(stored))} twice; "
        f"dashboard: {len(sockets)} sockets, {len(missing)} events missing, {disorder} out of "
        f"order; longest report {max(s for _, s in saved):.1f} s; "
        f"{log.count('Traceback')} tracebacks in the server's log"
    )
    assert len(ids) == 30 and set(ids) <= set(stored), (ids, stored, log)  # none lost
    assert len(stored) == len(set(stored)) == len(set(ids)), stored  # none twice
    assert missing == set(), f"{len(missing)} events never reached the dashboard\n{log}"
    assert disorder == 0 and len(seen) == len(set(seen)), sockets
