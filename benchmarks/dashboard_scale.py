"""Dashboard scale: BENCH_SCALE_DASHBOARDS (2,000) websocket dashboards of one agency's staff
(each its own user and token) connected at once to the README's layout (two Daphne
processes), then BENCH_SCALE_EVENTS (5) reports posted for that agency, two seconds apart
(BENCH_TINY=1: 20 dashboards, 2 reports).

Measured: the servers' resident memory (RSS) with everyone connected, and for each report the
time from the start of its POST until the last of the 2,000 dashboards received its first
event. Baseline in the same run: one Redis PUBLISH of an event-sized message to as many
plain asyncio subscribers (one connection each would need 2,000 Redis clients, so 2,000
readers of one subscription), i.e. the cost of the fan-out alone.

Targets: RSS ≤ 1 GB, all delivered ≤ 250 ms. The dashboards run in two client processes."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import knob, pick, require  # noqa: E402
from benchmarks.intake import percentile  # noqa: E402
from benchmarks.notify_latency import (  # noqa: E402
    close_leftovers,
    setup_django,
    setup_users,
    start_servers,
    stop_servers,
)

DASHBOARDS = knob("BENCH_SCALE_DASHBOARDS", 2000, tiny=20)
EVENTS = knob("BENCH_SCALE_EVENTS", 5, tiny=2)
PROCESSES = knob("BENCH_SCALE_PROCESSES", 2)
EVENT_GAP = pick(2.0, 0.5)  # seconds between two reports
LAST_EVENTS = pick(3.0, 1.0)  # the clients listen this long after the last report
CLIENT_PROCESSES = 2
AGENCY = "bpbd"  # banjir → BPBD (+ DPU)
USERNAME = "bench-scale-{:04d}"


def setup_staff(count: int) -> list[str]:
    """`count` BPBD staff users with tokens, made in bulk (no password hashing)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from agencies.models import Agency, AgencyMember

    names = [USERNAME.format(i) for i in range(count)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create([User(username=n, password=unusable) for n in names if n not in have])
    users = list(User.objects.filter(username__in=names).order_by("username"))
    agency = Agency.objects.get(code=AGENCY)
    members = set(AgencyMember.objects.filter(user__in=users).values_list("user_id", flat=True))
    AgencyMember.objects.bulk_create(
        [AgencyMember(user=u, agency=agency) for u in users if u.pk not in members]
    )
    tokens = dict(Token.objects.filter(user__in=users).values_list("user_id", "key"))
    Token.objects.bulk_create(
        [Token(user=u, key=secrets.token_hex(20)) for u in users if u.pk not in tokens]
    )
    tokens = dict(Token.objects.filter(user__in=users).values_list("user_id", "key"))
    return [tokens[u.pk] for u in users]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- Client processes --------------------------------------------------------------------------
def client_process(ports, tokens, ready, go, results):
    """Connects its dashboards, says so, then records the first arrival of each report."""
    asyncio.run(_clients(ports, tokens, ready, go, results))


async def _clients(ports, tokens, ready, go, results):
    from websockets.asyncio.client import connect

    arrivals: dict[str, list[float]] = {}
    sockets = []
    semaphore = asyncio.Semaphore(50)

    async def open_one(i, token):
        async with semaphore:
            ws = await connect(
                f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/events/",
                additional_headers={"Authorization": f"Token {token}"},
                max_size=None,
                open_timeout=120,
                ping_interval=None,
            )
            await ws.recv()  # snapshot
            sockets.append(ws)

    await asyncio.gather(*(open_one(i, t) for i, t in enumerate(tokens)))
    ready.put(len(sockets))

    async def listen(ws):
        seen = set()
        try:
            async for raw in ws:
                now = time.perf_counter()
                number = json.loads(raw).get("report", {}).get("number")
                if number and number not in seen:
                    seen.add(number)
                    arrivals.setdefault(number, []).append(now)
        except Exception:
            pass

    listeners = [asyncio.ensure_future(listen(ws)) for ws in sockets]
    await asyncio.to_thread(go.wait)
    await asyncio.sleep(LAST_EVENTS)  # the last report's events arrive
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*listeners, return_exceptions=True)
    results.put(arrivals)


# --- Baseline: the fan-out alone ------------------------------------------------------------------
async def baseline_fanout(count: int) -> list[float]:
    import redis.asyncio as redis

    url = os.environ["REDIS_URL"]
    client = redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe("bench-scale")
    queues = [asyncio.Queue() for _ in range(count)]
    payload = json.dumps({"pad": "x" * 2500})
    spans = []

    async def reader():
        async for message in pubsub.listen():
            if message["type"] == "message":
                for queue in queues:
                    queue.put_nowait(message["data"])

    task = asyncio.ensure_future(reader())
    await asyncio.sleep(0.2)
    for _ in range(EVENTS):
        start = time.perf_counter()
        await client.publish("bench-scale", payload)
        for queue in queues:
            json.loads(await queue.get())
        spans.append(time.perf_counter() - start)
        await asyncio.sleep(0.2)
    task.cancel()
    await pubsub.aclose()
    await client.aclose()
    return spans


def main() -> None:
    import http.client

    setup_django()
    operator_token, _ = setup_users(0)
    close_leftovers()
    tokens = setup_staff(DASHBOARDS)
    spans, rss, connect_seconds, received = [], [], 0.0, []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as logdir:
        servers = start_servers(PROCESSES, Path(logdir))
        idle_rss = sum(rss_mb(s.process.pid) for s in servers)
        ports = [s.port for s in servers]
        context = multiprocessing.get_context("spawn")
        ready, results, go = context.Queue(), context.Queue(), context.Event()
        share = (len(tokens) + CLIENT_PROCESSES - 1) // CLIENT_PROCESSES
        clients = [
            context.Process(
                target=client_process,
                args=(ports, tokens[i * share : (i + 1) * share], ready, go, results),
            )
            for i in range(CLIENT_PROCESSES)
        ]
        try:
            began = time.perf_counter()
            for client in clients:
                client.start()
            connected = sum(ready.get(timeout=pick(600, 60)) for _ in clients)
            connect_seconds = time.perf_counter() - began
            time.sleep(1)
            rss = [rss_mb(s.process.pid) for s in servers]
            conn = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=30)
            headers = {"Authorization": f"Token {operator_token}",
                       "Content-Type": "application/json"}  # fmt: skip
            posted = []
            for i in range(EVENTS):
                body = json.dumps({"caller_phone": "081355550000", "category": "banjir",
                                   "description": f"Banjir skala #{i}", "address": "Jl. Kaligawe",
                                   "kecamatan": "genuk"})  # fmt: skip
                start = time.perf_counter()
                conn.request("POST", "/api/v1/reports/", body=body, headers=headers)
                response = conn.getresponse()
                number = json.loads(response.read())["number"]
                posted.append((number, start))
                time.sleep(EVENT_GAP)
            conn.close()
            go.set()
            arrivals: dict[str, list[float]] = {}
            for _ in clients:
                for number, times in results.get(timeout=120).items():
                    arrivals.setdefault(number, []).extend(times)
            for client in clients:
                client.join(timeout=30)
            for number, start in posted:
                times = arrivals.get(number, [])
                received.append(len(times))
                spans.append(max(times) - start if times else float("inf"))
            after_rss = [rss_mb(s.process.pid) for s in servers]
        finally:
            go.set()
            for client in clients:
                if client.is_alive():
                    client.terminate()
            stop_servers(servers)
    close_leftovers()
    baseline = asyncio.run(baseline_fanout(DASHBOARDS))

    require(connected > 0 and bool(baseline), "dashboard_scale: nothing connected or measured")
    require(min(received) > 0, f"dashboard_scale: a report reached no dashboard ({received})")
    total = sum(rss)
    print(
        f"\nDashboard scale: {connected} websocket dashboards (BPBD staff, one user each) on "
        f"{PROCESSES} Daphne processes, connected in {connect_seconds:.1f} s"
    )
    print(
        f"server RSS: idle {idle_rss:.0f} MB → {total:.0f} MB with everyone connected "
        f"({' + '.join(f'{r:.0f}' for r in rss)}), {sum(after_rss):.0f} MB after the events; "
        f"target ≤ 1024 MB: {'PASS' if total <= 1024 else 'FAIL'}"
    )
    print(f"{'':52}{'median':>9}{'max':>9}   (ms)")
    print(
        f"{'baseline: one PUBLISH → ' + str(DASHBOARDS) + ' readers decoded':52}"
        f"{percentile(baseline, 0.5) * 1000:>9.1f}{max(baseline) * 1000:>9.1f}"
    )
    print(
        f"{'POST → last of the dashboards has the event':52}"
        f"{percentile(spans, 0.5) * 1000:>9.1f}{max(spans) * 1000:>9.1f}   "
        f"ratio to baseline {percentile(spans, 0.5) / percentile(baseline, 0.5):.1f}× median"
    )
    print(
        f"dashboards reached per report: {received} of {connected}; target all ≤ 250 ms: "
        f"{'PASS' if max(spans) <= 0.25 and min(received) == connected else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
