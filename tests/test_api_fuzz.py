"""Bad input never gives a 5xx (issue 7 §5): schemathesis generates requests from the
OpenAPI schema at /api/schema/ — examples, boundary values (coverage phase) and random
fuzzing of every operation — and sends them through the real WSGI application with a real
token, as an operator and as agency staff. The only check is "not a server error".

Bounded by the number of examples per operation (FUZZ_EXAMPLES, default 25), not by time:
schemathesis seeds each operation, so a run is repeatable."""

import os
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from interop.models import PeerCentre

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CASES: Counter = Counter()  # (role, status) → responses; printed at the end of the run
CURRENT: dict = {}  # the role and token of the run in progress


# Each role's operations in four parts, each a test of its own: the same requests, but no
# single test runs for over 20 s on a slow day (the two halves of before took up to 36 s
# under CI on 2026-12-07), and parallel workers (make test) share the work. "rest" is every
# operation the named parts leave.
PARTS = {
    "reports": r"^/api/v1/reports/",
    "assignments": r"^/api/v1/(calls|assignments)/",
    "units": r"^/api/v1/(units|agencies|categories|kecamatan)/",
    "rest": None,
}
NAMED = "|".join(f"({regex})" for regex in PARTS.values() if regex)


def disabled_outside(part: str) -> dict:
    """The operations configuration that turns off every operation outside `part`."""
    if PARTS[part] is None:
        return {"include-path-regex": NAMED, "enabled": False}
    return {"exclude-path-regex": PARTS[part], "enabled": False}


@pytest.fixture(
    params=[(role, part) for role in ("operator", "agency_staff") for part in PARTS],
    ids=lambda param: "-".join(param),
)
def fuzz_schema(request, make_report, operator, staff_of, settings):
    role, part = request.param
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the WSGI client's Host
    # Machine-speed on purpose: the per-user limits would answer most requests with 429.
    settings.API_RATE_LIMITS = dict.fromkeys(settings.API_RATE_LIMITS)
    staff = staff_of("dishub")
    user = operator if role == "operator" else staff
    # Something to find: ids 1… exist, so generated ids hit real reports and assignments.
    for category in ("kemacetan", "kebakaran", "banjir"):
        make_report(category=category)
    token = Token.objects.create(user=user)
    # The EIDO import takes a peer centre's token, not a user's (SPEC §10).
    peer = PeerCentre.objects.create(name="112 Kendal", code="kendal", url="http://x", token="t")
    # A fresh WSGI application: it reads the middleware settings (plain HTTP) when created.
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/",
        WSGIHandler(),
        config=schemathesis.Config.from_dict(
            {
                "headers": {"Authorization": f"Token {token.key}"},
                "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
                "phases": {"stateful": {"enabled": False}},
                "generation": {"max-examples": EXAMPLES},
                # This part only: the other parts' operations are turned off.
                "operations": [disabled_outside(part)],
            }
        ),
    )
    CURRENT.update(role=role, token=token, peer=peer.inbound_token)
    return schema


lazy_schema = schemathesis.pytest.from_fixture("fuzz_schema")


@lazy_schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@pytest.mark.django_db(transaction=True)
def test_no_request_gets_a_server_error(case):
    if case.operation.path == "/api/v1/eido/":  # over whatever the generator put there
        case.headers = {**(case.headers or {}), "Authorization": f"Token {CURRENT['peer']}"}
    response = case.call_and_validate()
    CASES[(CURRENT["role"], response.status_code)] += 1
    if case.operation.path == "/api/v1/auth/logout/" and response.status_code == 204:
        token = CURRENT["token"]  # signed out (the token is revoked): sign in again
        Token.objects.get_or_create(key=token.key, defaults={"user_id": token.user_id})
    # Signed in for real: a 401 would mean the run tested nothing but the login.
    assert response.status_code != 401, response.text


def fuzz_summary() -> str | None:
    if not CASES:
        return None
    total = sum(CASES.values())
    by_status = Counter()
    for (_, status), n in CASES.items():
        by_status[status] += n
    errors = sum(n for status, n in by_status.items() if status >= 500)
    return f"schemathesis: {total} requests, {errors} server errors; by status " + ", ".join(
        f"{status}: {n}" for status, n in sorted(by_status.items())
    )
