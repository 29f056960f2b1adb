"""Authentication (SPEC §4): `POST /api/v1/auth/token/` → {"token"}, then
`Authorization: Token <key>`; browser sessions with CSRF."""

import pytest
from rest_framework.authtoken.models import Token

from reports.models import Report

from .conftest import JsonClient
from .helpers import counts, expect

TOKEN_URL = "/api/v1/auth/token/"
REPORTS_URL = "/api/v1/reports/"
PASSWORD = "secret-112"  # tests.factories.UserFactory

NEW_REPORT = {
    "caller_phone": "081234567890",
    "category": "kebakaran",
    "description": "Rumah terbakar",
    "address": "Jl. Pandanaran 12",
}


def obtain(username, password):
    return JsonClient().post(TOKEN_URL, {"username": username, "password": password})


def token_client(key: str, **kwargs) -> JsonClient:
    client = JsonClient(**kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- Obtaining a token ------------------------------------------------------------------------


def test_it_issues_a_token_for_the_right_password(operator):
    response = obtain(operator.username, PASSWORD)
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    assert response.json()["token"] == Token.objects.get(user=operator).key


def test_it_returns_the_same_token_on_a_second_login(operator):
    first = obtain(operator.username, PASSWORD).json()["token"]
    second = obtain(operator.username, PASSWORD).json()["token"]
    assert first == second
    assert Token.objects.filter(user=operator).count() == 1


def test_it_rejects_a_wrong_password(operator):
    response = obtain(operator.username, "not-the-password")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert "token" not in response.json()
    assert not Token.objects.exists()


def test_it_rejects_an_unknown_user(db):
    response = obtain("nobody", PASSWORD)
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_it_names_the_missing_fields(db):
    response = JsonClient().post(TOKEN_URL, {})
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_it_answers_malformed_json_with_400(db):
    response = JsonClient().post(TOKEN_URL, '{"username": ', content_type="application/json")
    assert response.status_code == 400


def test_an_inactive_user_gets_no_token(operator):
    operator.is_active = False
    operator.save()
    response = obtain(operator.username, PASSWORD)
    assert response.status_code == 400
    assert not Token.objects.exists()


# --- Using a token ----------------------------------------------------------------------------


def test_a_token_authenticates_as_its_user(city, operator):
    key = obtain(operator.username, PASSWORD).json()["token"]
    response = token_client(key).post(REPORTS_URL, NEW_REPORT)
    assert response.status_code == 201
    assert response.json()["operator"] == operator.username
    assert Report.objects.get().operator == operator


def test_a_token_of_a_user_deactivated_after_issuing_is_refused(operator):
    key = obtain(operator.username, PASSWORD).json()["token"]
    client = token_client(key)
    assert client.get(REPORTS_URL).status_code == 200
    operator.is_active = False
    operator.save()
    response = client.get(REPORTS_URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Token", "Token not-a-key", "Token a b"])
def test_a_bad_token_is_refused_with_401(db, header):
    response = JsonClient(HTTP_AUTHORIZATION=header).get(REPORTS_URL)
    assert response.status_code == 401


def test_another_scheme_is_treated_as_no_credentials(operator):
    key = obtain(operator.username, PASSWORD).json()["token"]
    response = JsonClient(HTTP_AUTHORIZATION=f"Bearer {key}").get(REPORTS_URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_anonymous_requests_get_401_with_a_token_challenge(db):
    response = JsonClient().get(REPORTS_URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("role", "status"),
    expect(
        {
            "anonymous": 401,
            "inactive": 401,
            "no_role": 403,
            "operator": 200,
            "supervisor": 200,
            "assigned_staff": 200,
            "other_staff": 200,
        }
    ),
)
def test_token_auth_applies_each_role(users, role, status):
    user = users[role]
    client = JsonClient()
    if user is not None:
        client = token_client(Token.objects.create(user=user).key)
        if role == "inactive":
            user.is_active = False
            user.save()
    response = client.get(REPORTS_URL)
    assert response.status_code == status
    if status == 200:
        assert response.json()["results"] == []


def test_a_token_post_needs_no_csrf_token(city, operator):
    client = token_client(Token.objects.create(user=operator).key, enforce_csrf_checks=True)
    assert client.post(REPORTS_URL, NEW_REPORT).status_code == 201


# --- Sessions ---------------------------------------------------------------------------------


def test_a_session_post_without_csrf_token_is_refused(city, operator, csrf_pair, csrf_name):
    client = JsonClient(enforce_csrf_checks=True)
    client.force_login(operator)
    before = counts()
    response = client.post(REPORTS_URL, NEW_REPORT)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert counts() == before

    cookie, token = csrf_pair
    client.cookies[csrf_name] = cookie
    response = client.post(REPORTS_URL, NEW_REPORT)  # cookie but no header
    assert response.status_code == 403
    assert counts() == before

    response = client.post(REPORTS_URL, NEW_REPORT, HTTP_X_CSRFTOKEN="x" * 32)  # wrong token
    assert response.status_code == 403
    assert counts() == before

    response = client.post(REPORTS_URL, NEW_REPORT, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert Report.objects.count() == 1


def test_a_session_get_needs_no_csrf_token(operator):
    client = JsonClient(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.get(REPORTS_URL).status_code == 200


def test_a_session_of_a_deactivated_user_stops_working(client_as):
    client = client_as("inactive")
    assert client.get(REPORTS_URL).status_code == 401


@pytest.mark.parametrize("key", ["abc\x00def", "cl\u00e9", "x" * 500, "a b"])
def test_a_malformed_token_is_a_401_not_a_500(db, key):
    client = JsonClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/reports/").status_code == 401
