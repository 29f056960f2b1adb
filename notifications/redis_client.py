"""A Redis client for this installation's own keys and pub/sub (the positions lane, presence,
readiness), whether Redis is reached at REDIS_URL or through Sentinel (REDIS_SENTINELS,
docs/FAILOVER.md): with sentinels, each client asks them for the current master, so a
promoted replica takes over. The channel layer, the caches and Celery have their own."""

from __future__ import annotations

from django.conf import settings


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
