"""Which agency is fast and which is slow (SPEC §4 /api/v1/stats/agencies/).

Everything is aggregated in the database: counts, and percentiles with linear interpolation
(percentile_cont; see performance.sql). One selector serves the page, the API and the exports.

Definitions: response = arrived_at − received_at, the call's reception (Semarang: call
received → on scene; Assignment.received_at is the report's, copied so that no join is
needed); ack = acknowledged_at − notified_at. Rejected and cancelled assignments are counted
but never enter response times. The period is whole WIB days of received_at.

On SQLite, seconds are rounded to the millisecond (performance.sql.Seconds): julianday
arithmetic is exact only to ~0.1 ms, and a response of exactly 10:00 must be within a 600 s
target on both databases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from agencies.models import Agency
from reports.models import Assignment, AssignmentStatus, Call, Report

from .sql import PercentileCont, Seconds

# An agency with fewer arrived samples than this is shown but not ranked.
MIN_RANKED_SAMPLES = 10

# Upper bounds (seconds, inclusive) of the response-time distribution; the last bucket is
# everything above the last bound: ≤5, 5–10, 10–15, 15–30, 30–60, >60 minutes.
RESPONSE_BUCKETS: tuple[int, ...] = (300, 600, 900, 1800, 3600)

# What counts as a response sample: on scene, and neither rejected nor cancelled.
COUNTED = ~Q(status__in=[AssignmentStatus.REJECTED, AssignmentStatus.CANCELLED])
ARRIVED = Q(arrived_at__isnull=False) & COUNTED


@dataclass(frozen=True)
class PerformanceFilter:
    since: date
    until: date  # inclusive
    category: str | None = None
    kecamatan: str | None = None
    priority: int | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, tzinfo=timezone.get_default_timezone())

    @property
    def end(self) -> datetime:
        return datetime.combine(
            self.until + timedelta(days=1), time.min, tzinfo=timezone.get_default_timezone()
        )


# An XLSX sheet: its title, header and rows of cell values.
Sheet = tuple[str, list[str], list[list]]


@dataclass(frozen=True)
class PerformanceSection:
    """A part of /performance/ that another app contributes (telephony's call answering):
    the template included on the page with `context(period)` as `section`, and the sheets
    it adds to the table's XLSX export. Registered from that app's AppConfig.ready(), so
    that performance depends on no app above it."""

    template: str
    context: Callable[[PerformanceFilter], dict]
    sheets: Callable[[PerformanceFilter], list[Sheet]]


SECTIONS: list[PerformanceSection] = []


def register_section(section: PerformanceSection) -> None:
    if section not in SECTIONS:
        SECTIONS.append(section)


def this_month() -> PerformanceFilter:
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    return PerformanceFilter(since=today.replace(day=1), until=today)


def assignments_in(period: PerformanceFilter) -> QuerySet[Assignment]:
    """The assignments of reports received in the period that match the filters."""
    assignments = Assignment.objects.filter(
        received_at__gte=period.start, received_at__lt=period.end
    )
    if period.category:
        assignments = assignments.filter(report__category__code=period.category)
    if period.kecamatan:
        assignments = assignments.filter(report__kecamatan__code=period.kecamatan)
    if period.priority:
        assignments = assignments.filter(report__priority=period.priority)
    return assignments


def agency_performance(period: PerformanceFilter) -> list[dict]:
    """One row per agency (active, or with assignments in the period), fastest first."""
    arrived = ARRIVED
    acknowledged = Q(acknowledged_at__isnull=False)
    response = _response()
    ack = _ack()
    delivered, seen = Q(delivered_at__isnull=False), Q(seen_at__isnull=False)
    # Counting agency (never null) rather than pk keeps every column this query reads inside
    # reports.Assignment's statistics index, so PostgreSQL can answer from the index alone.
    rows = (
        assignments_in(period)
        .values("agency")
        .annotate(
            assignments=Count("agency"),
            acknowledged=Count("agency", filter=acknowledged),
            arrived=Count("agency", filter=arrived),
            resolved=Count("agency", filter=Q(status=AssignmentStatus.RESOLVED)),
            rejected=Count("agency", filter=Q(status=AssignmentStatus.REJECTED)),
            escalated=Count("agency", filter=Q(escalated_at__isnull=False)),
            # Delivery you can see (SPEC §12): how fast the agency's screens showed it and a
            # person saw it, and how often nobody's screen did in time.
            unheard=Count("agency", filter=Q(unheard_at__isnull=False)),
            delivery_seconds_median=PercentileCont(_delivery(), 0.5, filter=delivered),
            seen_seconds_median=PercentileCont(_seen(), 0.5, filter=seen),
            ack_seconds_median=PercentileCont(ack, 0.5, filter=acknowledged),
            ack_seconds_p90=PercentileCont(ack, 0.9, filter=acknowledged),
            response_seconds_median=PercentileCont(response, 0.5, filter=arrived),
            response_seconds_p90=PercentileCont(response, 0.9, filter=arrived),
            within_target=Count("agency", filter=arrived & _within_target()),
        )
        .order_by()
    )
    with _sorting_in_memory():
        by_agency = {row["agency"]: row for row in rows}
    result = []
    for agency in _agencies_shown(by_agency):
        row = by_agency.get(agency.pk, {})
        arrived_count = row.get("arrived", 0)
        result.append(
            {
                "agency": agency.code,
                "agency_name": agency.short_name,
                "assignments": row.get("assignments", 0),
                "acknowledged": row.get("acknowledged", 0),
                "arrived": arrived_count,
                "resolved": row.get("resolved", 0),
                "rejected": row.get("rejected", 0),
                "escalated": row.get("escalated", 0),
                "unheard": row.get("unheard", 0),
                "delivery_seconds_median": _round(row.get("delivery_seconds_median")),
                "seen_seconds_median": _round(row.get("seen_seconds_median")),
                "ack_seconds_median": _round(row.get("ack_seconds_median")),
                "ack_seconds_p90": _round(row.get("ack_seconds_p90")),
                "response_seconds_median": _round(row.get("response_seconds_median")),
                "response_seconds_p90": _round(row.get("response_seconds_p90")),
                "within_target_pct": round(100 * row["within_target"] / arrived_count, 1)
                if arrived_count
                else None,
                "target_seconds": agency.response_target_seconds,
                "ranked": arrived_count >= MIN_RANKED_SAMPLES,
            }
        )
    return sorted(result, key=_fast_to_slow)


@contextmanager
def _sorting_in_memory():
    """On PostgreSQL, percentile_cont sorts every sample of every agency: give this one query
    the memory to sort without spilling to disk, and skip JIT compilation (slower than it
    saves here). SET LOCAL ends with the transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        yield


def _response() -> Seconds:
    return Seconds(F("arrived_at"), F("received_at"))


def _ack() -> Seconds:
    return Seconds(F("acknowledged_at"), F("notified_at"))


def _delivery() -> Seconds:
    return Seconds(F("delivered_at"), F("notified_at"))


def _seen() -> Seconds:
    return Seconds(F("seen_at"), F("notified_at"))


def _within_target() -> Q:
    return Q(LessThanOrEqual(_response(), F("agency__response_target_seconds")))


def _agencies_shown(with_rows) -> QuerySet[Agency]:
    """Every active agency, and any inactive one that has assignments in the period."""
    return Agency.objects.filter(Q(active=True) | Q(pk__in=with_rows)).order_by("code")


def _round(value):
    return None if value is None else round(value, 1)


def _fast_to_slow(row: dict):
    # Ranked agencies by median response, then the thin ones, then those with no sample.
    median = row["response_seconds_median"]
    return (not row["ranked"], median is None, median or 0, row["agency"])


def calls_per_day(period: PerformanceFilter) -> list[dict]:
    """Calls per WIB day by outcome (every call, whatever came of it)."""
    from django.db.models.functions import TruncDate

    rows = (
        Call.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_default_timezone()))
        .values("day", "outcome")
        .annotate(calls=Count("pk"))
        .order_by("day", "outcome")
    )
    return [
        {"day": r["day"].isoformat(), "outcome": r["outcome"], "calls": r["calls"]} for r in rows
    ]


def reports_per_day(period: PerformanceFilter) -> list[dict]:
    from django.db.models.functions import TruncDate

    reports = Report.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    if period.category:
        reports = reports.filter(category__code=period.category)
    if period.kecamatan:
        reports = reports.filter(kecamatan__code=period.kecamatan)
    if period.priority:
        reports = reports.filter(priority=period.priority)
    rows = (
        reports.annotate(day=TruncDate("received_at", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(reports=Count("pk"))
        .order_by("day")
    )
    return [{"day": r["day"].isoformat(), "reports": r["reports"]} for r in rows]


def response_distribution(period: PerformanceFilter) -> list[dict]:
    """Per agency, how many response samples fall in each bucket of RESPONSE_BUCKETS
    (len(RESPONSE_BUCKETS) + 1 counts; the last is "above the last bound"). Agencies in code
    order, the same set as agency_performance."""
    response = _response()
    bounds = (None, *RESPONSE_BUCKETS, None)
    buckets = {}
    for index, (low, high) in enumerate(pairwise(bounds)):
        condition = ARRIVED
        if low is not None:
            condition &= Q(GreaterThan(response, low))
        if high is not None:
            condition &= Q(LessThanOrEqual(response, high))
        buckets[f"bucket_{index}"] = Count("pk", filter=condition)
    rows = (
        assignments_in(period)
        .values("agency")
        .annotate(arrived=Count("pk", filter=ARRIVED), **buckets)
        .order_by()
    )
    by_agency = {row["agency"]: row for row in rows}
    result = []
    for agency in _agencies_shown(by_agency):
        row = by_agency.get(agency.pk, {})
        result.append(
            {
                "agency": agency.code,
                "agency_name": agency.short_name,
                "arrived": row.get("arrived", 0),
                "buckets": [row.get(name, 0) for name in buckets],
            }
        )
    return result


def _assignment_fields(queryset: QuerySet[Assignment]) -> QuerySet:
    """Assignments as flat rows: the report's facts, each step's time, and the seconds the
    statistics use (response only where it counts as a sample, as in agency_performance)."""
    return queryset.values(
        "id",
        "status",
        "received_at",
        "notified_at",
        "acknowledged_at",
        "arrived_at",
        "resolved_at",
        "escalated_at",
        "overdue_at",
        "delivered_at",
        "seen_at",
        number=F("report__number"),
        category_name=F("report__category__name"),
        kecamatan_name=F("report__kecamatan__name"),
        priority=F("report__priority"),
        agency_code=F("agency__code"),
        agency_name=F("agency__short_name"),
        target_seconds=F("agency__response_target_seconds"),
        seen_by_username=F("seen_by__username"),
        ack_seconds=_ack(),
        delivery_seconds=_delivery(),
        seen_seconds=_seen(),
        response_seconds=Case(When(ARRIVED, then=_response()), default=None),
        within_target=Case(
            When(ARRIVED & _within_target(), then=Value(True)),
            When(ARRIVED, then=Value(False)),
            default=None,
            output_field=BooleanField(null=True),
        ),
        escalated=ExpressionWrapper(Q(escalated_at__isnull=False), output_field=BooleanField()),
        overdue=ExpressionWrapper(Q(overdue_at__isnull=False), output_field=BooleanField()),
        unheard=ExpressionWrapper(Q(unheard_at__isnull=False), output_field=BooleanField()),
    )


def assignment_rows(period: PerformanceFilter) -> QuerySet:
    """Every assignment behind the statistics of the period, oldest report first (the
    exports stream it with .iterator())."""
    return _assignment_fields(
        assignments_in(period).order_by("received_at", "report__number", "agency__code")
    )


# An arrival tapped further than this from the report's pin is listed for checking.
FAR_ARRIVAL_METRES = 500


def agency_drilldown(period: PerformanceFilter, agency_code: str, limit: int = 25) -> dict:
    """One agency's slowest responses (samples only, slowest first) and its escalated or
    overdue assignments (latest report first), at most `limit` of each."""
    mine = assignments_in(period).filter(agency__code=agency_code)
    slowest = (
        mine.filter(ARRIVED)
        .annotate(response_order=_response())
        .order_by("-response_order", "report__number")
    )
    flagged = mine.filter(Q(escalated_at__isnull=False) | Q(overdue_at__isnull=False)).order_by(
        "-received_at", "report__number"
    )
    # Field arrivals a supervisor should look at (SPEC §7): tapped offline and synced late,
    # or tapped far from the report's pin.
    checks = (
        mine.filter(arrived_at__isnull=False)
        .filter(Q(arrival_synced_late=True) | Q(arrival_distance_m__gt=FAR_ARRIVAL_METRES))
        .order_by("-received_at", "report__number")
    )
    return {
        "slowest": list(_assignment_fields(slowest)[:limit]),
        "escalated": list(_assignment_fields(flagged)[:limit]),
        "field_checks": list(
            _assignment_fields(checks).values(
                "number",
                "received_at",
                "arrived_at",
                "unit",
                "arrival_distance_m",
                "arrival_synced_late",
                "ack_seconds",
                "response_seconds",
                "status",
                "priority",
            )[:limit]
        ),
    }
