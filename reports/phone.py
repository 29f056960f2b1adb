"""Phone numbers, normalised to E.164 so that a caller's history is found whichever way the
number was typed: Indonesian ones in every local form (+62…), and any other country's in its
international form (a tourist's or a roaming phone: +1 555…, 0044 20…)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEPARATORS = re.compile(r"[\s\-./()]+")
_DIGITS = re.compile(r"[0-9]+")


def normalize_phone(raw: str) -> str:
    """Returns the number as +62…, or raises ValidationError with a message for the operator.

    Accepts 08…, 628…, +62 8xx-xxxx-xxxx, 0062…, +62 (0)24…, and landlines with their area
    code (024…, 021…). Mobile numbers (8…) have 9–12 digits after the country code; landlines
    (area code 2x–9xx) 7–11.
    """
    if not isinstance(raw, str):
        raise ValidationError(_("Enter a phone number."), code="required")
    number = _SEPARATORS.sub("", raw.strip())
    if not number:
        raise ValidationError(_("Enter a phone number."), code="required")
    if number.startswith("+62"):
        national = number[3:]
    elif number.startswith("0062"):
        national = number[4:]
    elif number.startswith(("+", "00")):  # another country's (+62 and 0062 are above)
        return _international(raw, number[1:] if number.startswith("+") else number[2:])
    elif number.startswith("62"):
        national = number[2:]
    elif number.startswith("0"):
        national = number[1:]
    else:
        raise ValidationError(
            _("Start the number with 0, 62 or +62, with the area code for a landline."),
            code="prefix",
        )
    # "+62 (0)24 …" is written often: the trunk 0 after the country code is dropped.
    if national.startswith("0") and number[0] in "+6":
        national = national[1:]
    if national and not _DIGITS.fullmatch(national):
        raise ValidationError(
            _("A phone number may contain only digits, spaces, dashes and a leading +."),
            code="characters",
        )
    if national.startswith("8"):
        valid = 9 <= len(national) <= 12
    else:
        valid = 7 <= len(national) <= 11 and national[0] in "2345679"
    if not valid:
        raise ValidationError(
            _("%(number)s is not a valid Indonesian phone number.") % {"number": raw.strip()},
            code="invalid",
        )
    return "+62" + national


def _international(raw: str, digits: str) -> str:
    """Another country's number, written with + or 00: E.164 allows at most 15 digits with
    the country code, which never starts with 0; fewer than 8 is no subscriber number."""
    if not _DIGITS.fullmatch(digits):
        raise ValidationError(
            _("A phone number may contain only digits, spaces, dashes and a leading +."),
            code="characters",
        )
    if not 8 <= len(digits) <= 15 or digits[0] == "0":
        raise ValidationError(
            _("%(number)s is not a valid international phone number.") % {"number": raw.strip()},
            code="invalid",
        )
    return "+" + digits
