"""Advanced Mobile Location (ETSI TS 103 625), both ways a handset sends it (SPEC §9):

* the HTTPS form Android's Emergency Location Service posts (`v`, `emergency_number`,
  `source`, `time`, `location_latitude`, `location_longitude`, `location_time`,
  `location_accuracy`, `location_source`, `location_confidence` | `location_certainty`,
  `device_number`, `device_imei`, `device_imsi`, `cell_network_mcc`, `cell_network_mnc`, …),
  every field optional;
* the SMS text `A"ML=1;lt=…;lg=…;rd=…;top=…;lc=…;pm=…;si=…;ei=…;mcc=…;mnc=…;ml=…`, whose
  `ml` is the length of the whole message (its own field included): a message cut short by
  the network does not match it.

A malformed message raises AmlError naming the field at fault; parsing never raises anything
else. Unknown fields are ignored (newer handsets add some)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from core.validation import (
    CONTROL_CHARACTERS,
    Errors,
    clean_aware_datetime,
    control_characters_message,
    escape_control_characters,
)


class AmlError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class AmlReading:
    """What a message says. No position (`latitude` None) is a "no fix" message."""

    caller_phone: str = ""
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    positioning: str = ""  # gnss, wifi, cell, fused, unknown
    confidence_pct: int | None = None
    located_at: datetime | None = None
    imei: str = ""
    imsi: str = ""
    mcc: str = ""
    mnc: str = ""

    @property
    def has_fix(self) -> bool:
        return self.latitude is not None


# --- The SMS text -----------------------------------------------------------------------------

SMS_HEADER = 'A"ML=1;'
# pm: how the handset positioned itself.
SMS_METHODS = {"G": "gnss", "W": "wifi", "C": "cell", "N": ""}
_SIGNED_DECIMAL = re.compile(r"[+-]?\d{1,3}(\.\d{1,10})?")
_DIGITS = re.compile(r"\d+")


def parse_sms(text: str, *, sender: str = "") -> AmlReading:
    """The SMS text (and the number the SMS centre says it came from)."""
    if not isinstance(text, str) or not text.strip():
        raise AmlError("sms", _("The message is empty."))
    for field, value in (("sms", text), ("sender", sender)):
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise AmlError(field, control_characters_message(field))
    text = text.strip()
    if not text.startswith(SMS_HEADER):
        raise AmlError("sms", _('Not an AML message (it starts with A"ML=1;).'))
    values: dict[str, str] = {}
    for part in text[len(SMS_HEADER) :].split(";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise AmlError("sms", _("“%(part)s” is not a key=value field.") % {"part": part[:20]})
        if key in values:
            raise AmlError(key, _("The field is given twice."))
        values[key] = value
    length = values.get("ml")
    if length is None:
        raise AmlError("ml", _("The message length (ml) is missing."))
    if not _DIGITS.fullmatch(length):
        raise AmlError("ml", _("The message length must be a whole number."))
    if int(length) != len(text):
        raise AmlError(
            "ml",
            _("The message is %(actual)d characters, ml says %(said)s: it was cut or altered.")
            % {"actual": len(text), "said": length},
        )
    method = values.get("pm", "")
    if method and method not in SMS_METHODS:
        raise AmlError(
            "pm", _("Unknown positioning method “%(value)s” (G, W, C or N).") % {"value": method}
        )
    radius = values.get("rd", "")
    no_fix = method == "N" or radius == "N"
    latitude = longitude = accuracy = None
    if not no_fix:
        latitude = _sms_coordinate(values, "lt", 90)
        longitude = _sms_coordinate(values, "lg", 180)
        if (latitude is None) != (longitude is None):
            raise AmlError("lg" if longitude is None else "lt", _("Give both coordinates."))
        if radius:
            if not _DIGITS.fullmatch(radius):
                raise AmlError("rd", _("The radius must be whole metres (or N: no fix)."))
            accuracy = float(radius)
    confidence = values.get("lc", "")
    if confidence and (not _DIGITS.fullmatch(confidence) or not 0 <= int(confidence) <= 100):
        raise AmlError("lc", _("The confidence must be a whole percentage, 0 to 100."))
    top = values.get("top", "")
    located_at = None
    if top:
        try:
            if not re.fullmatch(r"\d{14}", top):
                raise ValueError
            located_at = datetime.strptime(top, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            raise AmlError("top", _("The position time must be YYYYMMDDhhmmss (UTC).")) from None
    for key in ("si", "ei", "mcc", "mnc"):
        if values.get(key) and not _DIGITS.fullmatch(values[key]):
            raise AmlError(key, _("Digits only."))
    return AmlReading(
        caller_phone=sender.strip() if isinstance(sender, str) else "",
        latitude=latitude if latitude is not None else None,
        longitude=longitude,
        accuracy_m=accuracy,
        positioning=SMS_METHODS.get(method, "") if not no_fix else "",
        confidence_pct=int(confidence) if confidence else None,
        located_at=located_at,
        imei=values.get("ei", "")[:20],
        imsi=values.get("si", "")[:20],
        mcc=values.get("mcc", "")[:3],
        mnc=values.get("mnc", "")[:3],
    )


def _sms_coordinate(values: dict, key: str, limit: int) -> float | None:
    value = values.get(key, "")
    if not value:
        return None
    if not _SIGNED_DECIMAL.fullmatch(value):
        raise AmlError(key, _("Must be a number in degrees."))
    number = float(value)
    if not -limit <= number <= limit:
        raise AmlError(key, _("Must be between -%(limit)d and %(limit)d.") % {"limit": limit})
    return number


# --- The HTTPS form ---------------------------------------------------------------------------

# At least one of these makes a post an AML message (each is optional by itself).
HTTPS_FIELDS = (
    "v", "emergency_number", "location_latitude", "location_longitude", "location_time",
    "device_number", "device_imei", "time",
)  # fmt: skip
HTTPS_SOURCES = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell", "fused": "fused"}


def parse_https(form) -> AmlReading:
    """The HTTPS post's fields (a QueryDict or a dict of strings)."""

    def get(key: str) -> str:
        value = form.get(key, "")
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        if value is None:
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise AmlError(key, _("Must be text."))
        return str(value).strip()

    for key in form:
        # Unknown fields are ignored, but not one that cannot be stored or shown (SPEC §13).
        if not isinstance(key, str) or CONTROL_CHARACTERS.search(key):
            raise AmlError(
                escape_control_characters(str(key)), control_characters_message(str(key))
            )
        value = form.get(key)
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise AmlError(key, control_characters_message(key))
    if not any(get(key) for key in HTTPS_FIELDS):
        raise AmlError("location_latitude", _("No AML field in the message."))
    latitude = _https_number(get("location_latitude"), "location_latitude", -90, 90)
    longitude = _https_number(get("location_longitude"), "location_longitude", -180, 180)
    if (latitude is None) != (longitude is None):
        field = "location_longitude" if longitude is None else "location_latitude"
        raise AmlError(field, _("Give both coordinates."))
    accuracy = _https_number(get("location_accuracy"), "location_accuracy", 0, 1_000_000)
    confidence = None
    for key in ("location_confidence", "location_certainty"):
        if raw := get(key):
            number = _https_number(raw, key, 0, 100)
            # Some handsets send a fraction (0.68), most a percentage (68).
            confidence = round(number * 100 if 0 < number <= 1 and "." in raw else number)
            break
    source = get("location_source").lower()
    if source and source not in HTTPS_SOURCES:
        raise AmlError(
            "location_source",
            _("Unknown location source “%(value)s” (GPS, WiFi, Cell, Fused).") % {"value": source},
        )
    located_at = _https_time(get("location_time"), "location_time") or _https_time(
        get("time"), "time"
    )
    for key in ("device_imei", "device_imsi", "cell_network_mcc", "cell_network_mnc"):
        if (value := get(key)) and not _DIGITS.fullmatch(value):
            raise AmlError(key, _("Digits only."))
    return AmlReading(
        caller_phone=get("device_number"),
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy if latitude is not None else None,
        positioning=HTTPS_SOURCES.get(source, "") if latitude is not None else "",
        confidence_pct=confidence if latitude is not None else None,
        located_at=located_at,
        imei=get("device_imei")[:20],
        imsi=get("device_imsi")[:20],
        mcc=(get("cell_network_mcc") or get("cell_home_mcc"))[:3],
        mnc=(get("cell_network_mnc") or get("cell_home_mnc"))[:3],
    )


def _https_number(raw: str, field: str, low: float, high: float) -> float | None:
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise AmlError(field, _("Must be a number.")) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise AmlError(
            field, _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}
        )
    return number


def _https_time(raw: str, field: str) -> datetime | None:
    """Milliseconds since 1970 (as Android sends it), or ISO 8601 with a zone; either within
    the years and offsets a time can have (reports.validation)."""
    if not raw:
        return None
    value: str | datetime = raw
    if _DIGITS.fullmatch(raw):
        try:
            value = datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise AmlError(field, _("Not a time.")) from None
    errors = Errors()
    moment = clean_aware_datetime(errors, field, value)
    if moment is None:
        raise AmlError(field, errors.by_field[field][0].messages[0])
    return moment
