"""Intake throughput: concurrent operators' clients posting reports (kemacetan / kecelakaan /
kebakaran… → 1–3 agencies each) for BENCH_THROUGHPUT_SECONDS (30) against the layout the
README recommends on this 2-core machine: gunicorn (BENCH_THROUGHPUT_WORKERS sync workers,
4: two per core) for HTTP, PostgreSQL and Redis local.

Baselines in the same run, with the same clients: the same servers' trivial /healthz (one
database round trip), and bare psycopg INSERTs of the same rows (counter, report, call,
assignments, events, COMMIT) from as many connections as there are clients.

Knobs: BENCH_THROUGHPUT_SECONDS (30; tiny 2), BENCH_THROUGHPUT_CLIENTS (16; tiny 4),
BENCH_THROUGHPUT_WORKERS (gunicorn workers, 4; tiny 2)."""

from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import knob, pick, require  # noqa: E402
from benchmarks.intake import insert_report_rows, percentile  # noqa: E402
from benchmarks.notify_latency import (  # noqa: E402
    CATEGORIES,
    close_leftovers,
    setup_django,
    setup_users,
    start_servers,
    stop_servers,
)

SECONDS = knob("BENCH_THROUGHPUT_SECONDS", 30.0, tiny=2.0)
CLIENTS = knob("BENCH_THROUGHPUT_CLIENTS", 16, tiny=4)
WORKERS = knob("BENCH_THROUGHPUT_WORKERS", 4, tiny=2)
CLIENT_PROCESSES = 2  # the load generator's own processes (threads inside each)
BASELINE_SECONDS = pick(10.0, 1.0)
WARM_UP_SECONDS = pick(2.0, 0.5)


# --- Load generator -------------------------------------------------------------------------------
def _client_thread(port, token, kind, stop_at, results, index):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    run = uuid.uuid4().hex[:6]
    i = 0
    while time.monotonic() < stop_at:
        if kind == "report":
            body = json.dumps(
                {
                    "caller_phone": f"0813{index % 10}{int(run, 16) % 100000:05d}{i % 1000:03d}",
                    "caller_name": "Pelapor Benchmark",
                    "category": CATEGORIES[(index + i) % len(CATEGORIES)],
                    "description": f"Benchmark throughput {run} #{i}",
                    "address": "Jl. Pemuda No. 1",
                    "kecamatan": "semarang_tengah",
                }
            )
            start = time.perf_counter()
            conn.request("POST", "/api/v1/reports/", body=body, headers=headers)
        else:
            start = time.perf_counter()
            conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        results.append((start, time.perf_counter(), response.status))
        i += 1
    conn.close()


def _client_process(ports, token, kind, threads, first_index, stop_at):
    results: list = []
    workers = [
        threading.Thread(
            target=_client_thread,
            args=(ports[(first_index + t) % len(ports)], token, kind, stop_at, results,
                  first_index + t),
        )
        for t in range(threads)
    ]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def load(ports, token, kind, seconds) -> tuple[list[float], int, int, float]:
    """(latencies of 2xx, successes, failures, seconds) with CLIENTS keep-alive clients."""
    stop_at = time.monotonic() + seconds
    per_process = CLIENTS // CLIENT_PROCESSES
    began = time.perf_counter()
    with ProcessPoolExecutor(CLIENT_PROCESSES) as pool:
        futures = [
            pool.submit(_client_process, ports, token, kind, per_process, p * per_process,
                        stop_at)
            for p in range(CLIENT_PROCESSES)
        ]  # fmt: skip
        results = [r for f in futures for r in f.result(timeout=seconds + 60)]
    elapsed = time.perf_counter() - began
    ok = [end - start for start, end, status in results if 200 <= status < 300]
    return ok, len(ok), len(results) - len(ok), elapsed


# --- Baseline: bare inserts from as many connections --------------------------------------------
def bare_inserts(seconds: float) -> tuple[list[float], int, float]:
    import psycopg
    from django.contrib.auth.models import User

    from agencies.models import Category, Kecamatan

    categories = [
        (c.pk, [a.pk for a in c.default_agencies.all()])
        for c in Category.objects.filter(code__in=CATEGORIES).prefetch_related("default_agencies")
    ]
    kecamatan = Kecamatan.objects.get(code="semarang_tengah").pk
    operator = User.objects.get(username="bench-notify-operator").pk
    url = os.environ["DATABASE_URL"]
    stop_at = time.monotonic() + seconds
    samples: list[float] = []
    lock = threading.Lock()

    def worker(index):
        mine = []
        with psycopg.connect(url) as conn:
            i = 0
            while time.monotonic() < stop_at:
                category, agencies = categories[(index + i) % len(categories)]
                start = time.perf_counter()
                insert_report_rows(
                    conn,
                    prefix=f"TPUT-{index:02d}",
                    phone="+6281300000000",
                    category_id=category,
                    kecamatan_id=kecamatan,
                    operator_id=operator,
                    agency_ids=agencies,
                    closed=True,
                )
                mine.append(time.perf_counter() - start)
                i += 1
        with lock:
            samples.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, len(samples), time.perf_counter() - began


def line(label, latencies, count, failures, seconds, base_rate=None):
    rate = count / seconds
    text = (
        f"{label:44}{rate:>9.0f}{percentile(latencies, 0.5) * 1000:>9.1f}"
        f"{percentile(latencies, 0.99) * 1000:>9.1f}{failures:>8}"
    )
    if base_rate:
        text += f"{rate / base_rate:>9.2f}×"
    return text, rate


def main() -> None:
    setup_django()
    operator_token, _ = setup_users(0)
    close_leftovers()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as logdir:
        servers = start_servers(WORKERS, Path(logdir), kind="gunicorn")
        try:
            ports = [s.port for s in servers]
            load(
                ports, operator_token, "health", WARM_UP_SECONDS
            )  # warm-up: connections, pools, imports
            health = load(ports, operator_token, "health", BASELINE_SECONDS)
            reports = load(ports, operator_token, "report", SECONDS)
        finally:
            stop_servers(servers)
    closed = close_leftovers()
    bare, bare_count, bare_seconds = bare_inserts(BASELINE_SECONDS)
    require(bare_count > 0 and health[1] > 0, "throughput: a baseline measured nothing")
    # The baseline's rows are inserted closed and cancelled: they stay (the event log is
    # append-only) without reaching any queue, snapshot or statistic of an open period.

    print(
        f"\nIntake throughput: {CLIENTS} concurrent clients for {SECONDS:g} s, gunicorn with "
        f"{WORKERS} workers (the README's layout on 2 cores), PostgreSQL + Redis; {closed} reports "
        "closed afterwards"
    )
    print(f"{'':44}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}{'ratio':>10}")
    bare_line, bare_rate = line("baseline: bare psycopg INSERTs (same rows)", bare, bare_count,
                                0, bare_seconds)  # fmt: skip
    health_line, health_rate = line("baseline: GET /healthz (same servers)", health[0],
                                    health[1], health[2], health[3])  # fmt: skip
    print(bare_line)
    print(health_line)
    require(reports[1] > 0, "throughput: no report was accepted")
    report_line, rate = line("POST /api/v1/reports/ (1–3 agencies each)", *reports)
    print(report_line)
    print(
        f"reports/s vs /healthz: {rate / health_rate:.2f}×; vs bare inserts: "
        f"{rate / bare_rate:.2f}×; target ≥ 300 reports/s: {'PASS' if rate >= 300 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
