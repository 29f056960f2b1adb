"""Intake cost: one operator's `report_create` (call + report + 2 assignments + 3 events, one
transaction) against the baseline of bare psycopg INSERTs of the same rows plus COMMIT.

Sequential, one connection each, on PostgreSQL (DATABASE_URL, default a local
`dispatch112_bench` database that is created if missing; `dispatch112_bench_tiny` under
BENCH_TINY=1). Prints latency and ratio. Knob: BENCH_REPORTS (400; tiny 20)."""

from __future__ import annotations

import functools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import insert_sql, knob, pick, require

N = knob("BENCH_REPORTS", 400, tiny=20)
# BENCH_TINY=1 runs on databases of its own: the full run's data stay as they are.
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/" + pick(
    "dispatch112_bench", "dispatch112_bench_tiny"
)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch112.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", no_users=True, verbosity=0)


def measure_service() -> list[float]:
    from django.contrib.auth.models import Group, User

    from agencies.roles import OPERATOR_GROUP
    from reports import services

    operator, _ = User.objects.get_or_create(username="bench-operator")
    operator.groups.add(Group.objects.get_or_create(name=OPERATOR_GROUP)[0])
    samples = []
    for i in range(N):
        start = time.perf_counter()
        services.report_create(
            operator=operator,
            caller_phone=f"08122{i:07d}",
            caller_name="Pelapor Benchmark",
            category="kemacetan",
            description="Kemacetan panjang di simpang",
            address="Jl. Pandanaran",
            kecamatan="semarang_tengah",
        )
        samples.append(time.perf_counter() - start)
    return samples


def measure_bare_inserts() -> list[float]:
    """The same rows through bare psycopg: counter upsert, report, call, 2 assignments,
    3 events, COMMIT."""
    import psycopg
    from django.contrib.auth.models import User

    from agencies.models import Agency, Category, Kecamatan

    category = Category.objects.get(code="kemacetan")
    agencies = list(Agency.objects.filter(code__in=["dishub", "polrestabes"]))
    kecamatan = Kecamatan.objects.get(code="semarang_tengah")
    operator = User.objects.get(username="bench-operator")
    samples = []
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        for i in range(N):
            start = time.perf_counter()
            insert_report_rows(
                conn,
                prefix="BASE",
                phone=f"+628122{i:07d}",
                category_id=category.pk,
                kecamatan_id=kecamatan.pk,
                operator_id=operator.pk,
                agency_ids=[agency.pk for agency in agencies],
            )
            samples.append(time.perf_counter() - start)
    return samples


@functools.cache
def report_rows_sql(closed: bool) -> tuple[str, ...]:
    """The statements of insert_report_rows, built once from the models."""
    from reports.models import Assignment, Call, Event, Report

    report_state = {"status": "'open'", "close_reason": "''", "closed_at": "NULL"}
    assignment_state = {"status": "'notified'", "cancelled_at": "NULL"}
    if closed:
        report_state = {"status": "'closed'", "close_reason": "'information'", "closed_at": "now()"}
        assignment_state = {"status": "'cancelled'", "cancelled_at": "now()"}
    counter = (
        "INSERT INTO reports_reportcounter (day, last) VALUES ('2000-01-01', 1) "
        "ON CONFLICT (day) DO UPDATE SET last = reports_reportcounter.last + 1 RETURNING last"
    )
    report = insert_sql(
        Report,
        {"number": "%s", "caller_name": "'Pelapor'", "caller_phone": "%s", "category_id": "%s",
         "priority": "3", "description": "'Kemacetan'", "address": "'Jl. Pandanaran'",
         "kecamatan_id": "%s", "received_at": "now()", "operator_id": "%s", **report_state},
        returning="id",
    )  # fmt: skip
    call = insert_sql(
        Call,
        {"caller_phone": "%s", "caller_name": "'Pelapor'", "received_at": "now()",
         "operator_id": "%s", "outcome": "'report'", "report_id": "%s"},
    )  # fmt: skip
    created = insert_sql(
        Event, {"report_id": "%s", "kind": "'report.created'", "actor_id": "%s"}
    )  # fmt: skip
    assignment = insert_sql(
        Assignment,
        {"report_id": "%s", "agency_id": "%s", "notified_at": "now()", "received_at": "now()",
         **assignment_state},
        returning="id",
    )  # fmt: skip
    assigned = insert_sql(
        Event,
        {"report_id": "%s", "assignment_id": "%s", "kind": "'assignment.created'",
         "actor_id": "%s"},
    )  # fmt: skip
    return counter, report, call, created, assignment, assigned


def insert_report_rows(
    conn, *, prefix, phone, category_id, kecamatan_id, operator_id, agency_ids, closed=False
) -> None:
    """What report_create writes, as bare SQL in one transaction: counter upsert, report,
    call, its event, one assignment and event per agency, COMMIT. `closed` writes the report
    closed and the assignments cancelled, so that they reach no queue or snapshot."""
    counter, report, call, created, assignment, assigned = report_rows_sql(closed)
    with conn.transaction():
        (n,) = conn.execute(counter).fetchone()
        (report_id,) = conn.execute(
            report, [f"{prefix}-{n:06d}", phone, category_id, kecamatan_id, operator_id]
        ).fetchone()
        conn.execute(call, [phone, operator_id, report_id])
        conn.execute(created, [report_id, operator_id])
        for agency_id in agency_ids:
            (assignment_id,) = conn.execute(assignment, [report_id, agency_id]).fetchone()
            conn.execute(assigned, [report_id, assignment_id, operator_id])


def main() -> None:
    setup_django()
    service = measure_service()
    baseline = measure_bare_inserts()
    require(bool(service and baseline), "intake measured no report")
    print(f"\nIntake: {N} reports (kemacetan → 2 agencies), sequential, PostgreSQL")
    print(f"{'':28}{'median ms':>10}{'p99 ms':>10}{'reports/s':>11}")
    rows = [("report_create (service)", service), ("bare psycopg INSERTs", baseline)]
    for label, samples in rows:
        print(
            f"{label:28}{statistics.median(samples) * 1000:>10.2f}"
            f"{percentile(samples, 0.99) * 1000:>10.2f}{len(samples) / sum(samples):>11.0f}"
        )
    ratio_median = statistics.median(service) / statistics.median(baseline)
    ratio_p99 = percentile(service, 0.99) / percentile(baseline, 0.99)
    print(f"ratio service/baseline: median {ratio_median:.1f}×, p99 {ratio_p99:.1f}×")


if __name__ == "__main__":
    main()
