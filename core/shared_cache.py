"""The shared cache (Redis in production) as an accelerator only. When it cannot be reached,
a read finds nothing and a write is dropped, and the caller does what it does without a
cache (asks the database, lets the request through): a Redis outage must not turn requests
into errors — reports are saved while Redis is down (SPEC §6)."""

from __future__ import annotations

import logging
import time

from django.core.cache import caches
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
ERRORS = (RedisError, OSError)
_WARN_EVERY = 10.0  # seconds: one warning per period during an outage, not one per request
_last_warning = 0.0


def unavailable(error: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > _WARN_EVERY:
        _last_warning = now
        logger.warning("Shared cache unavailable, going without it: %s", error)


def get(key: str, default=None, alias: str = "default"):
    try:
        return caches[alias].get(key, default)
    except ERRORS as error:
        unavailable(error)
        return default


def add(key: str, value, timeout, alias: str = "default") -> bool:
    try:
        return caches[alias].add(key, value, timeout)
    except ERRORS as error:
        unavailable(error)
        return False


def set(key: str, value, timeout, alias: str = "default") -> None:
    try:
        caches[alias].set(key, value, timeout)
    except ERRORS as error:
        unavailable(error)


def set_many(values: dict, timeout, alias: str = "default") -> None:
    try:
        caches[alias].set_many(values, timeout)
    except ERRORS as error:
        unavailable(error)


def delete(key: str, alias: str = "default") -> None:
    try:
        caches[alias].delete(key)
    except ERRORS as error:
        unavailable(error)
