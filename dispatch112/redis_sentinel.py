"""Django's Redis cache through Redis Sentinel (issue 35 §5), with redis-py's own Sentinel
client: Django's RedisCache takes a `pool_class` and builds each pool with
`pool_class.from_url(LOCATION, **OPTIONS)`; this pool reads the sentinels from LOCATION and
asks them for the current master on every new connection, so a promoted replica takes over.

    LOCATION: "sentinel://<master name>/<db>"  (Django splits a LOCATION at commas)
    OPTIONS:  {"pool_class": "dispatch112.redis_sentinel.SentinelPool",
               "sentinels": [("host-1", 26379), …], "sentinel_kwargs": {…}, …redis options}

The channel layer (channels-redis) and Celery (kombu's sentinel:// transport) have sentinel
support of their own; settings.py configures all three from REDIS_SENTINELS."""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.sentinel import Sentinel, SentinelConnectionPool


def parse_sentinels(addresses: str) -> list[tuple[str, int]]:
    """`host:port,host:port` → [(host, port), …] (port 26379 when left out)."""
    sentinels = []
    for address in filter(None, (part.strip() for part in addresses.split(","))):
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
        sentinels.append((host or address, int(port or 26379)))
    return sentinels


class SentinelPool(SentinelConnectionPool):
    """A pool of connections to whichever server the sentinels name as the master."""

    @classmethod
    def from_url(cls, url: str, **options) -> SentinelPool:
        parts = urlsplit(url)
        if parts.scheme != "sentinel" or not parts.hostname:
            raise ValueError(f"expected sentinel://<master name>/<db>, not {url!r}")
        sentinel = Sentinel(
            options.pop("sentinels"), sentinel_kwargs=options.pop("sentinel_kwargs", None)
        )
        db = int(parts.path.strip("/") or 0)
        return cls(parts.hostname, sentinel, db=db, **options)
