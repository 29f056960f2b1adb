"""Notification latency: from the operator's POST /api/v1/reports/ to the event arriving at
each relevant agency dashboard (SPEC §5), in production mode (PostgreSQL + Redis, gunicorn +
Daphne), with 200 connected dashboards spread over the 9 agencies. The operator's client runs
in a process of its own, so that it does not share a GIL with the dashboards' event loop
(time.perf_counter is the system's monotonic clock: comparable across processes).

Baseline, measured in the same run at the same pace: a bare psycopg INSERT + COMMIT of one
report row, then a Redis PUBLISH of a payload of the same size, to one redis-py subscriber;
latency = insert start → message received.

A report's relevant dashboards are those whose agency has an assignment on it; the latency
of a (report, dashboard) pair is the first event of that report arriving there − POST start.
Events that never arrive where expected (missing) and events reaching a dashboard whose agency
is not on the report (leaks) are counted; both must be 0.

Layouts (the README's): the operator posts to gunicorn (BENCH_HTTP_WORKERS, 4, the HTTP
processes); the dashboards are on one Daphne process, then on two (alternating), unless
BENCH_NOTIFY_LAYOUTS=1 (tiny: 2 only). Knobs: BENCH_NOTIFY_REPORTS (600; tiny 20),
BENCH_NOTIFY_RATE (reports/s, 20), BENCH_NOTIFY_DASHBOARDS (200; tiny 9)."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import insert_sql, knob, pick, require  # noqa: E402
from benchmarks.intake import DEFAULT_URL as DEFAULT_DATABASE_URL  # noqa: E402
from benchmarks.intake import ensure_database, percentile  # noqa: E402

N = knob("BENCH_NOTIFY_REPORTS", 600, tiny=20)  # 30 s at 20/s; tiny 1 s
RATE = knob("BENCH_NOTIFY_RATE", 20.0)
DASHBOARDS = knob("BENCH_NOTIFY_DASHBOARDS", 200, tiny=9)  # tiny: one per agency
LAYOUTS = [int(x) for x in knob("BENCH_NOTIFY_LAYOUTS", "1,2", tiny="2").split(",") if x]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/" + pick("14", "13")  # the benchmarks' own
ENVIRONMENT = {
    "DATABASE_URL": DEFAULT_DATABASE_URL,
    "REDIS_URL": DEFAULT_REDIS_URL,
    "SECRET_KEY": "benchmark-only",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_COOKIES": "false",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is the proxy's in production
    "ENV_FILE": "/nonexistent",
    "LOG_LEVEL": "WARNING",
    # One operator account posts at machine speed: the per-user API limits would refuse it.
    "API_RATE_LIMIT_BURST": "none",
    "API_RATE_LIMIT_SUSTAINED": "none",
    "DJANGO_SETTINGS_MODULE": "dispatch112.settings",
}
# Categories with default agencies (SPEC §3), rotated over the reports.
CATEGORIES = [
    "kemacetan",
    "kecelakaan",
    "kebakaran",
    "banjir",
    "pohon_tumbang",
    "korsleting",
    "kamtibmas",
]
OPERATOR = "bench-notify-operator"
STAFF = "bench-notify-staff-{:02d}"
PAYLOAD_PAD = 2000  # bytes of the baseline's message, about one live event's size
SERVER_START_TIMEOUT = 30.0
CONNECT_TIMEOUT = 90.0
DRAIN_TIMEOUT = 15.0
LEAK_GRACE = pick(1.0, 0.5)
SETTLE = pick(1.0, 0.5)
CLEANUP_LIMIT = 5000
APP = "dispatch112.asgi:application"
WSGI_APP = "dispatch112.wsgi:application"
# The README's layout on 2 cores: gunicorn with this many workers for HTTP (pages, API).
HTTP_WORKERS = knob("BENCH_HTTP_WORKERS", 4, tiny=2)


# --- Setup ----------------------------------------------------------------------------------
def setup_django() -> None:
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", no_users=True, verbosity=0)
    clear_channel_layer()


def clear_channel_layer() -> None:
    """Empties the benchmarks' own Redis database: group members left by earlier runs' killed
    servers would make every publish of this run pay for thousands of dead channels (about
    2 ms per report) until they expire (CHANNEL_GROUP_EXPIRY)."""
    import redis

    url = os.environ["REDIS_URL"]
    if url != DEFAULT_REDIS_URL:
        print(f"REDIS_URL is not the benchmarks' own database: {url} is left as it is")
        return
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def setup_users(count: int) -> tuple[str, list[tuple[str, str]]]:
    """The operator's token, and (agency code, token) per dashboard user, round-robin over
    the agencies."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from agencies.models import Agency, AgencyMember
    from agencies.roles import OPERATOR_GROUP

    operator, _ = User.objects.get_or_create(username=OPERATOR)
    operator.groups.add(Group.objects.get_or_create(name=OPERATOR_GROUP)[0])
    agencies = list(Agency.objects.filter(active=True).order_by("code"))
    staff = []
    for i in range(count):
        user, _ = User.objects.get_or_create(username=STAFF.format(i))
        agency = agencies[i % len(agencies)]
        AgencyMember.objects.update_or_create(user=user, defaults={"agency": agency})
        staff.append((agency.code, Token.objects.get_or_create(user=user)[0].key))
    return Token.objects.get_or_create(user=operator)[0].key, staff


def close_leftovers() -> int:
    """Closes, through the service, open reports left by earlier benchmark runs (this one's
    and intake's), so that dashboards' snapshots stay the same size from run to run."""
    from django.contrib.auth.models import User

    from reports import services
    from reports.models import Report, ReportStatus

    operator = User.objects.get(username=OPERATOR)
    ids = list(
        Report.objects.filter(
            status=ReportStatus.OPEN, operator__username__in=[OPERATOR, "bench-operator"]
        ).values_list("pk", flat=True)[:CLEANUP_LIMIT]
    )
    for pk in ids:
        services.report_close(actor=operator, report=pk, reason="information", note="benchmark")
    return len(ids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path


def start_servers(count: int, logdir: Path, kind: str = "daphne") -> list[Server]:
    """`count` Daphne processes, or one gunicorn (HTTP) with `count` workers."""
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in ENVIRONMENT.items()}}
    servers = []
    for i in range(1 if kind == "gunicorn" else count):
        port = free_port()
        log = logdir / f"{kind}-{i + 1}.log"
        if kind == "gunicorn":
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:dispatch112.gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(count),
                WSGI_APP,
            ]
        else:
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
            command += ["--websocket_connect_timeout", "30", APP]  # as in docker-compose.yml
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )  # fmt: skip
        servers.append(Server(port, process, log))
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    for server in servers:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"{kind} exited early:\n{server.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind} not healthy:\n{server.log.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
                conn.close()
            except OSError:
                pass
            time.sleep(0.1)
    return servers


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


# --- The measured run ------------------------------------------------------------------------
@dataclass
class Post:
    index: int
    start: float
    end: float
    status: int
    number: str | None = None
    agencies: frozenset[str] = frozenset()


@dataclass
class Dashboard:
    index: int
    agency: str
    port: int
    # (receive time, raw frame): stamped on arrival, decoded after the run, so that the
    # measuring client spends as little as possible between two frames.
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    snapshot_assignments: int = 0
    error: str | None = None

    def received(self) -> list[tuple[float, int | None, str, str | None, frozenset[str]]]:
        """(receive time, event id, type, report number, report's agencies) per frame."""
        out = []
        for now, raw in self.frames:
            event = json.loads(raw)
            report = event.get("report") or {}
            agencies = frozenset(a["agency"] for a in report.get("assignments", []))
            out.append(
                (now, event.get("event_id"), event.get("type", "?"), report.get("number"),
                 agencies)
            )  # fmt: skip
        return out


def post_reports(port: int, token: str, count: int, rate: float, stop_at: float) -> list[Post]:
    """The operator: `count` reports at `rate` per second on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    run = uuid.uuid4().hex[:6]
    posts = []
    begin = time.perf_counter()
    for i in range(count):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() > stop_at:
            break
        body = json.dumps(
            {
                "caller_phone": f"0812{i % 10}{int(run, 16) % 100000:05d}{i % 1000:03d}",
                "caller_name": "Pelapor Benchmark",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "description": f"Benchmark notifikasi {run} #{i}",
                "address": "Jl. Pemuda No. 1",
                "kecamatan": "semarang_tengah",
            }
        )
        start = time.perf_counter()
        conn.request("POST", "/api/v1/reports/", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        post = Post(i, start, time.perf_counter(), response.status)
        if response.status == 201:
            report = json.loads(data)
            post.number = report["number"]
            post.agencies = frozenset(a["agency"] for a in report["assignments"])
        posts.append(post)
    conn.close()
    return posts


async def run_dashboard(
    dashboard: Dashboard, token: str, connected: asyncio.Queue, stop: asyncio.Event
) -> None:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{dashboard.port}/ws/events/"
    try:
        async with connect(
            url,
            additional_headers={"Authorization": f"Token {token}"},
            max_size=None,
            open_timeout=CONNECT_TIMEOUT,
        ) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
            if snapshot.get("type") != "snapshot":
                raise RuntimeError(f"first message is {snapshot.get('type')!r}")
            dashboard.snapshot_assignments = len(snapshot["assignments"])
            await connected.put(dashboard.index)
            frames = dashboard.frames

            async def pump() -> None:
                while True:
                    raw = await ws.recv(decode=False)
                    frames.append((time.perf_counter(), raw))

            pumping = asyncio.ensure_future(pump())
            try:
                await stop.wait()
            finally:
                pumping.cancel()
                if pumping.done() and not pumping.cancelled() and pumping.exception():
                    raise pumping.exception()
    except Exception as exc:
        dashboard.error = f"{type(exc).__name__}: {exc}"
        await connected.put(dashboard.index)


async def run_layout(
    http_port: int, ports: list[int], operator_token: str, staff: list[tuple[str, str]]
) -> tuple[list[Post], list[Dashboard], float]:
    """The operator posts to the HTTP server; the dashboards spread over the Daphne `ports`."""
    dashboards = [
        Dashboard(i, agency, ports[i % len(ports)]) for i, (agency, _) in enumerate(staff)
    ]
    connected: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()
    # The measuring client's own garbage collections (tens of ms with this many frames kept)
    # would be counted as the product's latency: none while measuring.
    gc.collect()
    gc.disable()
    began = time.perf_counter()
    tasks = [
        asyncio.ensure_future(run_dashboard(d, token, connected, stop))
        for d, (_, token) in zip(dashboards, staff, strict=True)
    ]
    try:
        for _ in dashboards:
            await asyncio.wait_for(connected.get(), CONNECT_TIMEOUT)
        connect_seconds = time.perf_counter() - began
        failed = [d for d in dashboards if d.error]
        if failed:
            raise RuntimeError(f"{len(failed)} dashboards failed: {failed[0].error}")
        stop_at = time.monotonic() + N / RATE + 60
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            posts = await asyncio.get_running_loop().run_in_executor(
                pool, post_reports, http_port, operator_token, N, RATE, stop_at
            )
        # Wait until every expected (report, dashboard) pair arrived, bounded in time.
        expected = {
            (p.number, d.index)
            for p in posts
            if p.number
            for d in dashboards
            if d.agency in p.agencies
        }
        # Frames are only stamped while they arrive; decoding them all for the check below
        # would hold this loop (and the last reports' frames) for a while: let them land.
        await asyncio.sleep(SETTLE)
        deadline = time.monotonic() + DRAIN_TIMEOUT
        arrived: set[tuple[str | None, int]] = set()
        decoded = [0] * len(dashboards)
        while time.monotonic() < deadline:
            for d in dashboards:
                new = d.frames[decoded[d.index] :]
                decoded[d.index] += len(new)
                arrived.update(
                    ((json.loads(raw).get("report") or {}).get("number"), d.index) for _, raw in new
                )
            if expected <= arrived:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(LEAK_GRACE)  # anything that should not come, comes now
    finally:
        gc.enable()
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
    return posts, dashboards, connect_seconds


@dataclass
class Result:
    latencies: list[float]
    own_assignment: list[float]
    post_round_trip: list[float]
    posts: int
    failed_posts: int
    pairs: int
    missing: int
    leaks: int
    extra: int
    out_of_order: int
    snapshot_sizes: tuple[int, int]
    connect_seconds: float


def analyse(posts: list[Post], dashboards: list[Dashboard], connect_seconds: float) -> Result:
    by_number = {p.number: p for p in posts if p.number}
    latencies, own, missing, pairs = [], [], 0, 0
    leaks = extra = out_of_order = 0
    for d in dashboards:
        first: dict[str, float] = {}
        own_created: dict[str, float] = {}
        count: dict[str, int] = defaultdict(int)
        last_id = 0
        for received, event_id, kind, number, report_agencies in d.received():
            post = by_number.get(number)
            agencies = post.agencies if post else report_agencies
            if d.agency not in agencies:
                leaks += 1
                continue
            if event_id is not None:
                out_of_order += event_id <= last_id
                last_id = max(last_id, event_id)
            if post is None:
                continue  # someone else's report, visible to this agency: not ours to time
            count[number] += 1
            first.setdefault(number, received)
            if kind == "assignment.created":
                own_created.setdefault(number, received)
        for number, post in by_number.items():
            if d.agency not in post.agencies:
                continue
            pairs += 1
            if number not in first:
                missing += 1
                continue
            latencies.append(first[number] - post.start)
            if number in own_created:
                own.append(own_created[number] - post.start)
            # One report.created plus one assignment.created per agency on the report.
            extra += max(0, count[number] - (1 + len(post.agencies)))
    sizes = [d.snapshot_assignments for d in dashboards]
    return Result(
        latencies=latencies,
        own_assignment=own,
        post_round_trip=[p.end - p.start for p in posts if p.status == 201],
        posts=len(posts),
        failed_posts=sum(p.status != 201 for p in posts),
        pairs=pairs,
        missing=missing,
        leaks=leaks,
        extra=extra,
        out_of_order=out_of_order,
        snapshot_sizes=(min(sizes), max(sizes)),
        connect_seconds=connect_seconds,
    )


# --- Baseline --------------------------------------------------------------------------------
def measure_baseline(count: int, rate: float) -> list[float]:
    """Bare psycopg INSERT of one report row + COMMIT, then PUBLISH to a redis-py subscriber
    (in a thread); insert start → message received."""
    import psycopg
    import redis
    from django.contrib.auth.models import User

    from agencies.models import Category, Kecamatan
    from reports.models import Report

    category = Category.objects.get(code="kemacetan")
    kecamatan = Kecamatan.objects.get(code="semarang_tengah")
    operator = User.objects.get(username=OPERATOR)
    run = uuid.uuid4().hex[:12]
    channel = f"bench-notify-{run}"
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    pubsub = client.pubsub()
    pubsub.subscribe(channel)
    confirmed = pubsub.get_message(timeout=5)
    if not confirmed or confirmed["type"] != "subscribe":
        raise RuntimeError(f"redis subscribe not confirmed: {confirmed!r}")
    received: dict[int, float] = {}
    stop_at = time.monotonic() + count / rate + 30
    insert = insert_sql(
        Report,
        {"number": "%s", "caller_name": "%s", "caller_phone": "%s", "category_id": "%s",
         "priority": "%s", "description": "%s", "address": "%s", "kecamatan_id": "%s",
         "received_at": "now()", "operator_id": "%s"},
        returning="id",
    )  # fmt: skip

    def listen() -> None:
        while len(received) < count and time.monotonic() < stop_at:
            message = pubsub.get_message(timeout=0.5)
            if message and message["type"] == "message":
                now = time.perf_counter()
                received[json.loads(message["data"])["i"]] = now

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    starts = {}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        begin = time.perf_counter()
        for i in range(count):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            start = time.perf_counter()
            with conn.transaction():
                (report_id,) = conn.execute(
                    insert,
                    [f"NLB-{run}-{i}", "Pelapor", f"+628123{i:07d}", category.pk, 3,
                     "Kemacetan", "Jl. Pemuda", kecamatan.pk, operator.pk],
                ).fetchone()  # fmt: skip
            payload = json.dumps({"i": i, "report": report_id, "pad": "x" * PAYLOAD_PAD})
            client.publish(channel, payload)
            starts[i] = start
        listener.join(timeout=max(1.0, stop_at - time.monotonic()))
        # The baseline's rows have no assignments, events or calls: remove them again.
        with conn.transaction():
            conn.execute("DELETE FROM reports_report WHERE number LIKE %s", [f"NLB-{run}-%"])
    pubsub.close()
    client.close()
    missing = count - len(received)
    if missing:
        print(f"baseline: {missing} of {count} messages never arrived")
    return [received[i] - starts[i] for i in sorted(received)]


# --- Report ----------------------------------------------------------------------------------
def row(label: str, samples: list[float], baseline: list[float] | None) -> str:
    if not samples:
        return f"{label:38}{'(no samples)':>10}"
    median, p95, p99 = (percentile(samples, q) * 1000 for q in (0.5, 0.95, 0.99))
    line = (
        f"{label:38}{len(samples):>7}{median:>9.2f}{p95:>9.2f}{p99:>9.2f}"
        f"{max(samples) * 1000:>9.2f}"
    )
    if baseline:
        line += (
            f"{statistics.median(samples) / statistics.median(baseline):>9.1f}×"
            f"{percentile(samples, 0.99) / percentile(baseline, 0.99):>8.1f}×"
        )
    return line


def main() -> None:
    setup_django()
    operator_token, staff = setup_users(DASHBOARDS)
    closed = close_leftovers()
    baseline = measure_baseline(N, RATE)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as logdir:
        for processes in LAYOUTS:
            http = start_servers(HTTP_WORKERS, Path(logdir), kind="gunicorn")
            servers = start_servers(processes, Path(logdir))
            try:
                posts, dashboards, connect_seconds = asyncio.run(
                    run_layout(http[0].port, [s.port for s in servers], operator_token, staff)
                )
            except Exception:
                for server in http + servers:
                    print(f"--- {server.log.name} ---\n{server.log.read_text()[-4000:]}")
                raise
            finally:
                stop_servers(servers + http)
            results[processes] = analyse(posts, dashboards, connect_seconds)
            closed += close_leftovers()

    agencies = defaultdict(int)
    for code, _ in staff:
        agencies[code] += 1
    print(
        f"\nNotification latency: {N} reports via POST /api/v1/reports/ at {RATE:g}/s, "
        f"{len(staff)} agency dashboards on /ws/events/, PostgreSQL + Redis"
    )
    print("dashboards per agency: " + ", ".join(f"{c} {n}" for c, n in sorted(agencies.items())))
    print(f"categories rotated: {', '.join(CATEGORIES)}; leftover reports closed: {closed}")
    header = f"{'':38}{'n':>7}{'median':>9}{'p95':>9}{'p99':>9}{'max':>9}"
    print(f"{header}{'× median':>10}{'× p99':>9}   (ms; ratios to the baseline)")
    print(row("baseline INSERT+COMMIT → PUBLISH → sub", baseline, None))
    for processes, result in results.items():
        layout = f"operator → gunicorn ({HTTP_WORKERS} workers); {DASHBOARDS} dashboards on " + (
            "1 Daphne process" if processes == 1 else f"{processes} Daphne processes"
        )
        low, high = result.snapshot_sizes
        print(
            f"-- {layout}; dashboards connected in {result.connect_seconds:.1f} s, "
            f"snapshot {low}–{high} assignments"
        )
        print(row("POST → first event at dashboard", result.latencies, baseline))
        print(row("POST → own assignment.created", result.own_assignment, baseline))
        print(row("POST round trip (201)", result.post_round_trip, baseline))
        print(
            f"   reports {result.posts} (failed {result.failed_posts}), expected (report, "
            f"dashboard) pairs {result.pairs}: missing {result.missing}, leaks {result.leaks}, "
            f"extra {result.extra}, out of order {result.out_of_order}"
        )
    require(bool(baseline), "notify_latency: the baseline's subscriber received nothing")
    for processes, result in results.items():
        require(bool(result.latencies), f"notify_latency ({processes} Daphne): no notification")


if __name__ == "__main__":
    main()
