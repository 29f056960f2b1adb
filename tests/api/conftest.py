"""API clients per role. Every client speaks JSON and signs in with a real session
(`force_login`), never `force_authenticate`: the authentication classes run as in production.
Token authentication is exercised in test_auth_api.py.

The role matrix, against a report made by `make_report()` (kemacetan → dishub, polrestabes):

- anonymous: no credentials (401)
- inactive: a deactivated operator whose session still exists (401)
- no_role: an active user with no group and no agency (403)
- operator, supervisor: the command centre
- assigned_staff: dishub staff, assigned to the report
- other_staff: damkar staff, not assigned to the report
"""

import json

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from rest_framework.test import APIClient

from tests.factories import OperatorFactory, UserFactory

from .helpers import ASSIGNED_AGENCY, OTHER_AGENCY


class JsonClient(APIClient):
    """An APIClient whose request bodies are JSON unless told otherwise, encoded as a real
    client does (ASCII with escapes, so lone surrogates such as "\\ud800" reach the server)."""

    def post(self, path, data=None, format=None, content_type=None, **extra):
        data, content_type = _as_json(data, format, content_type)
        return super().post(path, data, format=format, content_type=content_type, **extra)

    def put(self, path, data=None, format=None, content_type=None, **extra):
        data, content_type = _as_json(data, format, content_type)
        return super().put(path, data, format=format, content_type=content_type, **extra)

    def patch(self, path, data=None, format=None, content_type=None, **extra):
        data, content_type = _as_json(data, format, content_type)
        return super().patch(path, data, format=format, content_type=content_type, **extra)


def _as_json(data, format, content_type):
    if data is None or format is not None or content_type is not None:
        return data, content_type
    return json.dumps(data), "application/json"


@pytest.fixture
def users(city, operator, supervisor, staff_of):
    inactive = OperatorFactory()
    return {
        "anonymous": None,
        "inactive": inactive,
        "no_role": UserFactory(),
        "operator": operator,
        "supervisor": supervisor,
        "assigned_staff": staff_of(ASSIGNED_AGENCY),
        "other_staff": staff_of(OTHER_AGENCY),
    }


@pytest.fixture
def client_for(db):
    """client_for(user) → a JSON client signed in as `user` by session; None → anonymous."""

    def make(user=None, **kwargs):
        client = JsonClient(**kwargs)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def client_as(users, client_for):
    """client_as("operator") → a signed-in client for one of ROLES."""

    def make(role: str, **kwargs):
        client = client_for(users[role], **kwargs)
        if role == "inactive":  # deactivated after signing in: the session must stop working
            users[role].is_active = False
            users[role].save(update_fields=["is_active"])
        return client

    return make


@pytest.fixture
def api(operator, client_for):
    """The operator's client."""
    return client_for(operator)


@pytest.fixture
def csrf_pair():
    """(cookie value, header value) of a valid CSRF token, without rendering a page."""
    request = HttpRequest()
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


@pytest.fixture
def csrf_name():
    return settings.CSRF_COOKIE_NAME
