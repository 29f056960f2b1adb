"""Reads for the command centre's desk: a caller's history, possible duplicates, and the
related rows a report's API or page shows. Who may see which report is reports.access."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from agencies import geo

from .models import Assignment, Call, CallOutcome, Report, ReportStatus

# --- Operator helpers: a caller's history, possible duplicates -----------------------------------

DUPLICATE_WINDOW = timedelta(hours=1)
DUPLICATE_RADIUS_METRES = 500
_METRES_PER_DEGREE = 111_320


def phone_history(phone: str, *, now: datetime | None = None, recent: int = 10) -> dict:
    """What an operator should know about a (normalised) number before talking: how often it
    called, how many prank/ghost calls in the window, whether it is flagged, its open reports."""
    now = now or timezone.now()
    calls = Call.objects.filter(caller_phone=phone)
    window_start = now - timedelta(days=settings.DISPATCH_PRANK_WINDOW_DAYS)
    prank_count = calls.filter(
        outcome__in=[CallOutcome.PRANK, CallOutcome.GHOST], received_at__gte=window_start
    ).count()
    return {
        "phone": phone,
        "calls_total": calls.count(),
        "prank_count": prank_count,
        "flagged": prank_count >= settings.DISPATCH_PRANK_FLAG_THRESHOLD,
        "calls": list(calls.select_related("operator", "report").order_by("-received_at")[:recent]),
        "open_reports": list(
            with_details(Report.objects.filter(caller_phone=phone, status=ReportStatus.OPEN))
        ),
    }


def possible_duplicates(
    *,
    category: str | None = None,
    kecamatan: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    phone: str | None = None,
    now: datetime | None = None,
) -> list[Report]:
    """Open reports a new call may be about: same category in the last hour and in the same
    kecamatan or within 500 m, or any open report from the same phone. Nearest first."""
    now = now or timezone.now()
    matches = Q(pk__in=[])
    located = latitude is not None and longitude is not None
    if category and (kecamatan or located):
        place = Q(kecamatan__code=kecamatan) if kecamatan else Q(pk__in=[])
        if located:
            # A bounding box in SQL; the exact distance is checked below.
            dlat = DUPLICATE_RADIUS_METRES / _METRES_PER_DEGREE
            dlng = dlat / max(math.cos(math.radians(latitude)), 0.01)
            place |= Q(
                latitude__range=(latitude - dlat, latitude + dlat),
                longitude__range=(longitude - dlng, longitude + dlng),
            )
        matches |= Q(category__code=category, received_at__gte=now - DUPLICATE_WINDOW) & place
    if phone:
        matches |= Q(caller_phone=phone)
    candidates = with_details(Report.objects.filter(matches, status=ReportStatus.OPEN))[:50]

    def distance(report: Report) -> float | None:
        if not located or report.latitude is None:
            return None
        return _metres(latitude, longitude, float(report.latitude), float(report.longitude))

    kept = [
        r
        for r in candidates
        if (phone and r.caller_phone == phone)
        or (kecamatan and r.kecamatan and r.kecamatan.code == kecamatan)
        or (distance(r) is not None and distance(r) <= DUPLICATE_RADIUS_METRES)
    ]
    return sorted(kept, key=lambda r: (distance(r) is None, distance(r) or 0, -r.pk))


def _metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return geo.metres(lat1, lng1, lat2, lng2)


def with_details(reports: QuerySet[Report]) -> QuerySet[Report]:
    """Everything a report's API or page shows, in three queries for any number of reports."""
    return reports.select_related("category", "kecamatan", "operator").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("agency", "seen_by"))
    )
