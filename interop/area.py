"""Is a CAP alert for this city? An area matches when one of its polygons or circles holds a
point of the city (a kecamatan's centre, or the map's centre), or, with no shape given, when
its description names the city (DISPATCH_CITY_NAME: BMKG writes "Kota Semarang", "Kab.
Semarang", …)."""

from __future__ import annotations

import math
from itertools import pairwise

from django.conf import settings

from agencies.models import Kecamatan

from .cap import Area

EARTH_KM = 6371.0


def contains(polygon: list[tuple[float, float]], lat: float, lon: float) -> bool:
    """Ray casting on (lat, lon) points (CAP's order); a point on an edge counts as in."""
    inside = False
    for (lat1, lon1), (lat2, lon2) in pairwise(polygon):
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon == crossing:
                return True
            if lon < crossing:
                inside = not inside
    return inside


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def city_points() -> list[tuple[float, float]]:
    points = [
        (float(lat), float(lon))
        for lat, lon in Kecamatan.objects.exclude(latitude=None).values_list(
            "latitude", "longitude"
        )
    ]
    return points or [tuple(settings.DISPATCH_MAP_CENTER)]


def area_matches(area: Area, points: list[tuple[float, float]]) -> bool:
    if area.polygons or area.circles:
        return any(
            contains(polygon, lat, lon) for polygon in area.polygons for lat, lon in points
        ) or any(
            km_between(clat, clon, lat, lon) <= radius
            for clat, clon, radius in area.circles
            for lat, lon in points
        )
    name = settings.DISPATCH_CITY_NAME.casefold()
    return bool(name) and name in area.description.casefold()
