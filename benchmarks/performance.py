"""Agency performance at city scale: GET /api/v1/stats/agencies/ for a full year over
1,000,000 assignments, against the baseline of one hand-written SQL statement computing the
same per-agency aggregates (counts, percentile_cont medians and p90, share within target),
run with bare psycopg in the same run. Target: the endpoint answers a year in ≤ 1 s.

Production mode on its own PostgreSQL database (BENCH_PERF_DATABASE_URL, default a local
`dispatch112_perfbench`, created if missing; 127.0.0.1 only). The data are generated once,
in SQL (INSERT … SELECT over generate_series): ~450,000 reports over the 365 WIB days before
the generation day with a daily rhythm, 1–3 assignments each along the category routing (an
operator-added agency now and then), and timings drawn per agency; later runs reuse them.

`main()` (run.py) starts this file in a process of its own: the other benchmarks have already
set Django up on their database. Knobs: BENCH_PERF_RUNS (5), BENCH_PERF_REPORTS (450000),
BENCH_PERF_ASSIGNMENTS (1000000), BENCH_PERF_TARGET_SECONDS (1.0), BENCH_PERF_REGENERATE=1;
BENCH_TINY=1: 2 runs over 2,000 reports in `dispatch112_perfbench_tiny`."""

from __future__ import annotations

import io
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import insert_sql, knob, require  # noqa: E402
from benchmarks.intake import ensure_database  # noqa: E402

# BENCH_TINY=1 has a database of its own: the full run's generated year stays as it is.
DATABASE_URL = knob(
    "BENCH_PERF_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/dispatch112_perfbench",
    tiny="postgres://postgres@127.0.0.1:5432/dispatch112_perfbench_tiny",
)
RUNS = knob("BENCH_PERF_RUNS", 5, tiny=2)
REPORTS = knob("BENCH_PERF_REPORTS", 450000, tiny=2000)
ASSIGNMENTS = knob("BENCH_PERF_ASSIGNMENTS", 1000000, tiny=4000)
TARGET_SECONDS = knob("BENCH_PERF_TARGET_SECONDS", 1.0)
REGENERATE = knob("BENCH_PERF_REGENERATE", "") not in ("", "0")
# Bounds the whole benchmark, first-time generation included.
PROCESS_TIMEOUT = knob("BENCH_PERF_TIMEOUT", 900, tiny=180)
ENVIRONMENT = {
    "DATABASE_URL": DATABASE_URL,
    "SECRET_KEY": "benchmark-only",
    "DEBUG": "false",
    "ENV_FILE": "/nonexistent",
    "ALLOWED_HOSTS": "testserver",
    "SECURE_COOKIES": "false",
    "SECURE_SSL_REDIRECT": "false",  # the test client speaks plain HTTP, as behind the proxy
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "dispatch112.settings",
}
URL = "/api/v1/stats/agencies/"
SUPERVISOR = "bench-perf-supervisor"
OPERATOR = "bench-perf-operator"
NUMBER_PREFIX = "PB-"
FILTER_CATEGORY = "kecelakaan"

# Share of the reports per category (a big city: traffic first); unknown categories get none.
CATEGORY_WEIGHTS = {
    "kemacetan": 27, "kecelakaan": 25, "kebakaran": 4, "darurat_medis": 5, "ambulans": 3,
    "kriminal": 3, "bencana": 1, "banjir": 7, "pohon_tumbang": 5, "pju_padam": 3,
    "kamtibmas": 6, "evakuasi_hewan": 2, "korsleting": 3, "penemuan_mayat": 1, "narkoba": 1,
    "lainnya": 4,
}  # fmt: skip
# Reports routed to fewer than 3 agencies get one more (picked by the operator) this often;
# reports of a category with no routing always get one.
EXTRA_AGENCY_SHARE = 0.42
# Per agency: median seconds from notification to acknowledgement, and median minutes from
# the call to arrival on scene (log-normal around them), so that agencies differ.
AGENCY_TIMINGS = {
    "ambulans": (18, 9),
    "damkar": (15, 8),
    "polrestabes": (30, 12),
    "dishub": (40, 15),
    "satpolpp": (45, 17),
    "bpbd": (35, 19),
    "basarnas": (30, 21),
    "dpu": (50, 25),
    "pln": (55, 28),
}
DEFAULT_TIMINGS = (40, 18)
REJECT_REASONS = [
    "Di luar wilayah tugas",
    "Unit sedang menangani kejadian lain",
    "Bukan kewenangan instansi",
    "Laporan sudah ditangani instansi lain",
]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- Setup ------------------------------------------------------------------------------------
def check_local(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"performance benchmark: refusing a non-local database ({host})")


def setup_django() -> None:
    check_local(DATABASE_URL)
    os.environ.update(ENVIRONMENT)
    os.environ.pop("REDIS_URL", None)
    ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", no_users=True, verbosity=0, stdout=io.StringIO())


def setup_users() -> tuple[int, str]:
    """The operator's id (on the generated reports) and the supervisor's API token."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from agencies.roles import OPERATOR_GROUP, SUPERVISOR_GROUP

    operator, _ = User.objects.get_or_create(username=OPERATOR)
    operator.groups.add(Group.objects.get_or_create(name=OPERATOR_GROUP)[0])
    supervisor, _ = User.objects.get_or_create(username=SUPERVISOR)
    supervisor.groups.add(Group.objects.get_or_create(name=SUPERVISOR_GROUP)[0])
    return operator.pk, Token.objects.get_or_create(user=supervisor)[0].key


# --- Data -------------------------------------------------------------------------------------
def generated_assignments(conn) -> int:
    (count,) = conn.execute(
        "SELECT count(*) FROM reports_assignment a JOIN reports_report r ON r.id = a.report_id"
        " WHERE r.number LIKE %s",
        [NUMBER_PREFIX + "%"],
    ).fetchone()
    return count


def generate(conn, operator_id: int) -> None:
    """~REPORTS reports and ≥ ASSIGNMENTS assignments, in one transaction: random draws into
    temporary tables first, then the rows with explicit report ids (and thus numbers)."""
    categories = dict(conn.execute("SELECT code, id FROM agencies_category").fetchall())
    weighted = [(categories[c], w) for c, w in CATEGORY_WEIGHTS.items() if c in categories]
    total = sum(w for _, w in weighted)
    bounds, cumulative = [], 0
    for _, weight in weighted:
        bounds.append(cumulative / total)
        cumulative += weight
    agencies = conn.execute("SELECT id, code FROM agencies_agency ORDER BY id").fetchall()
    timings = [(pk, *AGENCY_TIMINGS.get(code, DEFAULT_TIMINGS)) for pk, code in agencies]
    kecamatan = [pk for (pk,) in conn.execute("SELECT id FROM agencies_kecamatan ORDER BY id")]
    (offset,) = conn.execute("SELECT coalesce(max(id), 0) FROM reports_report").fetchone()
    last_day = datetime.now(ZoneInfo("Asia/Jakarta")).date() - timedelta(days=1)
    params = {
        "reports": REPORTS,
        "bounds": bounds,
        "category_ids": [pk for pk, _ in weighted],
        "kecamatan_ids": kecamatan,
        "agency_ids": [pk for pk, _ in agencies],
        "timing_agency": [t[0] for t in timings],
        "timing_ack": [float(t[1]) for t in timings],
        "timing_response": [float(t[2]) for t in timings],
        "first_day": last_day - timedelta(days=364),
        "extra_share": EXTRA_AGENCY_SHARE,
        "reasons": REJECT_REASONS,
        "offset": offset,
        "operator": operator_id,
        "prefix": NUMBER_PREFIX,
    }

    # Reports: a day of the year, a time of day (a quiet night, a morning and an evening peak;
    # normal draws by Box–Muller), a category by weight.
    conn.execute(
        """
        CREATE TEMP TABLE pb_report ON COMMIT DROP AS
        WITH draws AS MATERIALIZED (
            SELECT g AS n, random() AS u_day, random() AS u_mix, 1 - random() AS u1,
                   random() AS u2, random() AS u_category, random() AS u_kecamatan,
                   random() AS u_extra, random() AS u_pick
            FROM generate_series(1, %(reports)s) g
        ), shaped AS (
            SELECT *, sqrt(-2 * ln(u1)) * cos(2 * pi() * u2) AS z FROM draws
        )
        SELECT row_number() OVER (ORDER BY received_at) AS n, * FROM (
        SELECT u_extra, u_pick,
               (%(category_ids)s::bigint[])[width_bucket(u_category, %(bounds)s::float8[])]
                   AS category_id,
               (%(kecamatan_ids)s::bigint[])[1 + floor(u_kecamatan * %(kecamatan_count)s)::int]
                   AS kecamatan_id,
               ((%(first_day)s::date + floor(u_day * 365)::int)::timestamp
                + make_interval(secs => 3600 * (hour - 24 * floor(hour / 24))))
                   AT TIME ZONE 'Asia/Jakarta' AS received_at
        FROM shaped,
             LATERAL (SELECT CASE WHEN u_mix < 0.3 THEN 24 * u2
                                  WHEN u_mix < 0.65 THEN 10 + 3 * z
                                  ELSE 18.5 + 3 * z END AS hour) h
        ) drawn
        """,
        {**params, "kecamatan_count": len(kecamatan)},
    )
    # Which agencies: the category's routing, plus one the operator added (never a repeat:
    # the first of three neighbours in the agency list that is not routed already).
    conn.execute(
        """
        CREATE TEMP TABLE pb_route ON COMMIT DROP AS
        WITH routing AS (
            SELECT c.id AS category_id, c.default_priority AS priority,
                   coalesce(array_agg(d.agency_id) FILTER (WHERE d.agency_id IS NOT NULL),
                            '{}') AS agencies
            FROM agencies_category c
            LEFT JOIN agencies_category_default_agencies d ON d.category_id = c.id
            GROUP BY c.id
        ), agency AS (SELECT %(agency_ids)s::bigint[] AS ids)
        SELECT r.n, r.received_at, routing.priority, a.agency_id
        FROM pb_report r JOIN routing USING (category_id), unnest(routing.agencies) a(agency_id)
        UNION ALL
        SELECT r.n, r.received_at, routing.priority,
               (SELECT x FROM unnest(ARRAY[
                    ids[1 + k], ids[1 + (k + 1) %% cardinality(ids)],
                    ids[1 + (k + 2) %% cardinality(ids)]]) x
                WHERE x <> ALL (routing.agencies) LIMIT 1)
        FROM pb_report r JOIN routing USING (category_id), agency,
             LATERAL (SELECT floor(r.u_pick * cardinality(ids))::int AS k) pick
        WHERE cardinality(routing.agencies) = 0
           OR (cardinality(routing.agencies) < 3 AND r.u_extra < %(extra_share)s)
        """,
        params,
    )
    # Timings: acknowledgement log-normal around the agency's median (10 s – 10 min); arrival
    # log-normal around its median (3–40 min from the call, faster for priority 1); then the
    # outcome: 4 % cancelled, 3 % rejected, the rest acknowledged 97 %, on scene 94 % of
    # those, resolved 94 % of those.
    conn.execute(
        """
        CREATE TEMP TABLE pb_assignment ON COMMIT DROP AS
        WITH draws AS MATERIALIZED (
            SELECT r.*, t.ack_median, t.response_median, ag.response_target_seconds AS target,
                   random() AS u_outcome, random() AS u_ack, random() AS u_arrive,
                   random() AS u_resolve, random() AS u_dispatch, random() AS u_step,
                   random() AS u_notify, 1 - random() AS v1, random() AS v2,
                   1 - random() AS w1, random() AS w2
            FROM pb_route r
            JOIN agencies_agency ag ON ag.id = r.agency_id
            JOIN unnest(%(timing_agency)s::bigint[], %(timing_ack)s::float8[],
                        %(timing_response)s::float8[]) t(agency_id, ack_median, response_median)
                 USING (agency_id)
        ), durations AS (
            SELECT *,
                   CASE WHEN u_outcome < 0.04 THEN 'cancelled'
                        WHEN u_outcome < 0.07 THEN 'rejected' ELSE 'normal' END AS outcome,
                   least(600, greatest(10, ack_median
                       * exp(0.7 * sqrt(-2 * ln(v1)) * cos(2 * pi() * v2)))) AS ack_s,
                   least(2400, greatest(180, 60 * response_median
                       * CASE priority WHEN 1 THEN 0.85 WHEN 3 THEN 1.2 ELSE 1 END
                       * exp(0.45 * sqrt(-2 * ln(w1)) * cos(2 * pi() * w2)))) AS response_s,
                   CASE priority WHEN 1 THEN 60 WHEN 2 THEN 120 ELSE 300 END AS ack_timeout
            FROM draws
        ), steps AS (
            SELECT *,
                   CASE outcome WHEN 'cancelled' THEN u_ack < 0.4
                                WHEN 'rejected' THEN u_ack < 0.3 ELSE u_ack < 0.97 END AS acked
            FROM durations
        ), steps2 AS (
            SELECT *, outcome = 'normal' AND acked AND u_arrive < 0.94 AS arrived FROM steps
        ), steps3 AS (
            SELECT *, arrived AND u_resolve < 0.94 AS resolved,
                   outcome = 'normal' AND acked AND (arrived OR u_dispatch < 0.5) AS dispatched,
                   received_at + make_interval(secs => 2 + 6 * u_notify) AS notified_at
            FROM steps2
        ), times AS (
            SELECT *,
                   CASE WHEN acked THEN notified_at + make_interval(secs => ack_s) END
                       AS acknowledged_at
            FROM steps3
        ), times2 AS (
            SELECT *,
                   CASE WHEN arrived THEN greatest(received_at + make_interval(secs => response_s),
                        acknowledged_at + interval '60 seconds') END AS arrived_at
            FROM times
        )
        SELECT n, agency_id, notified_at, acknowledged_at, arrived_at,
               CASE WHEN outcome <> 'normal' THEN outcome WHEN resolved THEN 'resolved'
                    WHEN arrived THEN 'on_scene' WHEN dispatched THEN 'dispatched'
                    WHEN acked THEN 'acknowledged' ELSE 'notified' END AS status,
               CASE WHEN dispatched
                    THEN acknowledged_at + make_interval(secs => 10 + 50 * u_dispatch) END
                   AS dispatched_at,
               CASE WHEN dispatched THEN greatest(1, round(response_s / 60 * (0.8 + 0.4 * u_step)))
                    END::smallint AS eta_minutes,
               CASE WHEN resolved THEN arrived_at + make_interval(secs => 600 + 4800 * u_step) END
                   AS resolved_at,
               CASE WHEN outcome = 'rejected' THEN coalesce(acknowledged_at, notified_at)
                    + make_interval(secs => 20 + 280 * u_step) END AS rejected_at,
               CASE WHEN outcome = 'rejected'
                    THEN (%(reasons)s::text[])[1 + floor(u_step * %(reason_count)s)::int]
                    ELSE '' END AS reject_reason,
               CASE WHEN outcome = 'cancelled' THEN coalesce(acknowledged_at, notified_at)
                    + make_interval(secs => 60 + 1140 * u_step) END AS cancelled_at,
               CASE WHEN (outcome = 'normal' AND NOT acked) OR ack_s > ack_timeout
                         AND outcome = 'normal'
                    THEN notified_at + make_interval(secs => ack_timeout) END AS escalated_at,
               CASE WHEN outcome = 'normal' AND (arrived_at IS NULL
                         OR arrived_at > received_at + make_interval(secs => target))
                    THEN received_at + make_interval(secs => target) END AS overdue_at
        FROM times2
        """,
        {**params, "reason_count": len(REJECT_REASONS)},
    )
    # Reports whose every assignment is over are closed a few minutes after the last one.
    from reports.models import Assignment, Report

    report = {
        "id": "%(offset)s + r.n",
        "number": "%(prefix)s || (%(offset)s + r.n)",
        "caller_name": "'Pelapor'",
        "caller_phone": "'+62812' || lpad((r.n %% 10000000)::text, 7, '0')",
        "category_id": "r.category_id",
        "priority": "c.default_priority",
        "description": "'Laporan benchmark'",
        "address": "'Jl. Pemuda'",
        "kecamatan_id": "r.kecamatan_id",
        "received_at": "r.received_at",
        "operator_id": "%(operator)s",
        "status": "CASE WHEN s.over THEN 'closed' ELSE 'open' END",
        "close_reason": "CASE WHEN NOT s.over THEN '' WHEN s.resolved THEN 'resolved'"
        " ELSE 'non_emergency' END",
        "closed_at": "CASE WHEN s.over THEN s.last_step + interval '5 minutes' END",
        "created_at": "r.received_at + interval '30 seconds'",
    }
    conn.execute(
        insert_sql(
            Report,
            report,
            select="""
            FROM pb_report r
            JOIN agencies_category c ON c.id = r.category_id
            JOIN (SELECT n, bool_and(status IN ('resolved', 'rejected', 'cancelled')) AS over,
                         bool_or(status = 'resolved') AS resolved,
                         max(coalesce(resolved_at, rejected_at, cancelled_at)) AS last_step
                  FROM pb_assignment GROUP BY n) s USING (n)
            ORDER BY r.n""",
        ),
        params,
    )
    conn.execute(
        "SELECT setval(pg_get_serial_sequence('reports_report', 'id'),"
        " (SELECT max(id) FROM reports_report))"
    )
    copied = ["agency_id", "status", "notified_at", "acknowledged_at", "dispatched_at",
              "eta_minutes", "arrived_at", "resolved_at", "rejected_at", "reject_reason",
              "cancelled_at", "escalated_at", "overdue_at"]  # fmt: skip
    assignment = {
        "report_id": "%(offset)s + p.n",
        "received_at": "r.received_at",
        **{column: f"p.{column}" for column in copied},
    }
    conn.execute(
        insert_sql(
            Assignment,
            assignment,
            select="""
            FROM pb_assignment p JOIN reports_report r ON r.id = %(offset)s + p.n
            ORDER BY p.n, p.agency_id""",
        ),
        params,
    )


def ensure_data(operator_id: int) -> tuple[float | None, int]:
    """Generates the data unless they are there; (seconds it took or None, assignments)."""
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        have = generated_assignments(conn)
        if have >= ASSIGNMENTS and not REGENERATE:
            # As autovacuum would in production: a migration that rewrote rows (e.g. a
            # backfill) leaves the visibility map cleared, and index-only scans need it.
            conn.execute("VACUUM ANALYZE reports_assignment")
            return None, have
        start = time.perf_counter()
        with conn.transaction():
            conn.execute(
                "DELETE FROM reports_assignment WHERE report_id IN"
                " (SELECT id FROM reports_report WHERE number LIKE %s)",
                [NUMBER_PREFIX + "%"],
            )
            conn.execute("DELETE FROM reports_report WHERE number LIKE %s", [NUMBER_PREFIX + "%"])
            generate(conn, operator_id)
            have = generated_assignments(conn)
        conn.execute("VACUUM ANALYZE reports_report, reports_assignment")
        seconds = time.perf_counter() - start
    if have < ASSIGNMENTS:
        print(f"warning: only {have} assignments generated (wanted ≥ {ASSIGNMENTS})")
    return seconds, have


def the_year() -> tuple[date, date]:
    """The 365 WIB days up to the last day with data."""
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        (last,) = conn.execute(
            "SELECT max(received_at AT TIME ZONE 'Asia/Jakarta')::date FROM reports_report"
        ).fetchone()
    return last - timedelta(days=364), last


# --- Measurements -----------------------------------------------------------------------------
def measure_endpoint(token: str, params: dict) -> tuple[list[float], list[dict]]:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    samples, body = [], None
    for i in range(RUNS + 1):  # the first one warms up
        start = time.perf_counter()
        response = client.get(URL, params)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"{URL} answered {response.status_code}: {response.content[:300]}")
        if i:
            samples.append(elapsed)
        body = response.json()
    return samples, body


BARE_SQL = """
SELECT a.agency_id,
       count(*) AS assignments,
       count(*) FILTER (WHERE a.acknowledged_at IS NOT NULL) AS acknowledged,
       count(*) FILTER (WHERE arrived) AS arrived,
       count(*) FILTER (WHERE a.status = 'resolved') AS resolved,
       count(*) FILTER (WHERE a.status = 'rejected') AS rejected,
       count(*) FILTER (WHERE a.escalated_at IS NOT NULL) AS escalated,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ack) AS ack_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ack) AS ack_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY response) FILTER (WHERE arrived)
           AS response_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY response) FILTER (WHERE arrived)
           AS response_p90,
       count(*) FILTER (WHERE arrived AND response <= ag.response_target_seconds)
           AS within_target
FROM reports_assignment a
JOIN agencies_agency ag ON ag.id = a.agency_id
CROSS JOIN LATERAL (
    SELECT a.arrived_at IS NOT NULL AND a.status NOT IN ('rejected', 'cancelled') AS arrived,
           date_part('epoch', a.acknowledged_at - a.notified_at) AS ack,
           date_part('epoch', a.arrived_at - a.received_at) AS response
) x
WHERE a.received_at >= %(start)s AND a.received_at < %(end)s {extra}
GROUP BY a.agency_id
"""


def bare_sql(category_id: int | None) -> str:
    return BARE_SQL.format(
        extra="AND a.report_id IN (SELECT id FROM reports_report WHERE category_id = %(category)s)"
        if category_id
        else ""
    )


def measure_bare(since: date, until: date, category_id: int | None = None):
    import psycopg

    from performance.selectors import PerformanceFilter

    period = PerformanceFilter(since=since, until=until)
    params = {"start": period.start, "end": period.end, "category": category_id}
    sql = bare_sql(category_id)
    samples, rows = [], None
    with psycopg.connect(DATABASE_URL) as conn:
        for i in range(RUNS + 1):
            start = time.perf_counter()
            rows = conn.execute(sql, params).fetchall()
            elapsed = time.perf_counter() - start
            if i:
                samples.append(elapsed)
    return samples, rows


def same_numbers(body: list[dict], rows) -> bool:
    from agencies.models import Agency

    codes = dict(Agency.objects.values_list("pk", "code"))
    by_code = {r["agency"]: r for r in body}
    for row in rows:
        api = by_code.get(codes[row[0]])
        if api is None or [api[k] for k in ("assignments", "acknowledged", "arrived")] != list(
            row[1:4]
        ):
            return False
        if api["response_seconds_median"] != (None if row[9] is None else round(row[9], 1)):
            return False
    return True


def explain_selector(token: str, params: dict) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the selector's aggregate query, captured from a call."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        Client(HTTP_AUTHORIZATION=f"Token {token}").get(URL, params)
    sql = next(q["sql"] for q in captured.captured_queries if "percentile_cont" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = [line for (line,) in cursor.fetchall()]
    summary = [_without_costs(plan[0])]
    buffers = next((text for text in plan if "Buffers:" in text), None)
    if buffers:
        summary.append(buffers)
    for text in plan[1:]:
        if "->" in text:
            summary.append(_without_costs(text))
        elif "Sort Method" in text or "Planning Time" in text or "Execution Time" in text:
            summary.append(text)
        elif "Timing: Generation" in text:
            summary.append("  JIT: " + text.strip().split(", ")[-1])
    return summary


def _without_costs(text: str) -> str:
    return re.sub(r"\(cost=[^)]*\) ", "", text)


def line(label: str, samples: list[float], baseline: float | None = None) -> str:
    median, worst = statistics.median(samples), max(samples)
    ratio = f"{median / baseline:>8.2f}×" if baseline else f"{'':>9}"
    return f"{label:44}{median * 1000:>9.0f}{worst * 1000:>9.0f}{ratio}"


def run() -> None:
    setup_django()
    operator_id, token = setup_users()
    generation, assignments = ensure_data(operator_id)
    from agencies.models import Category
    from reports.models import Report

    require(assignments > 0, "performance: no assignment generated")
    since, until = the_year()
    reports = Report.objects.filter(number__startswith=NUMBER_PREFIX).count()
    year = {"since": since.isoformat(), "until": until.isoformat()}
    endpoint, body = measure_endpoint(token, year)
    bare, rows = measure_bare(since, until)
    plan = explain_selector(token, year)

    # One category, one month: the last whole month of the year.
    month_end = until.replace(day=1) - timedelta(days=1)
    month = {
        "since": month_end.replace(day=1).isoformat(),
        "until": month_end.isoformat(),
        "category": FILTER_CATEGORY,
    }
    category = Category.objects.filter(code=FILTER_CATEGORY).first()
    filtered, filtered_body = measure_endpoint(token, month)
    filtered_bare, filtered_rows = measure_bare(
        month_end.replace(day=1), month_end, category.pk if category else None
    )
    filtered_plan = explain_selector(token, month)

    print(
        f"\nAgency performance: GET {URL} over {assignments:,} assignments of {reports:,}"
        f" reports, PostgreSQL; {os.cpu_count()} CPUs, load average"
        f" {os.getloadavg()[0]:.2f} at the end"
    )
    if generation is None:
        print("data: reused from an earlier run (BENCH_PERF_REGENERATE=1 makes them again)")
    else:
        print(f"data: generated in {generation:.1f} s (INSERT … SELECT generate_series, VACUUM)")
    print(f"{'':44}{'median':>9}{'max':>9}{'× bare':>9}   (ms, {RUNS} warm runs each)")
    print(line("bare SQL, psycopg (baseline), year", bare))
    print(line(f"endpoint, year {since} – {until}", endpoint, statistics.median(bare)))
    print(line(f"bare SQL, {FILTER_CATEGORY}, {month['since'][:7]}", filtered_bare))
    print(
        line(
            f"endpoint, {FILTER_CATEGORY}, {month['since'][:7]}",
            filtered,
            statistics.median(filtered_bare),
        )
    )
    print(
        "same numbers as the bare SQL: "
        f"year {'yes' if same_numbers(body, rows) else 'NO'}, "
        f"month {'yes' if same_numbers(filtered_body, filtered_rows) else 'NO'}"
    )
    print("selector's query plan, year (EXPLAIN ANALYZE, BUFFERS):")
    print("\n".join("  " + p for p in plan))
    print(f"selector's query plan, {FILTER_CATEGORY} × one month:")
    print("\n".join("  " + p for p in filtered_plan))
    verdict = "PASS" if statistics.median(endpoint) <= TARGET_SECONDS else "FAIL"
    print(
        f"{verdict}: endpoint median {statistics.median(endpoint):.2f} s for a year "
        f"(target ≤ {TARGET_SECONDS:g} s; max {max(endpoint):.2f} s)"
    )


def main() -> None:
    """Runs the benchmark in a process of its own (Django may be set up on another database)."""
    try:
        result = subprocess.run(
            [sys.executable, str(Path(__file__).resolve())], timeout=PROCESS_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"FAIL: the performance benchmark took over {PROCESS_TIMEOUT} s") from None
    if result.returncode:
        raise SystemExit(f"FAIL: the performance benchmark exited with {result.returncode}")


if __name__ == "__main__":
    run()
