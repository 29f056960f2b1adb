"""PostgreSQL stopped under load (issue 35 §3), on a PostgreSQL server of the test's own that
really stops: gunicorn (the production HTTP layout) with the default per-user limits, one
operator posting 5 reports a second through the outage, each with an Idempotency-Key.

- The wait is bounded by DB_TIMEOUT in all: the first 503 comes within DB_TIMEOUT (plus a
  margin for the request itself), never the pool wait *and* a connect timeout after it.
- The backlog the outage created (requests queued behind the ones waiting on the database)
  runs when the database returns, and the per-user burst limit does not refuse it with 429.
- Every 201 is a report in the database, once."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection

from .clusters import missing_binaries, single_postgres
from .servers import REPORT, Server, free_port, server_env, token, wait_healthy

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(150),
    pytest.mark.skipif(
        bool(missing_binaries(redis_sentinels=False)),
        reason=f"no local PostgreSQL to stop: {missing_binaries(redis_sentinels=False)}",
    ),
]

DB_TIMEOUT = 3.0
MARGIN = 1.5  # seconds: the request's own work, and starting the 503 response
RATE = 5  # reports a second, as in the fault run
OUTAGE = 8.0  # seconds the database is stopped
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(base: str, key: str) -> tuple[int, float, float, int | None]:
    """One report with a key of its own: (status, sent at, seconds, report id)."""
    request = urllib.request.Request(
        f"{base}/api/v1/reports/",
        data=json.dumps(REPORT).encode(),
        method="POST",
        headers={
            "Authorization": f"Token {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
    )
    sent = time.monotonic()
    try:
        with _http.open(request, timeout=60) as response:
            body = json.loads(response.read())
            return response.status, sent, time.monotonic() - sent, body.get("id")
    except urllib.error.HTTPError as error:
        return error.code, sent, time.monotonic() - sent, None
    except OSError:
        return 0, sent, time.monotonic() - sent, None


def test_a_stopped_database_answers_503_within_db_timeout_and_the_backlog_is_not_throttled(
    city, operator
):
    key = token(operator)
    db = connection.settings_dict
    source = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
              "user": db["USER"] or "postgres", "dbname": db["NAME"]}  # fmt: skip
    with single_postgres() as postgres:
        postgres.copy_from(source, "dispatch112")
        env = {
            **server_env(),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{postgres.port}/dispatch112",
            "DB_TIMEOUT": str(DB_TIMEOUT),
            # The production defaults (server_env lifts them for the other fault tests).
            "API_RATE_LIMIT_BURST": "20/s",
            "API_RATE_LIMIT_SUSTAINED": "600/min",
        }
        server = Server("db-outage", free_port(), env, kind="gunicorn")
        results: list[tuple[int, float, float, int | None]] = []
        lock = threading.Lock()
        try:
            wait_healthy(server)

            def send():
                outcome = post(server.http, key)
                with lock:
                    results.append(outcome)

            with ThreadPoolExecutor(max_workers=150) as pool:
                for _ in range(3):  # before: saved
                    pool.submit(send).result(timeout=30)
                postgres.stop()
                stopped = time.monotonic()
                pending = []
                while time.monotonic() - stopped < OUTAGE:
                    pending.append(pool.submit(send))
                    time.sleep(1 / RATE)
                postgres.start()
                back = time.monotonic()
                while time.monotonic() - back < 3:
                    pending.append(pool.submit(send))
                    time.sleep(1 / RATE)
                for future in pending:
                    future.result(timeout=90)
            log = server.output()
        finally:
            server.stop()

        with psycopg.connect(postgres.dsn.replace("dbname=postgres", "dbname=dispatch112")) as c:
            saved = {row[0] for row in c.execute("SELECT id FROM reports_report")}

    statuses = [status for status, *_ in results]
    unavailable = sorted(sent + seconds for status, sent, seconds, _ in results if status == 503)
    created = [report for status, *_, report in results if status == 201]
    first_503 = unavailable[0] - stopped if unavailable else None
    longest_503 = max((s for status, _, s, _ in results if status == 503), default=0)
    last = [status for status, *_ in sorted(results, key=lambda result: result[1])[-5:]]
    from .test_faults import SUMMARY

    SUMMARY.append(
        f"PostgreSQL stopped {OUTAGE:.0f} s under {RATE} POST/s (gunicorn, DB_TIMEOUT="
        f"{DB_TIMEOUT:g}): first 503 {first_503 or float('nan'):.2f} s after the stop; "
        f"{statuses.count(201)} × 201, {statuses.count(503)} × 503, {statuses.count(429)} × 429, "
        f"{len(statuses) - statuses.count(201) - statuses.count(503) - statuses.count(429)} other; "
        f"longest 503 {longest_503:.1f} s"
    )
    assert set(statuses) <= {201, 503}, f"{statuses}\n{log}"
    assert 429 not in statuses, "the backlog after the outage was throttled"
    assert first_503 is not None and first_503 <= DB_TIMEOUT + MARGIN, (first_503, log)
    assert last == [201] * 5, last  # saving again once it is back
    assert len(created) == len(set(created)) and set(created) <= saved  # each 201 saved once
    assert len(saved) == len(created)  # and nothing saved that was answered with a 503


def test_a_worker_started_while_the_database_is_down_boots_and_answers_503(city, operator):
    """gunicorn replaces a worker during an outage: its warm-up cannot reach the database. It
    must boot and answer 503 (before: the worker failed to boot and gunicorn exited, taking
    every request after it down — CI on 2026-12-07). Here the whole server starts with its
    database stopped; /healthz (liveness) answers, a report gets 503, and once the database is
    started the next report is saved."""
    key = token(operator)
    db = connection.settings_dict
    source = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
              "user": db["USER"] or "postgres", "dbname": db["NAME"]}  # fmt: skip
    with single_postgres() as postgres:
        postgres.copy_from(source, "dispatch112")
        postgres.stop()
        env = {
            **server_env(),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{postgres.port}/dispatch112",
            "DB_TIMEOUT": str(DB_TIMEOUT),
        }
        server = Server("db-down-at-start", free_port(), env, kind="gunicorn")
        try:
            # Booted: it answers (/healthz needs the database: 503 now), and stays up.
            deadline = time.monotonic() + 40
            while post(server.http, key)[0] == 0 and server.process.poll() is None:
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.5)
            assert server.process.poll() is None, server.output()
            status, _, seconds, _ = post(server.http, key)
            assert status == 503, (status, server.output())
            assert seconds <= DB_TIMEOUT + MARGIN, seconds
            postgres.start()
            deadline = time.monotonic() + 20
            while (status := post(server.http, key)[0]) != 201 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert status == 201, server.output()
            assert server.process.poll() is None, server.output()
            log = server.output()
        finally:
            server.stop()
    assert "Started without the database" in log
    assert "Worker failed to boot" not in log
