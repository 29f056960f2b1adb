"""The live map at city scale (issue 15), in positions.py's production layout: PostgreSQL +
Redis, gunicorn (BENCH_HTTP_WORKERS, 4) for HTTP, BENCH_POSITIONS_DAPHNE (2) Daphne processes.

BENCH_MAP_UNITS (1000) units, each with its field officer's socket sending a position every
BENCH_MAP_INTERVAL (5 s: 200 positions/s, spread over the interval); BENCH_MAP_VIEWERS (50)
/map/ viewers — websocket clients of the command centre, which receive every unit's
position (coalesced by each server process to one per unit per second, sent as one
`unit.positions` frame per tick) — and the
BENCH_NOTIFY_DASHBOARDS (200) agency dashboards of notify_latency.

Reports: position → viewer latency (the fix's `recorded_at`, stamped by the sender as it
sends, to the viewer's receipt: one machine, one clock) median / p99, positions received per
viewer against those stored, the server processes' CPU (user + system seconds per second of
wall time, Daphne and gunicorn with its workers, from /proc) and resident memory; and in the
same run the report notification latency (notify_latency's layout, BENCH_NOTIFY_RATE/s)
while the units move, with its ratio to the same measured before any unit moves."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import knob, require  # noqa: E402
from benchmarks.intake import percentile  # noqa: E402
from benchmarks.notify_latency import (  # noqa: E402
    CONNECT_TIMEOUT,
    DASHBOARDS,
    HTTP_WORKERS,
    RATE,
    close_leftovers,
    row,
    setup_django,
    setup_users,
    start_servers,
    stop_servers,
)
from benchmarks.notify_latency import N as REPORTS  # noqa: E402
from benchmarks.positions import (  # noqa: E402
    ANSWER_TIMEOUT,
    DAPHNE,
    SPAWN,
    answer,
    field_sockets,
    notification_run,
    retire_fleet,
    setup_fleet,
)

UNITS = knob("BENCH_MAP_UNITS", 1000, tiny=10)
INTERVAL = knob("BENCH_MAP_INTERVAL", 5.0, tiny=1.0)
VIEWERS = knob("BENCH_MAP_VIEWERS", 50, tiny=3)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- The map viewers (a process of their own) -----------------------------------------------
def hold_viewers(ports, token, count, control, replies) -> None:
    asyncio.run(_viewers(ports, token, count, control, replies))


async def _viewers(ports, token, count, control, replies) -> None:
    """Connects `count` command-centre sockets; on "tally" answers the position latencies
    (seconds) they saw since the last tally and how many each received; "stop" ends."""
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    received = [0] * count
    ready: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()

    async def viewer(index: int) -> None:
        url = f"ws://127.0.0.1:{ports[index % len(ports)]}/ws/events/"
        async with connect(
            url,
            additional_headers={"Authorization": f"Token {token}"},
            max_size=None,
            open_timeout=CONNECT_TIMEOUT,
        ) as ws:
            await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT)  # the snapshot
            await ready.put(index)
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                now = time.time()
                frame = json.loads(raw)
                if frame.get("type") != "unit.positions":
                    continue
                for unit in frame["units"]:
                    if unit.get("position_at"):
                        sent = datetime.fromisoformat(unit["position_at"]).timestamp()
                        latencies.append(now - sent)
                        received[index] += 1

    tasks = [asyncio.ensure_future(viewer(i)) for i in range(count)]
    try:
        try:
            for _ in range(count):
                await asyncio.wait_for(ready.get(), CONNECT_TIMEOUT)
        except TimeoutError:
            failed = [t.exception() for t in tasks if t.done() and t.exception()]
            replies.put({"error": f"viewers not connected: {failed[:1]}"})
            return
        replies.put({"connected": count})
        while await asyncio.to_thread(control.get, True, ANSWER_TIMEOUT * 4) == "tally":
            replies.put({"latencies": latencies[:], "received": received[:]})
            latencies.clear()
            received[:] = [0] * count
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()


@contextmanager
def viewers_connected(ports, token, count):
    control, replies = SPAWN.Queue(), SPAWN.Queue()
    holder = SPAWN.Process(target=hold_viewers, args=(ports, token, count, control, replies))
    holder.start()
    try:
        hello = answer(replies, CONNECT_TIMEOUT + 60, "map viewers")
        if hello.get("error"):
            raise RuntimeError(hello["error"])

        def tally() -> dict:
            control.put("tally")
            return answer(replies, ANSWER_TIMEOUT, "map viewers' tally")

        yield tally
    finally:
        control.put("stop")
        holder.join(timeout=30)
        if holder.is_alive():
            holder.terminate()
            holder.join(timeout=5)


# --- The servers' CPU and memory, from /proc ------------------------------------------------
def _tree(root: int) -> list[int]:
    """`root` and its descendants (gunicorn's workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def usage(servers) -> dict[int, tuple[float, float]]:
    """pid → (CPU seconds so far, resident MiB) of every server process."""
    seen = {}
    for server in servers:
        for pid in _tree(server.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                rss_pages = int(fields[21])
            except (OSError, IndexError):
                continue
            cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            seen[pid] = (cpu, rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20)
    return seen


def main() -> None:
    began = time.perf_counter()
    setup_django()
    operator_token, staff = setup_users(DASHBOARDS)
    closed = close_leftovers()
    officers = setup_fleet(UNITS)
    unit_ids = [unit for unit, _ in officers]
    bound = INTERVAL + REPORTS / RATE + 2 * CONNECT_TIMEOUT + 120
    try:
        with tempfile.TemporaryDirectory(prefix="bench-map-") as logdir:
            servers = start_servers(HTTP_WORKERS, Path(logdir), kind="gunicorn")
            try:
                servers += start_servers(DAPHNE, Path(logdir))
                http_port, ports = servers[0].port, [s.port for s in servers[1:]]
                quiet, _ = notification_run(http_port, ports, operator_token, staff)
                closed += close_leftovers()
                with (
                    viewers_connected(ports, operator_token, VIEWERS) as tally,
                    field_sockets(ports, officers, INTERVAL, bound) as traffic,
                ):
                    time.sleep(INTERVAL)  # every unit has sent once: the steady rate
                    tally()
                    before, started = usage(servers), time.monotonic()
                    busy, _ = notification_run(http_port, ports, operator_token, staff)
                    after, wall = usage(servers), time.monotonic() - started
                    seen = tally()
            except Exception:
                for server in servers:
                    print(f"--- {server.log.name} ---\n{server.log.read_text()[-4000:]}")
                raise
            finally:
                stop_servers(servers)
    finally:
        retire_fleet(unit_ids)
    closed += close_leftovers()

    require(bool(seen["latencies"]), "map: the viewers received no position")
    require(bool(quiet.latencies and busy.latencies), "map: no notification received")
    cpu = sum(after[p][0] - before.get(p, (after[p][0], 0))[0] for p in after) / wall
    rss = [mib for _, mib in after.values()]
    latencies = [s * 1000 for s in seen["latencies"]]
    per_viewer = sum(seen["received"]) / len(seen["received"])
    expected = UNITS / INTERVAL * wall
    achieved = traffic["sent"] / traffic["seconds"]
    print(
        f"\nThe live map: {len(officers)} units sending every {INTERVAL:g} s "
        f"({len(officers) / INTERVAL:.0f} positions/s; achieved {achieved:.0f}/s), "
        f"{VIEWERS} /map/ viewers (command centre) and {len(staff)} agency dashboards on "
        f"{DAPHNE} Daphne process(es); gunicorn ({HTTP_WORKERS} workers); PostgreSQL + Redis"
    )
    header = f"{'':38}{'n':>7}{'median':>9}{'p95':>9}{'p99':>9}{'max':>9}"
    print(header + "   (ms)")
    print(
        f"{'position → map viewer':38}{len(latencies):>7}"
        + "".join(f"{percentile(latencies, q):>9.1f}" for q in (0.5, 0.95, 0.99))
        + f"{max(latencies):>9.1f}"
    )
    print(
        f"   per viewer {per_viewer:.0f} positions over {wall:.1f} s, of about {expected:.0f} "
        f"sent ({per_viewer / expected:.2f}); {traffic['refused']} refused"
    )
    print(
        f"   servers ({len(after)} processes): CPU {cpu:.2f} s per s (of 2 cores), "
        f"RSS {sum(rss):.0f} MiB in all, {max(rss):.0f} MiB the largest"
    )
    print(f"\nReport notifications in the same run ({REPORTS} reports at {RATE:g}/s)")
    print(f"{header}{'× median':>10}{'× p99':>9}   (ms; ratios to before the units moved)")
    print(row("before the units moved", quiet.latencies, None))
    print(row(f"{len(officers)} units, {VIEWERS} map viewers", busy.latencies, quiet.latencies))
    for name, result in (("before", quiet), ("while moving", busy)):
        print(
            f"   {name}: reports {result.posts} (failed {result.failed_posts}), missing "
            f"{result.missing}, leaks {result.leaks}, out of order {result.out_of_order}"
        )
    print(f"leftover reports closed: {closed}; benchmark took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
