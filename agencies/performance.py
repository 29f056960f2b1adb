"""Which agency is fast and which is slow (SPEC §4 /api/v1/stats/agencies/).

Everything is aggregated in the database: counts, and percentiles with linear interpolation
(percentile_cont; see agencies.sql). One selector serves the page, the API and the exports.

Definitions: response = arrived_at − report.received_at (Semarang: call received → on
scene); ack = acknowledged_at − notified_at. Rejected and cancelled assignments are counted
but never enter response times. The period is whole WIB days of report.received_at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from reports.models import Assignment, AssignmentStatus, Call, Report

from .models import Agency
from .sql import PercentileCont, Seconds

# An agency with fewer arrived samples than this is shown but not ranked.
MIN_RANKED_SAMPLES = 10


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


def this_month() -> PerformanceFilter:
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    return PerformanceFilter(since=today.replace(day=1), until=today)


def assignments_in(period: PerformanceFilter) -> QuerySet[Assignment]:
    """The assignments of reports received in the period that match the filters."""
    assignments = Assignment.objects.filter(
        report__received_at__gte=period.start, report__received_at__lt=period.end
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
    counted = ~Q(status__in=[AssignmentStatus.REJECTED, AssignmentStatus.CANCELLED])
    arrived = Q(arrived_at__isnull=False) & counted
    acknowledged = Q(acknowledged_at__isnull=False)
    response = Seconds(F("arrived_at"), F("report__received_at"))
    ack = Seconds(F("acknowledged_at"), F("notified_at"))
    rows = (
        assignments_in(period)
        .values("agency")
        .annotate(
            assignments=Count("pk"),
            acknowledged=Count("pk", filter=acknowledged),
            arrived=Count("pk", filter=arrived),
            resolved=Count("pk", filter=Q(status=AssignmentStatus.RESOLVED)),
            rejected=Count("pk", filter=Q(status=AssignmentStatus.REJECTED)),
            escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
            ack_seconds_median=PercentileCont(ack, 0.5, filter=acknowledged),
            ack_seconds_p90=PercentileCont(ack, 0.9, filter=acknowledged),
            response_seconds_median=PercentileCont(response, 0.5, filter=arrived),
            response_seconds_p90=PercentileCont(response, 0.9, filter=arrived),
            within_target=Count(
                "pk",
                filter=arrived & Q(LessThanOrEqual(response, F("agency__response_target_seconds"))),
            ),
        )
        .order_by()
    )
    by_agency = {row["agency"]: row for row in rows}
    result = []
    for agency in Agency.objects.filter(Q(active=True) | Q(pk__in=by_agency)).order_by("code"):
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
