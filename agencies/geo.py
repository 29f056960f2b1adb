"""Distances and travel-time estimates: straight-line (haversine) distance × a road factor at
an assumed speed (DISPATCH_ROAD_FACTOR, DISPATCH_UNIT_SPEED_KMH). No road network: an
estimate to rank units by and to pre-fill an ETA, which the dispatcher can change."""

from __future__ import annotations

import math

from django.conf import settings

EARTH_RADIUS_M = 6_371_000


def metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def travel_minutes(distance_m: float) -> int:
    """Estimated minutes to cover `distance_m` of straight line by road (at least 1)."""
    road_m = distance_m * settings.DISPATCH_ROAD_FACTOR
    minutes = road_m / (settings.DISPATCH_UNIT_SPEED_KMH * 1000 / 60)
    return max(1, math.ceil(minutes))


def place_of(latitude, longitude, kecamatan) -> tuple[float, float] | None:
    """A point from coordinates if there are any, else the kecamatan's centroid, else None."""
    if latitude is not None and longitude is not None:
        return float(latitude), float(longitude)
    if kecamatan is not None and kecamatan.latitude is not None:
        return float(kecamatan.latitude), float(kecamatan.longitude)
    return None
