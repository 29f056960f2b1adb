"""Unit positions (SPEC §7) in production mode, notify_latency's layout: PostgreSQL + Redis,
gunicorn (BENCH_HTTP_WORKERS, 4) for HTTP, BENCH_POSITIONS_DAPHNE (2) Daphne processes for
the websockets, with BENCH_NOTIFY_DASHBOARDS (200) agency staff dashboards connected on
/ws/events/, which receive the `unit.positions` frames of their agency's units.
BENCH_POSITIONS_UNITS (500) units are spread over the agencies, each with a field officer
signed on to it (a user and a token of its own), made in bulk.

1. HTTP ingestion: as many clients as throughput's (BENCH_THROUGHPUT_CLIENTS, 16) post
   positions (POST /api/v1/units/{id}/position/, each unit with its officer's token) for
   distinct units as fast as they can for BENCH_POSITIONS_SECONDS (12): positions/s, p50 and
   p99 request latency. Baseline in the same run: GET /healthz from the same number of
   clients to the same servers (throughput.load); ratio.
2. Websocket ingestion: as many field officers' sockets send `position` frames as fast as
   they can for the same time. Nothing comes back for a stored frame, so every BATCH frames
   a socket sends a frame of an unknown type and waits for its error frame: a consumer
   handles its socket's frames in order, so what was sent before has been handled, and no
   socket runs more than BATCH frames ahead of the server. Accepted = rows stored in
   units_unitposition over the window; ratio to the HTTP figure.
3. Report notification latency as notify_latency measures it (run_layout: BENCH_NOTIFY_REPORTS
   at BENCH_NOTIFY_RATE/s), first without unit traffic, then while every unit sends a
   position every BENCH_POSITIONS_INTERVAL (5 s) over its field officer's socket (500
   sockets: 100 positions/s, spread evenly over the interval); both, and their ratio.

The load generators and the dashboards of 1–2 run in processes of their own. The benchmark's
units are deactivated and their track deleted at the end, so that other benchmarks'
snapshots stay as they were."""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import multiprocessing
import queue
import secrets
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import throughput  # noqa: E402
from benchmarks.common import knob, pick, require  # noqa: E402
from benchmarks.intake import percentile  # noqa: E402
from benchmarks.notify_latency import (  # noqa: E402
    CONNECT_TIMEOUT,
    DASHBOARDS,
    HTTP_WORKERS,
    RATE,
    Dashboard,
    analyse,
    close_leftovers,
    row,
    run_dashboard,
    run_layout,
    setup_django,
    setup_users,
    start_servers,
    stop_servers,
)
from benchmarks.notify_latency import N as REPORTS  # noqa: E402

UNITS = knob("BENCH_POSITIONS_UNITS", 500, tiny=10)
SECONDS = knob("BENCH_POSITIONS_SECONDS", 12.0, tiny=2.0)
INTERVAL = knob("BENCH_POSITIONS_INTERVAL", 5.0, tiny=1.0)
DAPHNE = knob("BENCH_POSITIONS_DAPHNE", 2)
CLIENTS = throughput.CLIENTS  # the same concurrency as the /healthz baseline's
HEALTH_SECONDS = pick(8.0, 1.0)
BATCH = 10  # frames a field socket sends between two barriers
BARRIER = json.dumps({"type": "bench.barrier"})
BARRIER_ANSWER = "unknown message type"
BARRIER_TIMEOUT = 30.0
ANSWER_TIMEOUT = 180.0  # a helper process's answer (connecting 500 sockets on a busy machine)
START_DELAY = pick(3.0, 1.5)  # spawned HTTP clients start together, this long after being asked
CALL_SIGN = "BENCH-{:03d}"
OFFICER = "bench-positions-field-{:03d}"
CENTRE = (-6.9903, 110.4229)  # Simpang Lima, Semarang
SPAWN = multiprocessing.get_context("spawn")


# --- Setup ----------------------------------------------------------------------------------
def setup_fleet(count: int) -> list[tuple[int, str]]:
    """`count` units BENCH-000… round-robin over the active agencies, active, with no
    position or track, each with a field officer signed on to it: (unit id, officer's
    token) per unit. In bulk: no service, no event, no password hashing."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from agencies.models import Agency, AgencyMember, MemberRole, Unit, UnitKind, UnitStatus
    from units.models import UnitPosition

    agencies = list(Agency.objects.filter(active=True).order_by("code"))
    kinds = list(UnitKind.values)
    signs = [CALL_SIGN.format(i) for i in range(count)]
    have = set(Unit.objects.filter(call_sign__in=signs).values_list("call_sign", flat=True))
    Unit.objects.bulk_create(
        Unit(agency=agencies[i % len(agencies)], call_sign=sign, kind=kinds[i % len(kinds)])
        for i, sign in enumerate(signs)
        if sign not in have
    )
    fleet = Unit.objects.filter(call_sign__in=signs)
    UnitPosition.objects.filter(unit__in=fleet).delete()
    fleet.update(active=True, status=UnitStatus.AVAILABLE, latitude=None, longitude=None,
                 accuracy_m=None, position_at=None)  # fmt: skip
    units = {u.call_sign: u for u in fleet}

    names = [OFFICER.format(i) for i in range(count)]
    known = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create(User(username=n, password=unusable) for n in names if n not in known)
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    members = {m.user_id: m for m in AgencyMember.objects.filter(user__in=users.values())}
    now = timezone.now()
    fresh = []
    for sign, name in zip(signs, names, strict=True):
        user, unit = users[name], units[sign]
        member = members.get(user.pk) or AgencyMember(user=user)
        member.agency_id, member.role, member.unit = unit.agency_id, MemberRole.FIELD, unit
        member.signed_on_at = now
        if member.pk is None:
            fresh.append(member)
    AgencyMember.objects.bulk_update(
        list(members.values()), ["agency", "role", "unit", "signed_on_at"]
    )
    AgencyMember.objects.bulk_create(fresh)

    keys = dict(Token.objects.filter(user__in=users.values()).values_list("user_id", "key"))
    missing = [Token(user=u, key=secrets.token_hex(20)) for u in users.values() if u.pk not in keys]
    Token.objects.bulk_create(missing)
    keys.update((t.user_id, t.key) for t in missing)
    return [(units[sign].pk, keys[users[name].pk]) for sign, name in zip(signs, names, strict=True)]


def retire_fleet(unit_ids: list[int]) -> None:
    """The benchmark's units leave every snapshot, and their track goes."""
    from agencies.models import Unit
    from units.models import UnitPosition

    UnitPosition.objects.filter(unit_id__in=unit_ids).delete()
    Unit.objects.filter(pk__in=unit_ids).update(active=False)


def track_mark() -> int:
    from django.db.models import Max

    from units.models import UnitPosition

    return UnitPosition.objects.aggregate(last=Max("id"))["last"] or 0


def stored_since(mark: int, unit_ids: list[int]) -> int:
    from units.models import UnitPosition

    return UnitPosition.objects.filter(id__gt=mark, unit_id__in=unit_ids).count()


def answer(channel, timeout: float, what: str):
    try:
        return channel.get(timeout=timeout)
    except queue.Empty:
        raise RuntimeError(f"{what}: no answer within {timeout:g} s") from None


def fix(unit: int, n: int) -> dict:
    """A GPS fix near the city centre, a little further along each time, stamped now."""
    return {
        "latitude": CENTRE[0] + (unit * 7 + n) % 200 * 1e-4,
        "longitude": CENTRE[1] + (unit * 13 + n) % 200 * 1e-4,
        "accuracy_m": 8.0,
        "recorded_at": datetime.now(UTC).isoformat(),
    }


# --- Dashboards held open during 1–2 (a process of their own) --------------------------------
def hold_dashboards(ports: list[int], staff: list[tuple[str, str]], control, replies) -> None:
    asyncio.run(_hold(ports, staff, control, replies))


async def _hold(ports, staff, control, replies) -> None:
    """Connects the dashboards, says so, then on each "tally" says how many frames (and
    units' positions) they received since the last one, until "stop"."""
    dashboards = [Dashboard(i, code, ports[i % len(ports)]) for i, (code, _) in enumerate(staff)]
    connected: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()
    began = time.perf_counter()
    tasks = [
        asyncio.ensure_future(run_dashboard(dashboard, token, connected, stop))
        for dashboard, (_, token) in zip(dashboards, staff, strict=True)
    ]
    try:
        try:
            for _ in dashboards:
                await asyncio.wait_for(connected.get(), CONNECT_TIMEOUT)
        except TimeoutError:
            replies.put({"error": f"dashboards not connected within {CONNECT_TIMEOUT:g} s"})
            return
        errors = [d.error for d in dashboards if d.error]
        replies.put({"seconds": time.perf_counter() - began, "failed": len(errors),
                     "error": errors[0] if errors else None})  # fmt: skip
        while await asyncio.to_thread(control.get, True, ANSWER_TIMEOUT * 4) == "tally":
            frames = positions = 0
            for dashboard in dashboards:
                new = dashboard.frames[:]
                del dashboard.frames[: len(new)]
                frames += len(new)
                positions += sum(positions_in(json.loads(raw)) for _, raw in new)
            replies.put({"frames": frames, "positions": positions,
                         "failed": sum(d.error is not None for d in dashboards)})  # fmt: skip
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()


@contextmanager
def dashboards_connected(ports: list[int], staff: list[tuple[str, str]]):
    """Yields tally(): the frames the dashboards received since the previous call."""
    control, replies = SPAWN.Queue(), SPAWN.Queue()
    holder = SPAWN.Process(target=hold_dashboards, args=(ports, staff, control, replies))
    holder.start()
    try:
        hello = answer(replies, CONNECT_TIMEOUT + 60, "dashboards")
        if hello.get("error"):
            raise RuntimeError(f"{hello.get('failed', '?')} dashboards failed: {hello['error']}")

        def tally() -> dict:
            control.put("tally")
            return answer(replies, ANSWER_TIMEOUT, "dashboards' tally")

        tally.connect_seconds = hello["seconds"]
        yield tally
    finally:
        control.put("stop")
        holder.join(timeout=30)
        if holder.is_alive():
            holder.terminate()
            holder.join(timeout=5)


# --- 1. HTTP ingestion ----------------------------------------------------------------------
def post_positions(port: int, officers, start_at: float, stop_at: float) -> list[tuple]:
    """One client: a position for each of its units in turn, one connection, as fast as the
    server answers. (start, end, status) per request; status 0: the connection failed."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = []
    for n, (unit, token) in enumerate(itertools.cycle(officers)):
        if time.monotonic() >= stop_at:
            break
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        body = json.dumps(fix(unit, n))
        start = time.perf_counter()
        try:
            conn.request("POST", f"/api/v1/units/{unit}/position/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            status = 0
        done.append((start, time.perf_counter(), status))
    conn.close()
    return done


def position_clients(port: int, groups, start_at: float, stop_at: float) -> list[tuple]:
    """One load process: a thread per client, each with its own units."""
    with ThreadPoolExecutor(len(groups)) as threads:
        runs = threads.map(lambda group: post_positions(port, group, start_at, stop_at), groups)
        return [request for run in runs for request in run]


def http_ingestion(port: int, officers, seconds: float) -> tuple[list[float], int, int, float]:
    """(latencies of the 204s, 204s, failures, window seconds), CLIENTS clients over
    throughput's CLIENT_PROCESSES processes, each client with distinct units."""
    groups = [officers[c::CLIENTS] for c in range(CLIENTS)]
    processes = throughput.CLIENT_PROCESSES
    start_at = time.monotonic() + START_DELAY
    with ProcessPoolExecutor(processes, mp_context=SPAWN) as pool:
        futures = [
            pool.submit(position_clients, port, groups[p::processes], start_at,
                        start_at + seconds)
            for p in range(processes)
        ]  # fmt: skip
        done = [r for f in futures for r in f.result(timeout=START_DELAY + seconds + 60)]
    window = max(end for _, end, _ in done) - min(start for start, _, _ in done)
    ok = [end - start for start, end, status in done if status == 204]
    return ok, len(ok), len(done) - len(ok), window


# --- 2 and 3. Field officers' sockets (a process of their own) -------------------------------
def field_process(ports, officers, interval, seconds, ready, go, stop, results) -> None:
    asyncio.run(_field(ports, officers, interval, seconds, ready, go, stop, results))


async def _settle(ws) -> int:
    """Sends the barrier and reads up to its answer: every frame sent before it has been
    handled. Returns how many of those were refused (error frames before the answer)."""
    await ws.send(BARRIER)
    refused = 0
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), BARRIER_TIMEOUT))
        if frame.get("type") == "error":
            if frame.get("detail") == BARRIER_ANSWER:
                return refused
            refused += 1


async def _field(ports, officers, interval, seconds, ready, go, stop, results) -> None:
    """Connects a socket per officer, says so, and on `go` either floods (interval None:
    BATCH frames then a barrier, for `seconds`) or sends one position per socket every
    `interval` seconds, the sockets spread evenly over it, until `stop` (at most `seconds`).
    Then a last barrier on each, and the counts."""
    from websockets.asyncio.client import connect

    sockets: list = [None] * len(officers)
    gate = asyncio.Semaphore(50)

    async def open_one(i: int, token: str) -> None:
        async with gate:
            ws = await connect(
                f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/events/",
                additional_headers={"Authorization": f"Token {token}"},
                max_size=None,
                open_timeout=CONNECT_TIMEOUT,
            )
            sockets[i] = ws
            first = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
            if first.get("type") != "snapshot":
                raise RuntimeError(f"a field socket's first frame is {first.get('type')!r}")

    stopping = asyncio.Event()

    async def flood(ws, unit: int, until: float) -> tuple[int, int]:
        sent = refused = 0
        while time.perf_counter() < until:
            for _ in range(BATCH):
                await ws.send(json.dumps({"type": "position", "unit": unit, **fix(unit, sent)}))
                sent += 1
            refused += await _settle(ws)
        return sent, refused

    async def paced(ws, unit: int, offset: float, began: float) -> tuple[int, int]:
        sent = 0
        while not stopping.is_set():
            delay = began + offset + sent * interval - time.perf_counter()
            if delay > 0:
                try:
                    await asyncio.wait_for(stopping.wait(), delay)
                    break
                except TimeoutError:
                    pass
            await ws.send(json.dumps({"type": "position", "unit": unit, **fix(unit, sent)}))
            sent += 1
        return sent, await _settle(ws)

    try:
        try:
            await asyncio.gather(*(open_one(i, token) for i, (_, token) in enumerate(officers)))
        except Exception as exc:
            ready.put({"error": f"{type(exc).__name__}: {exc}"})
            return
        ready.put({"connected": len(officers)})
        if not await asyncio.to_thread(go.wait, ANSWER_TIMEOUT):
            return
        began = time.perf_counter()
        if interval is None:
            runs = [
                flood(ws, unit, began + seconds)
                for ws, (unit, _) in zip(sockets, officers, strict=True)
            ]
        else:
            watcher = asyncio.ensure_future(asyncio.to_thread(stop.wait, seconds))
            watcher.add_done_callback(lambda _: stopping.set())
            runs = [
                paced(ws, unit, i * interval / len(officers), began)
                for i, (ws, (unit, _)) in enumerate(zip(sockets, officers, strict=True))
            ]
        try:
            counts = await asyncio.gather(*runs)
        except Exception as exc:
            results.put({"error": f"{type(exc).__name__}: {exc}"})
            return
        results.put({"sent": sum(s for s, _ in counts), "refused": sum(r for _, r in counts),
                     "seconds": time.perf_counter() - began, "sockets": len(officers)})  # fmt: skip
    finally:
        closing = [asyncio.ensure_future(ws.close()) for ws in sockets if ws is not None]
        if closing:
            await asyncio.wait(closing, timeout=10)


@contextmanager
def field_sockets(ports: list[int], officers, interval: float | None, seconds: float):
    """The officers' sockets connected, sending from the `with` on; the dict yielded is
    filled with their counts when it ends."""
    ready, results = SPAWN.Queue(), SPAWN.Queue()
    go, stop = SPAWN.Event(), SPAWN.Event()
    process = SPAWN.Process(
        target=field_process, args=(ports, officers, interval, seconds, ready, go, stop, results)
    )
    process.start()
    counts: dict = {}
    try:
        hello = answer(ready, ANSWER_TIMEOUT, "field sockets")
        if hello.get("error"):
            raise RuntimeError(f"field sockets: {hello['error']}")
        go.set()
        yield counts
        stop.set()
        counts.update(answer(results, seconds + BARRIER_TIMEOUT + 30, "field sockets' counts"))
        if counts.get("error"):
            raise RuntimeError(f"field sockets: {counts['error']}")
    finally:
        go.set()
        stop.set()
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


# --- 3. Notification latency ----------------------------------------------------------------
def positions_in(frame: dict) -> int:
    """How many units' positions a frame carries (`unit.positions`: the units that moved
    since the process's last tick, notifications.positions)."""
    return len(frame.get("units", ())) if frame.get("type") == "unit.positions" else 0


def without_positions(dashboards: list[Dashboard]) -> tuple[list[Dashboard], int]:
    """The dashboards with their report events only, as notify_latency.analyse reads them
    (a positions frame, having no report, would count as a leak), and how many units'
    positions they received."""
    kept, positions = [], 0
    for dashboard in dashboards:
        frames, carried = [], 0
        for frame in dashboard.frames:
            if count := positions_in(json.loads(frame[1])):
                carried += count
            elif json.loads(frame[1]).get("type") != "unit.positions":
                frames.append(frame)
        positions += carried
        kept.append(replace(dashboard, frames=frames))
    return kept, positions


def notification_run(http_port: int, ports: list[int], operator_token: str, staff):
    posts, dashboards, connect_seconds = asyncio.run(
        run_layout(http_port, ports, operator_token, staff)
    )
    dashboards, positions = without_positions(dashboards)
    return analyse(posts, dashboards, connect_seconds), positions


# --- Report ---------------------------------------------------------------------------------
def main() -> None:
    began = time.perf_counter()
    setup_django()
    operator_token, staff = setup_users(DASHBOARDS)
    closed = close_leftovers()
    officers = setup_fleet(UNITS)
    unit_ids = [unit for unit, _ in officers]
    flooders = officers[:: max(1, len(officers) // CLIENTS)][:CLIENTS]
    paced_seconds = INTERVAL + REPORTS / RATE + 2 * CONNECT_TIMEOUT + 60  # a bound, not a plan
    try:
        with tempfile.TemporaryDirectory(prefix="bench-positions-") as logdir:
            servers = start_servers(HTTP_WORKERS, Path(logdir), kind="gunicorn")
            try:
                servers += start_servers(DAPHNE, Path(logdir))
                http_port, ports = servers[0].port, [s.port for s in servers[1:]]
                with dashboards_connected(ports, staff) as tally:
                    throughput.load([http_port], operator_token, "health",
                                    throughput.WARM_UP_SECONDS)  # fmt: skip
                    health = throughput.load([http_port], operator_token, "health",
                                             HEALTH_SECONDS)  # fmt: skip
                    tally()
                    mark = track_mark()
                    posted = http_ingestion(http_port, officers, SECONDS)
                    http_stored, http_frames = stored_since(mark, unit_ids), tally()
                    mark = track_mark()
                    with field_sockets(ports, flooders, None, SECONDS) as flood:
                        pass
                    ws_stored, ws_frames = stored_since(mark, unit_ids), tally()
                    connect_seconds = tally.connect_seconds
                quiet, quiet_positions = notification_run(http_port, ports, operator_token, staff)
                # Its reports leave the snapshots, as between notify_latency's layouts.
                closed += close_leftovers()
                mark = track_mark()
                with field_sockets(ports, officers, INTERVAL, paced_seconds) as traffic:
                    time.sleep(INTERVAL)  # every unit has sent once: the steady rate
                    busy, busy_positions = notification_run(http_port, ports, operator_token, staff)
                traffic_stored = stored_since(mark, unit_ids)
            except Exception:
                for server in servers:
                    print(f"--- {server.log.name} ---\n{server.log.read_text()[-4000:]}")
                raise
            finally:
                stop_servers(servers)
    finally:
        retire_fleet(unit_ids)
    closed += close_leftovers()

    require(posted[1] > 0 and ws_stored > 0, "positions: no position was stored")
    require(bool(quiet.latencies and busy.latencies), "positions: no notification received")
    agencies = len({code for code, _ in staff})
    print(
        f"\nUnit positions: {len(officers)} units (a field officer each, signed on) over "
        f"{agencies} agencies; {len(staff)} agency dashboards on {DAPHNE} Daphne process(es), "
        f"connected in {connect_seconds:.1f} s; gunicorn ({HTTP_WORKERS} workers); "
        "PostgreSQL + Redis"
    )
    print(f"{'':44}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}{'ratio':>10}")
    health_line, health_rate = throughput.line(
        f"baseline: GET /healthz ({CLIENTS} clients)", *health
    )
    print(health_line)
    http_line, http_rate = throughput.line(
        f"POST …/units/{{id}}/position/ ({CLIENTS} clients)", *posted, base_rate=health_rate
    )
    print(f"{http_line}   (to /healthz)")
    print(
        f"   {posted[1]} × 204 over {posted[3]:.1f} s, {http_stored} rows stored; the dashboards "
        f"received {http_frames['positions']} units' positions "
        f"({http_frames['positions'] / len(staff) / posted[3]:.1f}/s each, ≤ 1 per unit per s)"
    )
    ws_rate = ws_stored / flood["seconds"]
    label = f"websocket position frames ({flood['sockets']} sockets)"
    print(
        f"{label:44}{ws_rate:>9.0f}"
        f"{'':>18}{flood['refused']:>8}{ws_rate / http_rate:>9.2f}×   (to HTTP; "
        f"{ws_rate / health_rate:.2f}× /healthz)"
    )
    print(
        f"   {flood['sent']} frames sent over {flood['seconds']:.1f} s, {ws_stored} rows stored; "
        f"the dashboards received {ws_frames['positions']} units' positions "
        f"({ws_frames['positions'] / len(staff) / flood['seconds']:.1f}/s each)"
    )

    print(
        f"\nNotification latency with unit traffic: {REPORTS} reports via POST /api/v1/reports/ "
        f"at {RATE:g}/s, {len(staff)} agency dashboards, {DAPHNE} Daphne process(es)"
    )
    header = f"{'':38}{'n':>7}{'median':>9}{'p95':>9}{'p99':>9}{'max':>9}"
    print(f"{header}{'× median':>10}{'× p99':>9}   (ms; ratios to no unit traffic)")
    print(row("no unit traffic: POST → first event", quiet.latencies, None))
    label = f"{len(officers)} units / {INTERVAL:g} s: POST → first ev."
    print(row(label, busy.latencies, quiet.latencies))
    achieved = traffic["sent"] / traffic["seconds"]
    print(
        f"   unit traffic: {traffic['sockets']} field sockets sent {traffic['sent']} positions "
        f"over {traffic['seconds']:.1f} s ({achieved:.0f}/s; planned "
        f"{len(officers) / INTERVAL:.0f}/s), {traffic_stored} rows stored, {traffic['refused']} "
        f"refused; the dashboards received {busy_positions} units' positions "
        f"(without traffic: {quiet_positions})"
    )
    for name, result in (("no unit traffic", quiet), ("unit traffic", busy)):
        print(
            f"   {name}: reports {result.posts} (failed {result.failed_posts}), pairs "
            f"{result.pairs}: missing {result.missing}, leaks {result.leaks}, extra "
            f"{result.extra}, out of order {result.out_of_order}; dashboards connected in "
            f"{result.connect_seconds:.1f} s"
        )
    p99_ratio = percentile(busy.latencies, 0.99) / percentile(quiet.latencies, 0.99)
    print(
        f"notification p99 with {len(officers) / INTERVAL:.0f} positions/s / without: "
        f"{p99_ratio:.2f}×; leftover reports closed: {closed}; "
        f"benchmark took {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
