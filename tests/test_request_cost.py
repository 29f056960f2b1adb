"""What a report POST costs (issue 16 §3) and what the savings must not change: a token is
known from the shared cache until anything about it changes, the city's configuration is
read from the process's snapshot until anyone edits it, and with the cache down requests go
on without it. The access matrix and the revocation tests hold the same answers unchanged;
these tests hold the caches to them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agencies import directory, tokens
from agencies.models import Agency, AgencyMember, Category
from agencies.roles import OPERATOR_GROUP

from .servers import REPORT

pytestmark = pytest.mark.django_db

BODY = REPORT  # kemacetan: dishub + polrestabes


@pytest.fixture
def token_cache(settings):
    """The production setting (on whenever Redis is configured), on the suite's cache."""
    settings.TOKEN_CACHE_SECONDS = 60


@pytest.fixture
def directory_cache(settings):
    """The production setting (on whenever Redis is configured), on the suite's cache."""
    settings.DIRECTORY_CACHE = True


def client_for(user) -> tuple[APIClient, str]:
    key = Token.objects.create(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def statements(client, method: str, path: str, body=None) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, body, format="json")
    sql = [q["sql"] for q in queries.captured_queries]
    skip = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    return response.status_code, [s for s in sql if not s.upper().startswith(skip)]


def tables_read(sql: list[str]) -> set[str]:
    return {
        s.split(" FROM ", 1)[1].split()[0].strip('"')
        for s in sql
        if s.startswith("SELECT") and " FROM " in s
    }


# --- The POST -------------------------------------------------------------------------------------


# A logged call is matched to the PBX's call and the handset's AML from its number (SPEC §9).
TELEPHONY_MATCH = {"telephony_phonecall", "telephony_amlmessage"}


# On commit, as in production: the 201 is the published payload, not a read-back.
@pytest.mark.django_db(transaction=True)
def test_a_report_post_reads_nothing_but_its_token(settings, city, operator, directory_cache):
    settings.TOKEN_CACHE_SECONDS = 0  # the embedded default: no shared cache
    client, _ = client_for(operator)
    client.post("/api/v1/reports/", BODY, format="json")  # the configuration is loaded once
    status, sql = statements(client, "post", "/api/v1/reports/", BODY)
    assert status == 201
    # No category, kecamatan, agency or group lookup: the token and the user's groups (no
    # cache configured here), the phone system's call and AML from this number to link to the
    # call (SPEC §9: one indexed lookup each), then only what the report writes.
    assert tables_read(sql) == {"authtoken_token", "auth_group", *TELEPHONY_MATCH}, sql
    writes = [
        " ".join(s.replace("INSERT INTO", "INSERT").split()[:2]).replace('"', "")
        for s in sql
        if not s.startswith("SELECT")
    ]
    assert writes == [
        "INSERT reports_report",
        "INSERT reports_call",
        "INSERT reports_assignment",  # both agencies in one statement
        "INSERT reports_event",  # the report's and both assignments' events in one
        "INSERT reports_reportcounter",
        "UPDATE reports_report",
    ], writes


@pytest.mark.django_db(transaction=True)
def test_with_the_token_cache_the_next_request_asks_the_database_nothing_about_who(
    city, operator, token_cache, directory_cache
):
    client, _ = client_for(operator)
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 201
    status, sql = statements(client, "post", "/api/v1/reports/", BODY)
    assert status == 201
    assert tables_read(sql) == TELEPHONY_MATCH, sql
    status, sql = statements(client, "get", "/api/v1/reports/")
    assert status == 200
    assert not tables_read(sql) & {"authtoken_token", "auth_user", "auth_group"}, sql


# --- What ends or changes a cached token ----------------------------------------------------------


def test_signing_out_ends_a_cached_token_at_once(operator, token_cache):
    client, key = client_for(operator)
    assert client.get("/api/v1/reports/").status_code == 200  # now cached
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/reports/").status_code == 401
    assert caches["default"].get(tokens.cache_key(key)) == tokens.TOMBSTONE


def test_deactivation_ends_a_cached_token_at_once(operator, token_cache):
    client, _ = client_for(operator)
    assert client.get("/api/v1/reports/").status_code == 200
    operator.is_active = False
    operator.save()
    assert client.get("/api/v1/reports/").status_code == 401


def test_a_token_deleted_in_the_admin_is_refused_at_once(operator, token_cache):
    client, key = client_for(operator)
    assert client.get("/api/v1/reports/").status_code == 200
    Token.objects.filter(key=key).delete()
    assert client.get("/api/v1/reports/").status_code == 401


def test_leaving_the_operator_group_takes_the_role_away_at_once(city, operator, token_cache):
    # A change of role revokes the user's tokens (issue 33, SPEC §13): the cached one is
    # refused at once, and a new one carries the new role.
    client, _ = client_for(operator)
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 201
    operator.groups.remove(Group.objects.get(name=OPERATOR_GROUP))
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 401
    client, _ = client_for(operator)
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 403
    # …and from the other side of the relation too.
    Group.objects.get(name=OPERATOR_GROUP).user_set.add(operator)
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 401
    client, _ = client_for(operator)
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 201
    Group.objects.get(name=OPERATOR_GROUP).user_set.clear()
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 401


def test_moving_to_another_agency_shows_that_agencys_queue_at_once(
    make_report, staff_of, token_cache
):
    make_report(category="kebakaran")  # damkar only
    staff = staff_of("dishub")
    client, _ = client_for(staff)
    assert client.get("/api/v1/reports/").json()["count"] == 0
    AgencyMember.objects.filter(user=staff).update(agency=Agency.objects.get(code="damkar"))
    # update() sends no signal: this is what the admin's save does.
    membership = AgencyMember.objects.get(user=staff)
    membership.save()
    assert client.get("/api/v1/reports/").json()["count"] == 1


def test_a_tombstone_is_not_overwritten_by_a_read_from_before_the_revocation(operator, token_cache):
    _, key = client_for(operator)
    stale = tokens.load(key)  # a request read the database…
    Token.objects.filter(key=key).delete()  # …the token is revoked meanwhile…
    # …and that request now tries to cache what it read: the tombstone stays.
    assert not caches["default"].add(tokens.cache_key(key), stale, 60)
    assert tokens.principal(key) is None


def test_signing_in_again_does_not_end_the_cache_entry(operator, token_cache):
    client, key = client_for(operator)
    assert client.get("/api/v1/reports/").status_code == 200
    from django.contrib.auth.models import update_last_login

    update_last_login(None, operator)
    assert isinstance(caches["default"].get(tokens.cache_key(key)), Token)


# --- The configuration snapshot -------------------------------------------------------------------


def test_a_category_taken_out_of_use_is_refused_on_the_next_call(city, operator, directory_cache):
    client, _ = client_for(operator)
    assert client.post("/api/v1/reports/", BODY, format="json").status_code == 201
    category = Category.objects.get(code="kemacetan")
    category.active = False
    category.save()
    response = client.post("/api/v1/reports/", BODY, format="json")
    assert response.status_code == 400
    assert "category" in response.json(), response.json()


def test_new_routing_applies_to_the_next_report(city, operator, directory_cache):
    client, _ = client_for(operator)
    first = client.post("/api/v1/reports/", BODY, format="json").json()
    assert {a["agency"] for a in first["assignments"]} == {"dishub", "polrestabes"}
    Category.objects.get(code="kemacetan").default_agencies.add(Agency.objects.get(code="bpbd"))
    second = client.post("/api/v1/reports/", BODY, format="json").json()
    assert {a["agency"] for a in second["assignments"]} == {"bpbd", "dishub", "polrestabes"}
    dishub = Agency.objects.get(code="dishub")
    dishub.active = False
    dishub.save()
    third = client.post("/api/v1/reports/", BODY, format="json").json()
    assert {a["agency"] for a in third["assignments"]} == {"bpbd", "polrestabes"}


def test_another_process_s_change_is_seen_through_the_shared_version(city, directory_cache):
    snapshot = directory.current()
    assert directory.current() is snapshot  # nothing changed: the same snapshot
    # What another process's save leaves in the shared cache (directory._new_version):
    caches["default"].set(directory.VERSION_KEY, "changed elsewhere", None)
    assert directory.current() is not snapshot
    assert directory.current().version == "changed elsewhere"


def test_without_a_shared_cache_the_configuration_is_asked_of_the_database(city, settings):
    # The embedded mode: a command beside the server could not tell it about a change.
    settings.DIRECTORY_CACHE = False
    assert directory.current() is None
