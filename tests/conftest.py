import functools
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from agencies.seed import seed_configuration

from . import factories
from .factories import OperatorFactory, SupervisorFactory
from .waiting import run_python

# Tests speak plain HTTP to the app, as the TLS-terminating proxy does in production; servers
# the tests start inherit this. The redirect itself is tested with production settings in
# test_hardening.py.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")


# The summary lines the parallel workers (pytest-xdist) sent back to the controller.
WORKER_SUMMARIES: list[str] = []


def _summary_lines() -> list[str]:
    from .test_api_fuzz import fuzz_summary
    from .test_faults import SUMMARY as faults

    summary = fuzz_summary()
    return [*([summary] if summary else []), *(f"fault: {line}" for line in faults)]


def pytest_sessionfinish(session):
    if (output := getattr(session.config, "workeroutput", None)) is not None:
        output["summary_lines"] = _summary_lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    WORKER_SUMMARIES.extend(getattr(node, "workeroutput", {}).get("summary_lines", []))


def pytest_terminal_summary(terminalreporter):
    for line in [*WORKER_SUMMARIES, *_summary_lines()]:
        terminalreporter.write_line(line)


# Fixtures through which a test reaches the database (and with it, in CI's second pass,
# PostgreSQL and Redis).
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def pytest_collection_modifyitems(config, items):
    """CI's second pass (DISPATCH_TEST_PASS=services, on PostgreSQL + Redis) runs only what can
    behave differently there: tests that touch the database or the channel layer, and the
    `services`-marked ones. Parsers, settings probes and hygiene checks ran in the first pass;
    running them again proves nothing."""
    if os.environ.get("DISPATCH_TEST_PASS") != "services":
        return
    kept, dropped = [], []
    for item in items:
        uses_services = (
            item.get_closest_marker("django_db")
            or item.get_closest_marker("postgres")
            or item.get_closest_marker("services")
            or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        (kept if uses_services else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        pytest.skip("needs PostgreSQL: run with DATABASE_URL set (CI's second pass does)")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """migrated_sqlite(path) → `path`, an embedded-mode SQLite database with every migration
    applied, for a process a test starts (a server, a manage.py command). Migrating takes
    seconds; it is done once per test process, and each use gets a copy of that database."""
    template = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"SQLITE_PATH": str(template), "ENV_FILE": "/nonexistent", "SECRET_KEY": "template"}
    migrated = run_python("manage.py", "migrate", "--noinput", "-v0", env=env)
    assert migrated.returncode == 0, migrated.stderr

    def copy(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, path)
        return path

    return copy


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets its own channel layer instance: a layer holds asyncio objects bound to
    the event loop that first used it, and tests run many short-lived loops."""
    from channels.layers import channel_layers

    from notifications import publish

    channel_layers.backends.clear()
    publish._server_loop = None
    if settings.REDIS_URL:  # and no group members left in Redis by an earlier test's loops
        _forget_channel_layer_keys()
    yield
    channel_layers.backends.clear()
    publish._server_loop = None


def _forget_channel_layer_keys() -> None:
    """Deletes this worker's channel-layer keys (its own prefix: settings.REDIS_KEY_PREFIX),
    and the presence counts an earlier test's event loops left behind (they would expire by
    themselves, notifications.presence)."""
    import redis

    from notifications import presence

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        for pattern in (f"{prefix}:*", presence._prefix() + "*"):
            if keys := list(client.scan_iter(match=pattern, count=1000)):
                client.delete(*keys)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with no API requests counted against its users (core.throttles):
    user ids repeat from one test's database to the next."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    from core.throttles import CACHE_ALIAS

    cache = caches[CACHE_ALIAS]
    if isinstance(cache, LocMemCache):
        cache.clear()
    else:  # Redis, shared with the channel layer: only the throttles' own keys
        client = cache._cache.get_client(write=True)
        if keys := list(client.scan_iter(match=f"{cache.key_prefix}:*")):
            client.delete(*keys)


@pytest.fixture(autouse=True)
def fresh_directory():
    """Each test reads the city's configuration as its own database has it: a snapshot taken
    in a test whose transaction was rolled back, or before a flush, must not outlive it
    (agencies.directory)."""
    from agencies import directory

    directory.forget()
    yield
    directory.forget()


@pytest.fixture
def no_rate_limits(settings):
    """For tests that send requests at machine speed on purpose (fuzzing, every field ×
    every bad value): the per-user limits would answer most of them with 429."""
    settings.API_RATE_LIMITS = dict.fromkeys(settings.API_RATE_LIMITS)


@pytest.fixture(autouse=True)
def plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


# Django's documented practice for tests: a password hash in microseconds, not a quarter second.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Production mode serves hashed files from a collectstatic manifest; tests need none."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def city(db):
    """The seeded configuration of SPEC §3: agencies, categories with routing, kecamatan."""
    seed_configuration()


@pytest.fixture
def operator(db):
    return OperatorFactory()


@pytest.fixture
def supervisor(db):
    return SupervisorFactory()


@pytest.fixture
def staff_of(city):
    """staff_of("dishub") → a staff user of that seeded agency."""
    return factories.staff_of


@pytest.fixture
def unit_of(city):
    """unit_of("ambulans", "AMB-01", latitude=…) → a unit of that seeded agency."""
    return factories.unit_of


@pytest.fixture
def field_officer_of(city):
    """field_officer_of("ambulans", unit=<Unit>) → a field officer, signed on to `unit`."""
    return factories.field_officer_of


@pytest.fixture
def make_report(city, operator):
    """Creates a report through the service, with sensible defaults for the other fields."""
    return functools.partial(factories.new_report, operator=operator)
