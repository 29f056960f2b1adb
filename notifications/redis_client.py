"""A Redis client for this installation's own keys and pub/sub (the positions lane, presence,
readiness), whether Redis is reached at REDIS_URL or through Sentinel (REDIS_SENTINELS,
docs/FAILOVER.md): with sentinels, each client asks them for the current master, so a
promoted replica takes over. The channel layer, the caches and Celery have their own."""

from __future__ import annotations

from urllib.parse import urlparse

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings


def redis_url() -> str | None:
    """REDIS_URL when the channel layer runs on Redis; None in the embedded mode (the lanes
    then stay inside the process)."""
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        return None
    return settings.REDIS_URL or None


def key(name: str) -> str:
    """A name for this installation's own keys and pub/sub channels. Pub/sub ignores Redis's
    database numbers: the number and the installation's prefix are in the name, so that two
    installations (or the suite's parallel workers) never mix."""
    database = (urlparse(redis_url() or "").path or "/0").strip("/") or "0"
    return f"dispatch112:{database}:{settings.REDIS_KEY_PREFIX}:{name}"


def async_client(**options):
    """A redis.asyncio client (bind it to one event loop)."""
    if settings.REDIS_SENTINEL_HOSTS:
        from redis.asyncio.sentinel import Sentinel

        sentinel = Sentinel(
            settings.REDIS_SENTINEL_HOSTS, sentinel_kwargs=settings.REDIS_SENTINEL_KWARGS
        )
        return sentinel.master_for(settings.REDIS_SENTINEL_MASTER, db=settings.REDIS_DB, **options)
    import redis.asyncio

    return redis.asyncio.Redis.from_url(settings.REDIS_URL, **options)


def sync_client(**options):
    if settings.REDIS_SENTINEL_HOSTS:
        from redis.sentinel import Sentinel

        sentinel = Sentinel(
            settings.REDIS_SENTINEL_HOSTS, sentinel_kwargs=settings.REDIS_SENTINEL_KWARGS
        )
        return sentinel.master_for(settings.REDIS_SENTINEL_MASTER, db=settings.REDIS_DB, **options)
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, **options)
