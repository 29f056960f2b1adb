import os

import pytest
from django.conf import settings

from agencies.models import Agency
from agencies.seed import seed_configuration
from reports import services

from .factories import (
    AgencyStaffFactory,
    FieldOfficerFactory,
    OperatorFactory,
    SupervisorFactory,
    UnitFactory,
)

# Tests speak plain HTTP to the app, as the TLS-terminating proxy does in production; servers
# the tests start inherit this. The redirect itself is tested with production settings in
# test_hardening.py.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")


def pytest_terminal_summary(terminalreporter):
    from .test_api_fuzz import fuzz_summary
    from .test_faults import SUMMARY as faults

    if summary := fuzz_summary():
        terminalreporter.write_line(summary)
    for line in faults:
        terminalreporter.write_line(f"fault: {line}")


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        pytest.skip("needs PostgreSQL: run with DATABASE_URL set (CI's second pass does)")


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets its own channel layer instance: a layer holds asyncio objects bound to
    the event loop that first used it, and tests run many short-lived loops."""
    from channels.layers import channel_layers

    from notifications import publish

    channel_layers.backends.clear()
    publish._server_loop = None
    yield
    channel_layers.backends.clear()
    publish._server_loop = None


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with no API requests counted against its users (dispatch112.throttles):
    user ids repeat from one test's database to the next."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    from dispatch112.throttles import CACHE_ALIAS

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


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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

    def make(code: str):
        return AgencyStaffFactory(agency=Agency.objects.get(code=code))

    return make


@pytest.fixture
def unit_of(city):
    """unit_of("ambulans", "AMB-01", latitude=…) → a unit of that seeded agency."""

    def make(code: str, call_sign: str, **fields):
        return UnitFactory(agency=Agency.objects.get(code=code), call_sign=call_sign, **fields)

    return make


@pytest.fixture
def field_officer_of(city):
    """field_officer_of("ambulans", unit=<Unit>) → a field officer, signed on to `unit`."""

    def make(code: str, unit=None):
        officer = FieldOfficerFactory(agency=Agency.objects.get(code=code))
        if unit is not None:
            member = officer.agency_membership
            member.unit = unit
            member.save(update_fields=["unit"])
        return officer

    return make


@pytest.fixture
def make_report(city, operator):
    """Creates a report through the service, with sensible defaults for the other fields."""

    def make(**overrides):
        fields = {
            "operator": operator,
            "caller_phone": "081234567890",
            "caller_name": "Budi Santoso",
            "category": "kemacetan",
            "description": "Macet total di simpang lima",
            "address": "Jl. Pahlawan",
            "kecamatan": "semarang_tengah",
        }
        fields.update(overrides)
        return services.report_create(**fields)

    return make
