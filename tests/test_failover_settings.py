"""The failover settings (docs/FAILOVER.md), each case in a fresh interpreter as a production
process would read them: a multi-host DATABASE_URL reaches libpq whole, REDIS_SENTINELS sends
the channel layer, the caches and Celery to the sentinels, and the database wait has one
budget (DB_TIMEOUT)."""

import json

from .test_settings import bare_environment
from .waiting import run_python

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "host": db["HOST"], "port": db["PORT"], "options": db["OPTIONS"],
    "layer_host": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
    "cache": settings.CACHES["default"], "throttle": settings.CACHES["throttle"]["OPTIONS"],
    "broker": settings.CELERY_BROKER_URL,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "redis_url": settings.REDIS_URL,
}))
"""
MULTI_HOST = (
    "postgres://dispatch:secret@db-1:5432,db-2:5433/dispatch112?target_session_attrs=read-write"
)


def probe(**environment):
    result = run_python("-c", PROBE, env=bare_environment(SECRET_KEY="x", **environment))
    return result


def settings_with(**environment) -> dict:
    result = probe(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_multi_host_database_url_goes_to_libpq_with_read_write():
    found = settings_with(DATABASE_URL=MULTI_HOST, REDIS_URL="redis://127.0.0.1:6379/0")
    assert (found["host"], found["port"]) == ("db-1,db-2", "5432,5433")
    assert found["options"]["target_session_attrs"] == "read-write"


def test_the_wait_for_a_connection_is_db_timeout_in_all():
    redis = "redis://127.0.0.1:6379/0"
    found = settings_with(DATABASE_URL=MULTI_HOST, REDIS_URL=redis, DB_TIMEOUT="3")
    assert found["options"]["pool"]["timeout"] == 3.0  # the whole wait, not 5 + connect
    assert found["options"]["connect_timeout"] == 1  # per host and attempt, in whole seconds
    assert found["options"]["options"] == "-c statement_timeout=3000"
    explicit = settings_with(
        DATABASE_URL=MULTI_HOST, REDIS_URL=redis, DB_POOL_TIMEOUT="8", DB_CONNECT_TIMEOUT="3"
    )
    assert (explicit["options"]["pool"]["timeout"], explicit["options"]["connect_timeout"]) == (
        8.0,
        3,
    )


def test_sentinels_serve_the_channel_layer_the_caches_and_celery():
    found = settings_with(
        DATABASE_URL=MULTI_HOST,
        REDIS_SENTINELS="s-1:26379,s-2:26380,s-3",
        REDIS_SENTINEL_MASTER="dispatch",
        REDIS_DB="2",
        REDIS_KEY_PREFIX="",
    )
    sentinels = [["s-1", 26379], ["s-2", 26380], ["s-3", 26379]]
    layer = found["layer_host"]
    assert "address" not in layer  # channels-redis would ignore the sentinels
    assert (layer["sentinels"], layer["master_name"], layer["db"]) == (sentinels, "dispatch", 2)
    assert found["cache"]["LOCATION"] == "sentinel://dispatch/2"
    assert found["cache"]["OPTIONS"]["pool_class"] == "dispatch112.redis_sentinel.SentinelPool"
    assert found["cache"]["OPTIONS"]["sentinels"] == sentinels
    assert found["throttle"]["sentinels"] == sentinels
    assert found["broker"] == "sentinel://s-1:26379/2;sentinel://s-2:26380/2;sentinel://s-3:26379/2"
    assert found["transport"]["master_name"] == "dispatch"
    assert found["eager"] is False  # a real worker, as with REDIS_URL
    assert found["redis_url"]  # "Redis is in use" for `manage.py serve` and the defaults


def test_the_plain_redis_url_is_unchanged():
    found = settings_with(DATABASE_URL=MULTI_HOST, REDIS_URL="redis://r:6379/1")
    assert found["layer_host"] == {"address": "redis://r:6379/1", "socket_timeout": 15}
    assert found["cache"]["LOCATION"] == "redis://r:6379/1"
    assert "pool_class" not in found["cache"]["OPTIONS"]
    assert found["broker"] == "redis://r:6379/1"


def test_redis_url_and_sentinels_together_are_refused():
    result = probe(DATABASE_URL=MULTI_HOST, REDIS_URL="redis://r:6379/1", REDIS_SENTINELS="s:1")
    assert result.returncode != 0
    assert "REDIS_URL or REDIS_SENTINELS" in result.stderr
