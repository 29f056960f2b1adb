"""The field app's own frames on /ws/events/ (SPEC §7): `{"type": "position", "unit": id,
"latitude", "longitude", "accuracy_m"?, "recorded_at"?}`. Stored like the HTTP position
(units.services.record_position); a bad frame gets an error frame naming the field and stores
nothing. A unit's positions are stored at most one per DISPATCH_WS_POSITION_SECONDS (SPEC §13:
1,000 frames in 16 s stored 1,000 rows); the ones between get an error frame."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ObjectDoesNotExist, ValidationError

from core import shared_cache
from core.errors import DispatchError
from core.throttles import CACHE_ALIAS
from core.validation import Errors, clean_aware_datetime

from . import services

TOO_SOON = {
    "type": "error",
    "field": "unit",
    "detail": "at most one position per second is stored for a unit: this one was not",
}


async def position_frame(user, content: dict) -> dict | None:
    unit = content.get("unit")
    if isinstance(unit, bool) or not isinstance(unit, int) or not 0 < unit < 2**63:
        return {"type": "error", "detail": "unit must be a unit id"}
    errors = Errors()
    recorded_at = clean_aware_datetime(errors, "recorded_at", content.get("recorded_at"))
    if errors.by_field:
        return {
            "type": "error",
            "field": "recorded_at",
            "detail": "recorded_at must be an ISO 8601 time with zone",
            "errors": ValidationError(errors.by_field).message_dict,
        }
    try:
        stored = await database_sync_to_async(_record)(user, unit, content, recorded_at)
    except ValidationError as error:
        return {"type": "error", "detail": "bad position", "errors": error.message_dict}
    except ObjectDoesNotExist:
        return {"type": "error", "detail": "no such unit"}
    except DispatchError as error:
        return {"type": "error", "detail": error.message}
    return None if stored else TOO_SOON


def _record(user, unit_id: int, content: dict, recorded_at) -> bool:
    """record_position, as over HTTP: one statement, authorised by the socket's pinned viewer
    (reports.access.units_movable_by); False when the unit stored one less than a second
    ago."""
    stored = services.record_position(
        actor=user,
        unit=unit_id,
        latitude=content.get("latitude"),
        longitude=content.get("longitude"),
        accuracy_m=content.get("accuracy_m"),
        recorded_at=recorded_at,
        admit=_first_this_second,
    )
    return stored is not None


def _first_this_second(unit_id: int) -> bool:
    """Counted in the throttles' cache, shared by every process (Redis in production); with
    it down, a position is stored rather than lost (as the API's throttles let requests
    through)."""
    key, seconds = f"ws-position.{unit_id}", settings.DISPATCH_WS_POSITION_SECONDS
    try:
        return caches[CACHE_ALIAS].add(key, 1, seconds)
    except shared_cache.ERRORS as error:
        shared_cache.unavailable(error)
        return True
