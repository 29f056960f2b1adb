"""The OpenAPI 3 schema at /api/schema/ and the interactive docs at /api/docs/, which must work
with no internet (SPEC §4, §6): every script and stylesheet is served from our static files."""

import re
from io import StringIO

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

from .helpers import expect

SPEC_OPERATIONS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/agencies/": {"get"},
    "/api/v1/categories/": {"get"},
    "/api/v1/kecamatan/": {"get"},
    "/api/v1/reports/": {"get", "post"},
    "/api/v1/reports/{id}/": {"get", "patch"},
    "/api/v1/reports/{id}/close/": {"post"},
    "/api/v1/reports/{id}/assignments/": {"post"},
    "/api/v1/reports/{id}/events/": {"get"},
    "/api/v1/reports/{id}/messages/": {"get", "post"},
    "/api/v1/reports/duplicates/": {"get"},
    "/api/v1/calls/": {"get", "post"},
    "/api/v1/calls/history/": {"get"},
    "/api/v1/assignments/": {"get"},
    "/api/v1/assignments/{id}/": {"get"},
    "/api/v1/assignments/{id}/acknowledge/": {"post"},
    "/api/v1/assignments/{id}/dispatch/": {"post"},
    "/api/v1/assignments/{id}/arrive/": {"post"},
    "/api/v1/assignments/{id}/resolve/": {"post"},
    "/api/v1/assignments/{id}/reject/": {"post"},
    "/api/v1/assignments/{id}/cancel/": {"post"},
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
PUBLIC = expect(
    {
        "anonymous": 200,
        "inactive": 200,
        "no_role": 200,
        "operator": 200,
        "supervisor": 200,
        "assigned_staff": 200,
        "other_staff": 200,
    }
)


@pytest.fixture
def schema(client_for):
    response = client_for().get("/api/schema/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.oai.openapi")
    return yaml.safe_load(response.content)


@pytest.mark.parametrize(("role", "status"), PUBLIC)
def test_the_schema_and_docs_are_served_to_everyone(client_as, role, status):
    client = client_as(role)
    assert client.get("/api/schema/").status_code == status
    assert client.get("/api/docs/").status_code == status


def test_the_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Dispatch 112 API"


def test_the_schema_has_every_spec_operation_and_no_writes_on_configuration(schema):
    operations = {
        path: {m for m in item if m in HTTP_METHODS} for path, item in schema["paths"].items()
    }
    for path, methods in SPEC_OPERATIONS.items():
        assert path in operations, path
        assert methods <= operations[path], path
    for path in ("/api/v1/agencies/", "/api/v1/categories/", "/api/v1/kecamatan/"):
        assert operations[path] == {"get"}
    # An operator corrects a report (SPEC §11); nobody replaces or deletes one.
    assert operations["/api/v1/reports/{id}/"] == {"get", "patch"}


def test_the_schema_describes_inputs_and_outputs(schema):
    paths, components = schema["paths"], schema["components"]["schemas"]
    create = paths["/api/v1/reports/"]["post"]
    assert set(create["responses"]) == {"201"}
    request = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = components[request.rsplit("/", 1)[-1]]
    assert set(fields["required"]) == {"caller_phone", "category", "description", "address"}
    assert {"agencies", "priority", "received_at", "kecamatan"} <= set(fields["properties"])
    dispatch = paths["/api/v1/assignments/{id}/dispatch/"]["post"]
    request = dispatch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    # SPEC §7: a fleet unit's ETA defaults to the travel estimate; nothing is required.
    dispatch_fields = components[request.rsplit("/", 1)[-1]]
    assert "required" not in dispatch_fields
    assert {"eta_minutes", "unit", "divert"} == set(dispatch_fields["properties"])
    ranked = paths["/api/v1/assignments/{id}/units/"]["get"]["responses"]["200"]
    item = ranked["content"]["application/json"]["schema"]["items"]["$ref"]
    assert {"distance_m", "eta_minutes", "position_age_s"} <= set(
        components[item.rsplit("/", 1)[-1]]["properties"]
    )
    history = paths["/api/v1/calls/history/"]["get"]
    phone = next(p for p in history["parameters"] if p["name"] == "phone")
    assert phone["required"] is True


def test_the_schema_declares_token_and_session_auth(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["type"] == "apiKey"
    assert schemes["tokenAuth"]["in"] == "header"
    assert schemes["tokenAuth"]["name"] == "Authorization"
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_the_schema_is_also_served_as_json(client_for):
    response = client_for().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_schema_generates_without_warnings(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "openapi: 3" in out.getvalue()


def test_the_docs_work_offline(client_for):
    response = client_for().get("/api/docs/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    assert "http://" not in html and "https://" not in html and 'src="//' not in html
    assets = re.findall(r'<(?:script|link)[^>]*?(?:src|href)="([^"]+)"', html)
    scripts = [a for a in assets if a.endswith(".js")]
    stylesheets = [a for a in assets if a.endswith(".css")]
    assert scripts
    assert stylesheets
    # Its own start-up script comes from the view itself (no inline script: the CSP).
    starter = "/api/docs/?script="
    assert starter in assets
    for asset in set(assets) - {starter}:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a vendored file"
    script = client_for().get(starter)
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
