"""Hardening (issue 7 §2): login throttling, CSRF on every session write, production
settings (`check --deploy`, HTTPS, cookies, HSTS, no DEBUG, no demo accounts)."""

import secrets
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from reports.models import Call, Event, Message, Report

from .factories import OperatorFactory
from .test_settings import bare_environment
from .waiting import run_python

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "secret-112"  # tests.factories


# --- Login throttling ----------------------------------------------------------------------------


def login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_five_failed_logins_lock_the_account_out_with_a_clear_message(db):
    user = OperatorFactory()
    client = Client()
    for _ in range(4):
        assert login(client, user.username, "wrong").status_code == 200
    locked = login(client, user.username, "wrong")
    assert locked.status_code == 429
    # Even the right password is refused while locked out, and the page says why.
    again = login(client, user.username, PASSWORD)
    assert again.status_code == 429
    assert "15" in again.text and 'role="alert"' in again.text
    assert "Terlalu banyak" in again.text  # Bahasa Indonesia by default
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_account_and_address(db):
    victim, colleague = OperatorFactory(), OperatorFactory()
    for _ in range(5):
        login(Client(), victim.username, "wrong")
    # A colleague at the same command-centre address signs in.
    assert login(Client(), colleague.username, PASSWORD).status_code == 302
    # The same account from another computer too.
    other_desk = login(Client(), victim.username, PASSWORD, REMOTE_ADDR="10.0.0.7")
    assert other_desk.status_code == 302


def test_a_successful_login_clears_earlier_failures(db):
    user = OperatorFactory()
    for _ in range(4):
        login(Client(), user.username, "wrong")
    assert login(Client(), user.username, PASSWORD).status_code == 302
    for _ in range(4):
        assert login(Client(), user.username, "wrong").status_code == 200
    assert login(Client(), user.username, PASSWORD).status_code == 302


def test_the_token_endpoint_is_throttled_with_a_json_429(db):
    user = OperatorFactory()
    client = Client()
    body = {"username": user.username, "password": "wrong"}
    for _ in range(4):
        assert client.post(TOKEN, body, content_type="application/json").status_code == 400
    locked = client.post(TOKEN, body, content_type="application/json")
    assert locked.status_code == 429
    body["password"] = PASSWORD
    refused = client.post(TOKEN, body, content_type="application/json")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Terlalu banyak")
    assert not Token.objects.filter(user=user).exists()


def test_a_token_success_clears_failures(db):
    user = OperatorFactory()
    client = Client()
    for password in ["wrong"] * 4 + [PASSWORD] + ["wrong"] * 4 + [PASSWORD]:
        response = client.post(
            TOKEN, {"username": user.username, "password": password}, "application/json"
        )
        assert response.status_code == (200 if password == PASSWORD else 400)


# --- CSRF on every session write ---------------------------------------------------------------


def session_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def write_endpoints(report, assignment) -> list[str]:
    """Every URL that accepts a POST from a signed-in user (see test_access_matrix.py)."""
    return [
        "/api/v1/reports/",
        "/api/v1/calls/",
        f"/api/v1/reports/{report.pk}/close/",
        f"/api/v1/reports/{report.pk}/messages/",
        *(
            f"/api/v1/assignments/{assignment.pk}/{action}/"
            for action in ("acknowledge", "dispatch", "arrive", "resolve", "reject")
        ),
        "/api/v1/auth/logout/",
        "/accounts/logout/",
        "/i18n/setlang/",
    ]


def test_every_session_write_needs_the_csrf_token(make_report, operator, staff_of):
    report = make_report()
    assignment = report.assignments.get(agency__code="dishub")
    staff = staff_of("dishub")
    tables = (Report, Call, Event, Message)
    before = [model.objects.count() for model in tables]
    for url in write_endpoints(report, assignment):
        for user in (operator, staff):
            client = session_client(user)
            response = client.post(url, "{}", content_type="application/json")
            assert response.status_code == 403, (url, user, response.status_code)
            assert b"CSRF" in response.content, url
            assert "_auth_user_id" in client.session  # not signed out
    assert [model.objects.count() for model in tables] == before


def test_a_session_write_with_the_csrf_token_goes_through(make_report, staff_of):
    report = make_report()
    client = session_client(staff_of("dishub"))
    client.get(reverse("agency-dashboard"))  # sets the csrftoken cookie, as the page does
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    response = client.post(
        f"/api/v1/reports/{report.pk}/messages/",
        {"body": "Unit meluncur"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201


def test_token_clients_need_no_csrf_token(make_report, staff_of):
    report = make_report()
    token = Token.objects.create(user=staff_of("dishub"))
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(
        f"/api/v1/reports/{report.pk}/messages/", {"body": "Siap"}, "application/json"
    )
    assert response.status_code == 201


def test_the_login_form_needs_the_csrf_token(db):
    user = OperatorFactory()
    client = Client(enforce_csrf_checks=True)
    assert login(client, user.username, PASSWORD).status_code == 403


# --- Production settings ------------------------------------------------------------------------

PRODUCTION_PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
plain = client.get("/console/")
health = client.get("/healthz")
secure = client.get("/healthz", secure=True)
print(json.dumps({
    "debug": settings.DEBUG,
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "health_status": health.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "frame": secure.get("X-Frame-Options"),
    "nosniff": secure.get("X-Content-Type-Options"),
}))
"""


def production_env(**extra) -> dict:
    """The environment of a production process: no DEBUG, a real secret, real hosts."""
    return bare_environment(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver,112.semarangkota.go.id",
        **extra,
    )


def manage(env, *args) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, env=env)


@pytest.fixture
def production_sqlite(tmp_path, migrated_sqlite):
    """Production settings on a migrated database of its own (SQLite: any machine)."""
    return production_env(
        DEBUG="false", SQLITE_PATH=str(migrated_sqlite(tmp_path / "prod.sqlite3"))
    )


@pytest.fixture
def production_postgres():
    """The real production configuration: DATABASE_URL to a fresh PostgreSQL database."""
    base = django_settings.DATABASES["default"]
    if base["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL")
    name = f"dispatch112_deploy_{uuid.uuid4().hex[:8]}"
    admin = f"postgresql://{base['USER']}@{base['HOST']}:{base['PORT']}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = production_env(
            DATABASE_URL=f"postgres://{base['USER']}@{base['HOST']}:{base['PORT']}/{name}"
        )
        migrated = manage(env, "migrate", "--noinput", "-v0")
        assert migrated.returncode == 0, migrated.stderr
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def assert_deploy_check_clean_then_refuses_demo_users(env):
    clean = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "System check identified no issues" in clean.stdout

    # The demo accounts' password is public: seeding them needs a flag, and the check fails.
    refusing = manage(env, "seed_demo")
    assert "Refusing" in refusing.stderr + refusing.stdout
    seeded = manage(env, "seed_demo", "--force-demo-users")
    assert seeded.returncode == 0, seeded.stderr
    refused = manage(env, "check", "--deploy")
    assert refused.returncode != 0
    assert "dispatch112.E002" in refused.stderr and "operator" in refused.stderr


def test_check_deploy_is_clean_with_production_settings(production_sqlite):
    assert_deploy_check_clean_then_refuses_demo_users(production_sqlite)


@pytest.mark.postgres
def test_check_deploy_is_clean_on_postgresql(production_postgres):
    assert_deploy_check_clean_then_refuses_demo_users(production_postgres)


def test_debug_with_a_production_database_fails_the_deploy_check(production_sqlite):
    env = {
        **production_sqlite,
        "DEBUG": "true",
        "DATABASE_URL": "postgres://u@127.0.0.1:1/x",
        "DB_POOL_TIMEOUT": "1",
    }  # nothing listens: the check gives up after a second
    result = manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "dispatch112.E001" in result.stderr


def test_production_redirects_to_https_with_secure_cookies_and_hsts(production_sqlite):
    import json

    result = run_python("-c", PRODUCTION_PROBE, env=production_sqlite)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["debug"] is False
    assert probe["session_secure"] and probe["csrf_secure"] and probe["session_httponly"]
    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://testserver/console/"
    assert probe["health_status"] == 200  # the proxy's health check stays on plain HTTP
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["frame"] == "DENY" and probe["nosniff"] == "nosniff"
