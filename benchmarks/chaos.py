"""`make chaos` (issue 35 §5–6): every fault of the issue, one at a time, under load, on the
highly available layout started on this machine — a PostgreSQL primary with a synchronous
streaming replica, a Redis master with a replica and three sentinels (tests/clusters.py),
gunicorn (2 workers) for the API, two Daphne processes for the websockets, a Celery worker and
beat, all on the multi-host DATABASE_URL and REDIS_SENTINELS (docs/FAILOVER.md).

Load: one operator posts CHAOS_RATE reports a second (each with an Idempotency-Key, sent
again with the same key after a 503, a 502 or a lost answer, as the console does), and
CHAOS_DASHBOARDS Dishub dashboards follow them over websockets, each reconnecting to either
Daphne with ?last_event_id= (the server's hint, jittered, at most 2 s: live.js).

Faults, in order: a Daphne killed, the worker killed, beat killed, answers lost after a POST,
the Redis master killed (the sentinels promote the replica), Redis stopped (every data node)
for CHAOS_OUTAGE seconds, PostgreSQL stopped for CHAOS_OUTAGE seconds, the PostgreSQL primary
killed (its replica promoted). Per fault: POSTs ok/failed, reports lost and twice, events
missing after resume, out of order, the longest dashboard outage, how long after the part
returned the last dashboard was live again, the longest POST, tracebacks in the logs.

CHAOS_TINY=1 (or BENCH_TINY=1): 3 dashboards, 2 reports/s, 4-s outages — about two minutes.
Every process is started in a session of its own and killed with its group at the end."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.clusters import (  # noqa: E402
    failover_set,
    free_port,
    kill_group,
    missing_binaries,
)

TINY = any(os.environ.get(name, "") not in ("", "0") for name in ("CHAOS_TINY", "BENCH_TINY"))


def knob(name: str, default, tiny):
    raw = os.environ.get(name, "").strip()
    return type(default)(raw) if raw else (tiny if TINY else default)


RATE = knob("CHAOS_RATE", 4.0, 2.0)  # reports a second
DASHBOARDS = knob("CHAOS_DASHBOARDS", 8, 3)
OUTAGE = knob("CHAOS_OUTAGE", 10.0, 4.0)  # seconds Redis / PostgreSQL stay stopped
SETTLE = knob("CHAOS_SETTLE", 6.0, 4.0)  # seconds of plain load after each fault
RETRY_FOR = 60.0  # seconds a report is sent again with its key before it counts as lost
# The operator closes each report this long after it was saved: an agency's open assignments
# stay a hundred or so, as in a busy shift (a snapshot past 1 MB could not be sent at all),
# and a report is still open when dashboards resume after any fault (a closed one's earlier
# events are no longer theirs to receive: reports.access).
CLOSE_AFTER = knob("CHAOS_CLOSE_AFTER", 30.0, 20.0)
REPORT = {
    "caller_phone": "081234567890",
    "category": "kemacetan",  # Dishub + Polrestabes: every dashboard (Dishub) sees it
    "address": "Jl. Pemuda",
    "kecamatan": "semarang_tengah",
}
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- The application's processes ----------------------------------------------------------------


class Process:
    def __init__(self, name: str, args: list[str], env: dict, root: Path, health: str = ""):
        self.name, self.args, self.env, self.health = name, args, env, health
        self.log = root / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, wait: float = 40) -> Process:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + wait
        while self.health:
            try:
                with _http.open(self.health, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        kill_group(self.process)
        self.process = None

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback") if self.log.exists() else 0


def app_processes(root: Path, env: dict) -> dict[str, Process]:
    python = sys.executable
    web, ws1, ws2 = free_port(), free_port(), free_port()
    daphne = [python, "-m", "daphne", "-b", "127.0.0.1", "--websocket_connect_timeout", "30"]
    return {
        "gunicorn": Process(
            "gunicorn",
            [
                python,
                "-m",
                "gunicorn",
                "-c",
                "python:dispatch112.gunicorn",
                "--bind",
                f"127.0.0.1:{web}",
                "--workers",
                "2",
                "dispatch112.wsgi:application",
            ],
            env,
            root,
            f"http://127.0.0.1:{web}/healthz",
        ),
        "daphne-1": Process(
            "daphne-1",
            [*daphne, "-p", str(ws1), "dispatch112.asgi:application"],
            env,
            root,
            f"http://127.0.0.1:{ws1}/healthz",
        ),
        "daphne-2": Process(
            "daphne-2",
            [*daphne, "-p", str(ws2), "dispatch112.asgi:application"],
            env,
            root,
            f"http://127.0.0.1:{ws2}/healthz",
        ),
        "worker": Process(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "dispatch112",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "1",
                "-n",
                f"chaos-{os.getpid()}@%h",
            ],
            env,
            root,
        ),
        "beat": Process(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "dispatch112",
                "beat",
                "-l",
                "info",
                "-s",
                str(root / "celerybeat-schedule"),
            ],
            env,
            root,
        ),
    }


def prepare(env: dict) -> tuple[str, str]:
    """Migrates and seeds the new database; (operator token, Dishub staff token)."""
    script = (
        "from django.core.management import call_command\n"
        "from django.contrib.auth.models import Group, User\n"
        "from rest_framework.authtoken.models import Token\n"
        "from agencies.models import Agency, AgencyMember\n"
        "from agencies.roles import OPERATOR_GROUP\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('seed_demo', no_users=True, verbosity=0)\n"
        "operator = User.objects.create(username='chaos-operator')\n"
        "operator.groups.add(Group.objects.get_or_create(name=OPERATOR_GROUP)[0])\n"
        "staff = User.objects.create(username='chaos-dishub')\n"
        "AgencyMember.objects.create(user=staff, agency=Agency.objects.get(code='dishub'))\n"
        "print(Token.objects.create(user=operator).key, Token.objects.create(user=staff).key)\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"setting up the database failed:\n{done.stderr[-3000:]}")
    operator, staff = done.stdout.split()[-2:]
    return operator, staff


# --- Load: the operator -------------------------------------------------------------------------


@dataclass
class Attempt:
    at: float  # monotonic time sent
    seconds: float
    status: int  # 0: no answer (refused, cut, timed out)


@dataclass
class Sent:
    key: str
    started: float
    attempts: list[Attempt] = field(default_factory=list)
    report: int | None = None
    closed: bool = False


def post_once(
    base: str, token: str, key: str, lose_answer: bool = False
) -> tuple[int, dict, float]:
    """(status, body, the Retry-After the server asked for; 0 when none)."""
    body = json.dumps({**REPORT, "description": f"Macet total {key}"}).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json",
               "Idempotency-Key": key}  # fmt: skip
    if lose_answer:
        # The request reaches the server whole; its answer never reaches us.
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("POST", "/api/v1/reports/", body=body, headers=headers)
        time.sleep(0.05)
        connection.sock.close()
        return 0, {}, 0.0
    request = urllib.request.Request(
        f"{base}/api/v1/reports/", data=body, method="POST", headers=headers
    )
    try:
        with _http.open(request, timeout=15) as response:
            return response.status, json.loads(response.read()), 0.0
    except urllib.error.HTTPError as error:
        return error.code, {}, float(error.headers.get("Retry-After") or 0)


def send(base: str, token: str, sent: Sent, lose_first: bool = False) -> None:
    """Sends one report until it is answered with 201 (same key each time), for RETRY_FOR: as
    the console does, again after a lost answer (1 s) or after the Retry-After the server
    asked for (a 503 or a 429)."""
    while time.monotonic() - sent.started < RETRY_FOR:
        start = time.monotonic()
        try:
            status, body, retry_after = post_once(
                base, token, sent.key, lose_first and not sent.attempts
            )
        except OSError:
            status, body, retry_after = 0, {}, 0.0
        sent.attempts.append(Attempt(start, time.monotonic() - start, status))
        if status == 201:
            sent.report = body["id"]
            break
        if status not in (0, 429, 502, 503, 504):
            return  # an answer that a retry would not change: counted as failed
        time.sleep(min(10.0, max(1.0, retry_after)))
    if sent.report is not None:
        time.sleep(CLOSE_AFTER)
        close(base, token, sent)


def close(base: str, token: str, sent: Sent) -> None:
    """Closes the report (resolved), again after an outage, until it is closed."""
    body = json.dumps({"reason": "resolved"}).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    deadline = time.monotonic() + RETRY_FOR
    while time.monotonic() < deadline:
        request = urllib.request.Request(
            f"{base}/api/v1/reports/{sent.report}/close/", data=body, method="POST",
            headers=headers,
        )  # fmt: skip
        try:
            with _http.open(request, timeout=15) as response:
                sent.closed = response.status == 200
                return
        except urllib.error.HTTPError as error:
            if error.code in (400, 409):  # closed already (an earlier answer was lost)
                sent.closed = True
                return
        except OSError:
            pass
        time.sleep(0.5)


class Operator:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.sent: list[Sent] = []
        self.lose_answers = 0  # the next N reports lose their first answer
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=200)
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(1 / RATE):
            sent = Sent(uuid.uuid4().hex, time.monotonic())
            lose = self.lose_answers > 0
            self.lose_answers -= lose
            self.sent.append(sent)
            self.pool.submit(send, self.base, self.token, sent, lose)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.pool.shutdown(wait=True)  # each send ends within RETRY_FOR + one timeout


# --- Load: the dashboards -----------------------------------------------------------------------


@dataclass
class Dashboard:
    sockets: list[list[tuple[float, int]]] = field(default_factory=list)  # (time, event id)
    dark: list[tuple[float, float]] = field(default_factory=list)  # (from, to) without a socket
    applied: int = 0
    live: bool = False


async def follow(dashboard: Dashboard, urls: list[str], token: str, stop: asyncio.Event, turn: int):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    dark_since: float | None = None
    while not stop.is_set():
        url = urls[turn % len(urls)]
        turn += 1  # the next try goes to the other Daphne, as the proxy would send it
        if dashboard.applied:
            url += f"?last_event_id={dashboard.applied}"
        wait = 0.5
        try:
            async with connect(
                url, additional_headers={"Authorization": f"Token {token}"}, proxy=None,
                open_timeout=5, close_timeout=2,
            ) as ws:  # fmt: skip
                # A snapshot behind a burst of reconnects is slow, not lost (Daphne: 30 s).
                first = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if first.get("type") != "snapshot":
                    wait = first.get("retry_after_ms", 1000) / 1000
                    raise ConnectionError("refused")
                if dark_since is not None:
                    dashboard.dark.append((dark_since, time.monotonic()))
                    dark_since = None
                dashboard.applied = max(dashboard.applied, first.get("last_event_id") or 0)
                dashboard.live = True
                frames: list[tuple[float, int]] = []
                dashboard.sockets.append(frames)
                while not stop.is_set():
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 1))
                    except TimeoutError:
                        continue
                    if "event_id" in message:
                        frames.append((time.monotonic(), message["event_id"]))
                        dashboard.applied = max(dashboard.applied, message["event_id"])
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError, ValueError):
            pass
        dashboard.live = False
        if stop.is_set():
            break
        if dark_since is None:
            dark_since = time.monotonic()
        await asyncio.sleep(min(wait * (1 + random.random() / 2), 2.0))
    if dark_since is not None:
        dashboard.dark.append((dark_since, time.monotonic()))


class Dashboards:
    def __init__(self, urls: list[str], token: str):
        self.urls, self.token = urls, token
        self.boards = [Dashboard() for _ in range(DASHBOARDS)]
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main():
            self.stop = asyncio.Event()
            await asyncio.gather(
                *(follow(b, self.urls, self.token, self.stop, i) for i, b in enumerate(self.boards))
            )

        self.loop.run_until_complete(main())

    def finish(self) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(timeout=20)


# --- Faults -------------------------------------------------------------------------------------


@dataclass
class Window:
    name: str
    start: float
    returned: float = 0.0  # when the part was back (for the dashboards' "live again")
    end: float = 0.0
    tracebacks: int = 0
    note: str = ""


def wait_dashboards_live(dashboards: Dashboards, seconds: float = 30) -> bool:
    """Until every dashboard is on a socket (bounded): faults do not overlap."""
    deadline = time.monotonic() + seconds
    while not all(b.live for b in dashboards.boards):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def run_faults(procs, pg, sentinels, operator: Operator, dashboards: Dashboards) -> list[Window]:
    windows: list[Window] = []

    def tracebacks() -> int:
        return sum(p.tracebacks() for p in procs.values())

    def fault(name: str, act) -> None:
        before = tracebacks()
        window = Window(name, time.monotonic())
        print(f"  {name} …", flush=True)
        window.note = act(window) or ""
        if not window.returned:
            window.returned = time.monotonic()
        if not wait_dashboards_live(dashboards, 60):
            window.note += " (dashboards not all live 60 s after)"
        time.sleep(SETTLE)
        window.end = time.monotonic()
        window.tracebacks = tracebacks() - before
        windows.append(window)

    def restart(process: Process, after: float):
        def act(window: Window):
            process.kill()
            time.sleep(after)
            process.start()
            window.returned = time.monotonic()

        return act

    def lose_answers(window: Window):
        operator.lose_answers = 5
        deadline = time.monotonic() + 30
        while operator.lose_answers > 0 and time.monotonic() < deadline:
            time.sleep(0.1)

    def redis_failover(window: Window):
        took = sentinels.fail_over()
        return f"sentinels promoted the replica in {took:.1f} s"

    def redis_stopped(window: Window):
        master = sentinels.stop_all()
        time.sleep(OUTAGE)
        sentinels.start_all(master)
        window.returned = time.monotonic()

    def postgres_stopped(window: Window):
        pg.primary.stop()
        time.sleep(OUTAGE)
        pg.primary.start()
        window.returned = time.monotonic()

    def postgres_failover(window: Window):
        took = pg.fail_over()
        window.returned = time.monotonic()
        return f"replica promoted, accepting writes {took:.1f} s after the primary died"

    fault("Daphne killed (restarted after 2 s)", restart(procs["daphne-1"], 2))
    fault("Celery worker killed (restarted after 5 s)", restart(procs["worker"], 5))
    fault("Celery beat killed (restarted after 5 s)", restart(procs["beat"], 5))
    fault("answers lost after 5 POSTs", lose_answers)
    fault("Redis master killed → sentinel failover", redis_failover)
    fault(f"Redis stopped {OUTAGE:g} s", redis_stopped)
    fault(f"PostgreSQL stopped {OUTAGE:g} s", postgres_stopped)
    fault("PostgreSQL primary killed → replica promoted", postgres_failover)
    return windows


# --- Figures ------------------------------------------------------------------------------------


def primary_dsn(pg) -> str:
    for server in (pg.replica, pg.primary):
        try:
            if server.process and not server.in_recovery():
                return server.dsn.replace("dbname=postgres", "dbname=dispatch112")
        except Exception:
            continue
    raise RuntimeError("no PostgreSQL primary at the end")


def figures(windows, operator: Operator, dashboards: Dashboards, pg) -> list[dict]:
    import psycopg

    with psycopg.connect(primary_dsn(pg)) as connection:
        rows = connection.execute(
            "SELECT id, description FROM reports_report WHERE description LIKE 'Macet total %'"
        ).fetchall()
        by_report = defaultdict(set)
        # What a Dishub dashboard is sent: every event of the reports it takes part in while
        # they are open; of the close, its own assignment's cancellation (it has left the
        # report: reports.access, LEAVING_EVENT_KINDS).
        for event, report, kind, agency in connection.execute(
            "SELECT e.id, e.report_id, e.kind, a.code FROM reports_event e"
            " LEFT JOIN reports_assignment s ON s.id = e.assignment_id"
            " LEFT JOIN agencies_agency a ON a.id = s.agency_id WHERE e.report_id = ANY(%s)",
            ([r[0] for r in rows],),
        ):
            if kind not in ("report.closed", "assignment.cancelled") or agency == "dishub":
                by_report[report].add(event)
    stored = defaultdict(list)
    for report, description in rows:
        stored[description.removeprefix("Macet total ")].append(report)

    results = []
    for window in windows:
        sent = [s for s in operator.sent if window.start <= s.started < window.end]
        attempts = [a for s in sent for a in s.attempts]
        events = set().union(*(by_report[r] for s in sent for r in stored.get(s.key, [])))
        missing = disorder = twice = 0
        for board in dashboards.boards:
            seen = [i for frames in board.sockets for _, i in frames]
            missing += len(events - set(seen))
            twice += len([i for i in seen if i in events]) - len(set(seen) & events)
            for frames in board.sockets:
                highest = 0
                for at, event in frames:
                    if window.start <= at < window.end and event < highest:
                        disorder += 1
                    highest = max(highest, event)
        outages = [
            to - begin
            for board in dashboards.boards
            for begin, to in board.dark
            if begin < window.end and to > window.start
        ]
        live_again = [
            to - window.returned
            for board in dashboards.boards
            for begin, to in board.dark
            if begin < window.returned < to
        ]
        results.append({
            "fault": window.name,
            "posts_ok": sum(a.status == 201 for a in attempts),
            "posts_failed": sum(a.status != 201 for a in attempts),
            "status_429": sum(a.status == 429 for a in attempts),
            "lost": sum(1 for s in sent if not stored.get(s.key)),
            "duplicates": sum(max(0, len(stored.get(s.key, [])) - 1) for s in sent),
            "events_missing": missing,
            "events_twice": twice,
            "out_of_order": disorder,
            "longest_dashboard_outage_s": round(max(outages, default=0.0), 2),
            "live_after_return_s": round(max(live_again, default=0.0), 2),
            "longest_post_s": round(max((a.seconds for a in attempts), default=0.0), 2),
            "tracebacks": window.tracebacks,
            "note": window.note,
        })  # fmt: skip
    return results


def print_table(results: list[dict]) -> None:
    columns = [
        ("fault", 44), ("posts_ok", 5), ("posts_failed", 5), ("lost", 4), ("duplicates", 4),
        ("events_missing", 5), ("out_of_order", 5), ("longest_dashboard_outage_s", 7),
        ("live_after_return_s", 7), ("longest_post_s", 6), ("tracebacks", 4),
    ]  # fmt: skip
    heads = ["fault", "ok", "fail", "lost", "dup", "miss", "order", "dark s", "live s",
             "POST s", "tb"]  # fmt: skip
    print("  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, (_, w)) in
                    enumerate(zip(heads, columns, strict=True))))  # fmt: skip
    for row in results:
        print("  ".join(str(row[c]).rjust(w) if i else str(row[c])[:w].ljust(w)
                        for i, (c, w) in enumerate(columns)))  # fmt: skip
        if row["note"] or row["status_429"]:
            refused = f"; 429: {row['status_429']}" if row["status_429"] else ""
            print(f"    {row['note']}{refused}")


def keep_logs(root: Path) -> None:
    """Every process's log, kept in var/chaos/ (the temp directory goes at the end)."""
    target = ROOT / "var" / "chaos"
    target.mkdir(parents=True, exist_ok=True)
    for log in root.glob("*.log"):
        (target / log.name).write_bytes(log.read_bytes())
    print(f"logs: {target}")


def main() -> None:
    if why := missing_binaries():
        sys.exit(f"chaos: cannot start the failover set-up here: {why}")
    print(f"chaos{' (tiny)' if TINY else ''}: {DASHBOARDS} dashboards, {RATE:g} reports/s, "
          f"{OUTAGE:g}-s outages, {os.cpu_count()} cores", flush=True)  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("chaos: terminated"))
    with failover_set() as (pg, sentinels):
        pg.primary.create_database("dispatch112")
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DATABASE_URL": pg.url("dispatch112"),
            "REDIS_SENTINELS": sentinels.addresses,
            "SECRET_KEY": "chaos-only",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DEBUG": "false",
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ENV_FILE": "/nonexistent",
            "PYTHONUNBUFFERED": "1",
            "WEB_WORKERS": "2",
            "DISPATCH_SWEEP_SECONDS": "2",
        }
        operator_token, staff_token = prepare({**env, "DB_TIMEOUT": "0"})
        procs = app_processes(pg.root, env)
        operator = dashboards = None
        try:
            for process in procs.values():
                process.start()
            urls = [
                procs[name].health.replace("http://", "ws://").replace("/healthz", "/ws/events/")
                for name in ("daphne-1", "daphne-2")
            ]
            dashboards = Dashboards(urls, staff_token)
            dashboards.thread.start()
            wait_dashboards_live(dashboards)
            operator = Operator(procs["gunicorn"].health.removesuffix("/healthz"), operator_token)
            operator.thread.start()
            time.sleep(SETTLE)  # load before the first fault
            windows = run_faults(procs, pg, sentinels, operator, dashboards)
            operator.finish()
            time.sleep(3)  # the last events reach the dashboards
            dashboards.finish()
            results = figures(windows, operator, dashboards, pg)
        finally:
            if operator is not None:
                operator.stop.set()
            if dashboards is not None:
                dashboards.finish()
            for process in procs.values():
                process.kill()
            keep_logs(pg.root)
        print(f"\n=== chaos: per fault ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
              f"{os.cpu_count()} cores) ===")  # fmt: skip
        print_table(results)
        print(json.dumps(results))


if __name__ == "__main__":
    main()
