"""The input edge every door shares (SPEC §13): text, ids, choices, coordinates, positions and
dates are checked here, by the services, the DRF fields (core.fields), the parsers and the
websocket frames alike. Every problem is collected into one ValidationError keyed by field, so
a form or an API client sees all of them at once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

# C0 controls and DEL, except tab, newline and carriage return: nobody types them, XML 1.0
# cannot carry them (one in a stored note broke the Open311 feed for every consumer, issue
# 33), and terminals and CSV readers act on them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The days a centre can have had: 0001-01-01 in WIB is before the first representable UTC
# time, 9999-12-31 has no next day, and a mistyped year would distort every statistic.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
EARLIEST = datetime.combine(EARLIEST_DAY, time.min, tzinfo=UTC)
LATEST = datetime.combine(LATEST_DAY, time.max, tzinfo=UTC)
# Real time zones run from UTC-12:00 to UTC+14:00; Python accepts up to ±23:59.
MAX_UTC_OFFSET = timedelta(hours=14)


class Errors:
    """Accumulates field errors; `raise_if_any()` raises them together."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[ValidationError]] = {}

    def add(self, field: str, error: ValidationError | str) -> None:
        if isinstance(error, ValidationError):
            self.by_field.setdefault(field, []).extend(error.error_list)
        else:
            self.by_field.setdefault(field, []).append(ValidationError(error))

    def absorb(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.by_field.setdefault(field, []).extend(errors)
        else:
            self.by_field.setdefault("non_field_errors", []).extend(error.error_list)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def clean_text(
    errors: Errors, field: str, value: Any, *, max_length: int, required: bool = False
) -> str:
    """Strips a free-text value; reports missing, wrong-typed, too long or holding control
    characters (tab and newlines are text)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Must be text."))
        return ""
    # Checked before strip(), which would silently drop \x1c–\x1f at either end.
    if refuse_control_characters(errors, field, value):
        return value.strip()
    value = value.strip()
    if not _encodable(value):
        errors.add(field, _("The text contains invalid characters."))
    elif len(value) > max_length:
        errors.add(
            field,
            _("At most %(max)d characters (this has %(n)d).")
            % {"max": max_length, "n": len(value)},
        )
    elif required and not value:
        errors.add(field, _("This field is required."))
    return value


def refuse_control_characters(errors: Errors, field: str, value: Any) -> bool:
    """Adds an error naming `field` when the text holds a control character (NUL included;
    tab, newline and carriage return are text). True when it was refused."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        errors.add(field, control_characters_message(field))
        return True
    return False


def control_characters_message(field: str) -> str:
    """The refusal, for edges that report errors their own way (DRF fields, Open311). A
    parameter's name may itself hold them: it is shown escaped (\\x00), never raw."""
    return _("“%(field)s” contains control characters, which are not allowed.") % {
        "field": escape_control_characters(field)
    }


def escape_control_characters(text: str) -> str:
    """`text` with each control character written as \\xNN: legible, and safe to store or
    to put in XML."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def clean_aware_datetime(
    errors: Errors,
    field: str,
    value: Any,
    *,
    earliest: datetime = EARLIEST,
    latest: datetime = LATEST,
) -> datetime | None:
    """An ISO 8601 date and time with its time zone (or an aware datetime) → the datetime;
    None when absent or bad, with an error naming `field`: impossible dates (2026-02-30),
    offsets beyond ±14:00, and moments outside `earliest`…`latest` (years 2000–2099)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if refuse_control_characters(errors, field, value):
            return None
        try:
            moment = parse_datetime(value.strip())
        except ValueError:  # 2026-02-30, hour 25, or an offset of ±24:00 or more
            moment = None
    else:
        moment = value if isinstance(value, datetime) else None
    if moment is None:
        problem = _("“%(field)s” is not a date and time (e.g. 2026-12-03T14:05:00+07:00).")
    elif timezone.is_naive(moment):
        problem = _("“%(field)s” needs its time zone (e.g. +07:00).")
    elif abs(moment.utcoffset()) > MAX_UTC_OFFSET:
        problem = _("“%(field)s” has a time zone offset beyond ±14:00.")
    elif not earliest <= moment <= latest:
        problem = _("“%(field)s” must be between %(first)s and %(last)s.")
    else:
        return moment
    errors.add(field, problem % {"field": field, "first": earliest.date(), "last": latest.date()})
    return None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def clean_id(errors: Errors, field: str, value: Any, model: type[models.Model]) -> int | None:
    """An object given as an instance or a whole-number id; None if absent or malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value.pk
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        errors.add(field, _("Give the id as a whole number."))
        return None
    return value


def clean_choice(errors: Errors, field: str, value: Any, choices: type[models.Choices]) -> Any:
    if value not in choices.values:
        errors.add(
            field,
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(map(str, choices.values))},
        )
    return value


def clean_coordinate(errors: Errors, field: str, value: Any, limit: int) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.add(field, _("Must be a number."))
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.add(field, _("Must be a number."))
        return None
    if not number.is_finite() or not -limit <= number <= limit:
        errors.add(field, _("Must be between -%(limit)d and %(limit)d.") % {"limit": limit})
        return None
    return number.quantize(Decimal("0.000001"))


MAX_ACCURACY_M = 100_000


def clean_accuracy(errors: Errors, field: str, value: Any) -> float | None:
    """An accuracy radius in metres, 0 to MAX_ACCURACY_M; None when not given or bad (an
    error added for `field`)."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        accuracy = float(value)
    except (TypeError, ValueError):
        errors.add(field, _("Must be a number."))
        return None
    if not 0 <= accuracy <= MAX_ACCURACY_M:  # NaN fails both
        errors.add(field, _("Between 0 and %(limit)d metres.") % {"limit": MAX_ACCURACY_M})
        return None
    return accuracy


def clean_position(
    errors: Errors, latitude: Any, longitude: Any, accuracy_m: Any = None, *, required: bool
) -> tuple[float, float, float | None] | None:
    """A GPS fix: both coordinates in range (or neither, unless `required`), and an
    accuracy in metres ≥ 0. None when there is no position or it is bad (errors added)."""
    if latitude in (None, "") and longitude in (None, ""):
        if required:
            errors.add("latitude", _("This field is required."))
            errors.add("longitude", _("This field is required."))
        return None
    lat = clean_coordinate(errors, "latitude", latitude, 90)
    lng = clean_coordinate(errors, "longitude", longitude, 180)
    if (lat is None) != (lng is None) and not {"latitude", "longitude"} & errors.by_field.keys():
        errors.add("longitude" if lng is None else "latitude", _("Give both coordinates."))
    accuracy = clean_accuracy(errors, "accuracy_m", accuracy_m)
    if lat is None or lng is None or "accuracy_m" in errors.by_field:
        return None
    return float(lat), float(lng), accuracy
