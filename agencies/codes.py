"""Configuration codes (agency, category, kecamatan) as they arrive from clients."""

from typing import Any

CODE_MAX_LENGTH = 64


def is_code(value: Any) -> bool:
    """Text a database can hold and compare, of sane length: no NUL, no lone surrogates."""
    if not isinstance(value, str) or not 0 < len(value) <= CODE_MAX_LENGTH or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
