"""The field app's own frames on /ws/events/ (SPEC §7): `{"type": "position", "unit": id,
"latitude", "longitude", "accuracy_m"?, "recorded_at"?}`. Stored like the HTTP position
(units.services.record_position); a bad frame gets an error frame and stores nothing."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.dateparse import parse_datetime

from reports.errors import DispatchError

from . import services


async def position_frame(user, content: dict) -> dict | None:
    unit = content.get("unit")
    if isinstance(unit, bool) or not isinstance(unit, int):
        return {"type": "error", "detail": "unit must be a unit id"}
    recorded_at = content.get("recorded_at")
    if recorded_at is not None:
        parsed = parse_datetime(recorded_at) if isinstance(recorded_at, str) else None
        if parsed is None or parsed.tzinfo is None:
            return {"type": "error", "detail": "recorded_at must be an ISO 8601 time with zone"}
        recorded_at = parsed
    try:
        await database_sync_to_async(_record)(user, unit, content, recorded_at)
    except ValidationError as error:
        return {"type": "error", "detail": "bad position", "errors": error.message_dict}
    except ObjectDoesNotExist:
        return {"type": "error", "detail": "no such unit"}
    except DispatchError as error:
        return {"type": "error", "detail": error.message}
    return None


def _record(user, unit_id: int, content: dict, recorded_at):
    """record_position, as over HTTP: published after commit, batched (notifications.publish)."""
    from agencies.models import Unit

    if not services.units_visible_to(user).filter(pk=unit_id).exists():
        raise Unit.DoesNotExist
    return services.record_position(
        actor=user,
        unit=unit_id,
        latitude=content.get("latitude"),
        longitude=content.get("longitude"),
        accuracy_m=content.get("accuracy_m"),
        recorded_at=recorded_at,
    )
