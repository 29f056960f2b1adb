"""Input checks of the reports' own: when a call was received, configuration given by its
code, when a step taken in the field happened. The generic checks (text, ids, choices,
coordinates, dates) and `Errors` are core.validation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.codes import is_code
from core.validation import Errors

# A call cannot be received in the future; a little slack absorbs clock drift between the
# operator's browser and the server.
RECEIVED_AT_FUTURE_SLACK = timedelta(seconds=60)


def clean_received_at(errors: Errors, value: datetime | None) -> datetime:
    """When the call was picked up: now by default; never in the future, and never older than
    DISPATCH_RECEIVED_AT_MAX_AGE (a mistyped date would distort every response time)."""
    now = timezone.now()
    if value is None:
        return now
    if not isinstance(value, datetime) or timezone.is_naive(value):
        errors.add("received_at", _("Give a date and time with its time zone."))
        return now
    if value > now + RECEIVED_AT_FUTURE_SLACK:
        errors.add("received_at", _("A call cannot be received in the future."))
    elif value < now - settings.DISPATCH_RECEIVED_AT_MAX_AGE:
        errors.add(
            "received_at",
            _("A call can be logged at most %(hours)d hours after it was received.")
            % {"hours": settings.DISPATCH_RECEIVED_AT_MAX_AGE.total_seconds() // 3600},
        )
    return value


def resolve_by_code(
    errors: Errors,
    field: str,
    model: type[models.Model],
    value: Any,
    *,
    required: bool,
    known: Mapping[str, models.Model] | None = None,
):
    """Accepts a model instance or its code; returns the instance or None. `known` (code →
    instance, e.g. agencies.directory) answers instead of a query."""
    if value is None or value == "":
        if required:
            errors.add(field, _("This field is required."))
        return None
    if isinstance(value, model):
        return value
    if not is_code(value):
        errors.add(field, _("Give the code as text."))
        return None
    instance = known.get(value) if known is not None else model.objects.filter(code=value).first()
    if instance is None:
        errors.add(field, _("Unknown code “%(code)s”.") % {"code": value})
    return instance


def step_time(occurred_at: datetime | None, *, previous: datetime, now: datetime) -> dict:
    """When a step taken in the field happened (SPEC §7). The phone's `occurred_at` is the
    step's time when it is not before the previous step and not more than
    DISPATCH_FUTURE_TOLERANCE_SECONDS ahead of the server; otherwise the server's receipt time
    is, and the event says why. A step received more than DISPATCH_LATE_SYNC_SECONDS after it
    happened is marked `late_sync`. Returns {"at", "event": what the event records}."""
    if occurred_at is None:
        return {"at": now, "event": {}, "late": False}
    event = {  # in UTC, as every time is stored
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "received_at": now.astimezone(UTC).isoformat(),
    }
    future = timedelta(seconds=settings.DISPATCH_FUTURE_TOLERANCE_SECONDS)
    if occurred_at < previous:
        return {"at": now, "event": {**event, "occurred_at_ignored": "before_previous_step"},
                "late": False}  # fmt: skip
    if occurred_at > now + future:
        return {"at": now, "event": {**event, "occurred_at_ignored": "in_future"}, "late": False}
    late = (now - occurred_at).total_seconds() > settings.DISPATCH_LATE_SYNC_SECONDS
    return {"at": occurred_at, "event": {**event, "late_sync": late}, "late": late}
