"""Intake cost: one operator's `report_create` (call + report + 2 assignments + 3 events, one
transaction) against the baseline of bare psycopg INSERTs of the same rows plus COMMIT.

Sequential, one connection each, on PostgreSQL (DATABASE_URL, default a local
`dispatch112_bench` database that is created if missing). Prints latency and ratio."""

from __future__ import annotations

import os
import statistics
import time

N = int(os.environ.get("BENCH_REPORTS", "400"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dispatch112_bench"


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


def insert_report_rows(
    conn, *, prefix, phone, category_id, kecamatan_id, operator_id, agency_ids, closed=False
) -> None:
    """What report_create writes, as bare SQL in one transaction: counter upsert, report,
    call, its event, one assignment and event per agency, COMMIT. `closed` writes the report
    closed and the assignments cancelled, so that they reach no queue or snapshot."""
    report_state = (
        "'closed', 'information', now()" if closed else "'open', '', NULL"
    )  # status, close_reason, closed_at
    assignment_state = "'cancelled', now()" if closed else "'notified', NULL"
    with conn.transaction():
        (n,) = conn.execute(
            "INSERT INTO reports_reportcounter (day, last) VALUES ('2000-01-01', 1) "
            "ON CONFLICT (day) DO UPDATE SET last = reports_reportcounter.last + 1 "
            "RETURNING last"
        ).fetchone()
        (report_id,) = conn.execute(
            "INSERT INTO reports_report (number, caller_name, caller_phone, category_id,"
            " priority, description, address, kecamatan_id, received_at, operator_id,"
            " status, close_reason, closed_at, close_note, created_at) VALUES (%s, 'Pelapor',"
            f" %s, %s, 3, 'Kemacetan', 'Jl. Pandanaran', %s, now(), %s, {report_state}, '',"
            " now()) RETURNING id",
            [f"{prefix}-{n:06d}", phone, category_id, kecamatan_id, operator_id],
        ).fetchone()
        conn.execute(
            "INSERT INTO reports_call (caller_phone, caller_name, received_at,"
            " operator_id, outcome, report_id, note, created_at)"
            " VALUES (%s, 'Pelapor', now(), %s, 'report', %s, '', now())",
            [phone, operator_id, report_id],
        )
        conn.execute(
            "INSERT INTO reports_event (report_id, kind, actor_id, data, created_at)"
            " VALUES (%s, 'report.created', %s, '{}', now())",
            [report_id, operator_id],
        )
        for agency_id in agency_ids:
            (assignment_id,) = conn.execute(
                "INSERT INTO reports_assignment (report_id, agency_id, status, cancelled_at,"
                " notified_at, received_at, unit, resolution_note, reject_reason)"
                f" VALUES (%s, %s, {assignment_state}, now(), now(), '', '', '') RETURNING id",
                [report_id, agency_id],
            ).fetchone()
            conn.execute(
                "INSERT INTO reports_event (report_id, assignment_id, kind, actor_id,"
                " data, created_at) VALUES (%s, %s, 'assignment.created', %s, '{}', now())",
                [report_id, assignment_id, operator_id],
            )


def main() -> None:
    setup_django()
    service = measure_service()
    baseline = measure_bare_inserts()
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
