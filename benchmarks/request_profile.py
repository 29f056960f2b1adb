"""Where one `POST /api/v1/reports/` spends its CPU: the whole Django request (middleware,
token authentication, throttles, parsing, validation, `report_create`, publish, rendering)
run in-process through the WSGI handler, N times under cProfile, in production mode against
the benchmarks' PostgreSQL and Redis (no network between client and server, so the figures
are the server's own cost).

Prints the mean wall time per request, the statements per request, and the profile folded
by layer (a flat "flame summary": the share of the run's time spent in each package's own
code) and its top functions by cumulative time. BENCH_PROFILE_REQUESTS (300) sets N;
BENCH_PROFILE_OUT=file writes the raw profile (for snakeviz / flameprof)."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.notify_latency import CATEGORIES, setup_django, setup_users  # noqa: E402

N = int(os.environ.get("BENCH_PROFILE_REQUESTS", "300"))
WARMUP = 30

# Folded by where a function's file lives: the first match wins.
LAYERS = [
    ("psycopg (driver, wire)", ("/psycopg/", "/psycopg_binary/", "psycopg_c")),
    ("redis-py / channels-redis (publish)", ("/redis/", "/channels_redis/", "/msgpack/")),
    ("Django ORM (query building, model init)", ("/django/db/",)),
    ("DRF (views, serializers, fields)", ("/rest_framework/",)),
    ("django-filter", ("/django_filters/",)),
    ("Django request/middleware/auth/i18n", ("/django/",)),
    ("asyncio / asgiref (sync↔async bridges)", ("/asyncio/", "/asgiref/")),
    ("json / encoding", ("/json/", "orjson")),
    ("Dispatch 112 (ours)", (str(ROOT) + "/",)),
]


def layer_of(filename: str) -> str:
    for name, needles in LAYERS:
        if any(needle in filename for needle in needles):
            return name
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C calls, socket I/O)"
    return "other Python (stdlib, other packages)"


def bodies(count: int):
    for i in range(count):
        yield json.dumps(
            {
                "caller_phone": f"08131{i % 100000:05d}{i % 1000:03d}",
                "caller_name": "Pelapor Profil",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "description": f"Profil permintaan #{i}",
                "address": "Jl. Pemuda No. 1",
                "kecamatan": "semarang_tengah",
            }
        )


def main() -> None:
    setup_django()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    operator_key, _ = setup_users(0)
    client = Client(HTTP_AUTHORIZATION=f"Token {operator_key}", HTTP_HOST="127.0.0.1")

    def post(body: str) -> None:
        response = client.post("/api/v1/reports/", body, content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(f"POST failed: {response.status_code} {response.content[:300]!r}")

    for body in bodies(WARMUP):
        post(body)
    with CaptureQueriesContext(connection) as queries:
        post(next(bodies(1)))
    statements = [q["sql"] for q in queries.captured_queries]
    reset_queries()

    work = list(bodies(N))
    start, cpu_start = time.perf_counter(), time.thread_time()
    for body in work:
        post(body)
    plain = (time.perf_counter() - start) / N
    cpu = (time.thread_time() - cpu_start) / N

    print(f"\nRequest profile: POST /api/v1/reports/ in-process (WSGI handler), {N} requests")
    print(f"  per request, no profiler: {plain * 1000:.2f} ms wall, {cpu * 1000:.2f} ms CPU")
    print(f"  SQL statements per request: {len(statements)}")
    for sql in statements:
        print(f"    {sql[:110]}")
    if os.environ.get("BENCH_PROFILE_CPROFILE", "1") == "0":
        return  # sampled from outside (py-spy, `make profile`): the loop above was the run

    # CPU time of this thread, not wall time: waiting for PostgreSQL or Redis costs the
    # server's cores nothing, and is what the SQL statement count above accounts for.
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    for body in work:
        post(body)
    profile.disable()
    if os.environ.get("BENCH_PROFILE_OUT"):
        profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])

    stats = pstats.Stats(profile)
    own: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        own[layer_of(filename)] += tottime
        total += tottime
    print(f"  CPU by layer (own time, profiled, {total / N * 1000:.2f} ms per request):")
    for name, seconds in sorted(own.items(), key=lambda item: -item[1]):
        share = seconds / total
        print(f"    {name:44}{seconds / N * 1000:7.2f} ms {share:6.1%} {'#' * round(share * 40)}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(28)
    print("  top functions by cumulative time:")
    for line in out.getvalue().splitlines():
        if line.strip() and ("/" in line or "ncalls" in line):
            print("    " + line.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>")[:150])


# --- py-spy's raw stacks folded into the request's phases (`make profile`) -----------------------
# A sample counts for every phase whose function is on its stack; "elsewhere" is the rest of
# the request (Django's handler and middleware, DRF's dispatch, the test client).
PHASES = [
    ("token → user, role (authentication)", r"_authenticate \(rest_framework/request"),
    ("permissions", r"check_permissions \("),
    ("throttles", r"check_throttles \("),
    ("body parsing and serializer validation", r"_parse \(rest_framework/request|is_valid \("),
    ("report_create (service, in the transaction)", r"report_create \(reports/services"),
    ("  configuration (agencies.directory, routing)", r"current \(agencies/directory|route \("),
    ("  INSERT report, call, assignments", r"report_create \([^;]*;manager_method \("),
    ("  events (bulk INSERT)", r"events_record \("),
    ("  numbering (day counter, UPDATE)", r"number_report \("),
    ("COMMIT and what runs on it", r"__exit__ \(django/db/transaction"),
    ("  live payloads (serialisers)", r"live_payloads \("),
    ("  Redis publish", r"_deliver \(notifications"),
    ("response rendering", r"render \(rest_framework/renderers"),
]


def fold(path: str) -> None:
    import re

    samples = []
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "main.<locals>.post (" in stack and "request_profile" in stack:
            samples.append((stack, int(count)))
    total = sum(count for _, count in samples)
    if not total:
        raise SystemExit(f"no request samples in {path}")
    print(f"\nFlame summary ({total} samples of requests, GIL held: CPU in Python):")
    accounted = 0
    for name, pattern in PHASES:
        rx = re.compile(pattern)
        count = sum(c for stack, c in samples if rx.search(stack))
        if not name.startswith(" "):
            accounted += count
        print(f"  {name:48}{count / total:6.1%} {'#' * round(count / total * 40)}")
    print(f"  {'elsewhere (handler, middleware, DRF dispatch)':48}{1 - accounted / total:6.1%}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--fold":
        fold(sys.argv[2])
    else:
        main()
