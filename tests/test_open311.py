"""Open311 GeoReport v2 (SPEC §10, issue 19 §2): city apps list the non-emergency services,
POST requests with their api_key (form-encoded, located by lat+long or address_string) that
become reports routed as usual with source open311, and follow them by status; JSON and XML;
errors as [{code, description}].

Responses are checked against JSON Schemas of the format's field lists (GeoReport v2 on
wiki.open311.org). The open311/schema-validation project's schemas carry no licence, so they
are not copied here; these follow the same field lists, types and required fields."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import jsonschema
import pytest
from channels.db import database_sync_to_async
from defusedxml import ElementTree
from django.test import Client
from django.utils import timezone

from agencies.models import Agency, Category
from interop.models import Open311Client, Open311Request
from reports import retention, services
from reports.models import Call, Event, Report, ReportSource

from .factories import AgencyStaffFactory, OperatorFactory
from .test_events_consumer import connect, run, session_headers
from .waiting import received_until_quiet

NULLABLE_STRING = {"type": ["string", "null"]}
SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": NULLABLE_STRING,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": NULLABLE_STRING,
        "group": NULLABLE_STRING,
    },
}
REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "additionalProperties": False,
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"enum": ["open", "closed"]},
        "status_notes": NULLABLE_STRING,
        "service_name": NULLABLE_STRING,
        "service_code": {"type": "string"},
        "description": {"type": ["string", "null"], "maxLength": 4000},
        "agency_responsible": NULLABLE_STRING,
        "service_notice": NULLABLE_STRING,
        "requested_datetime": {"type": "string"},
        "updated_datetime": NULLABLE_STRING,
        "expected_datetime": NULLABLE_STRING,
        "address": NULLABLE_STRING,
        "address_id": NULLABLE_STRING,
        "zipcode": NULLABLE_STRING,
        "lat": {"type": ["number", "null"]},
        "long": {"type": ["number", "null"]},
        "media_url": NULLABLE_STRING,
    },
}
CREATED = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id"],
        "properties": {
            "service_request_id": {"type": "string"},
            "service_notice": NULLABLE_STRING,
            "account_id": NULLABLE_STRING,
        },
    },
}
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
PERSONAL = ("Siti", "Rahayu", "081298765432", "siti@example.id", "6281298765432")


def valid(instance, schema) -> None:
    jsonschema.Draft202012Validator(schema).validate(instance)


def w3c(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(hours=7), value  # WIB, with its offset
    return moment


@pytest.fixture
def app(city):
    return Open311Client.objects.create(name="LAPOR! Semarang", code="lapor")


@pytest.fixture
def web():
    return Client()


def post(web, app, **fields):
    data = {
        "api_key": app.api_key,
        "service_code": "pju_padam",
        "lat": "-6.9932",
        "long": "110.4203",
        "description": "Lampu jalan mati sepanjang 200 m",
        **fields,
    }
    return web.post("/open311/v2/requests.json", {k: v for k, v in data.items() if v is not None})


# --- Services and discovery ----------------------------------------------------------------------


def test_services_are_the_non_emergency_categories(web, city):
    response = web.get("/open311/v2/services.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    valid(body, {"type": "array", "items": SERVICE})
    codes = {s["service_code"] for s in body}
    assert codes == set(Category.objects.filter(non_emergency=True).values_list("code", flat=True))
    assert codes == {"kemacetan", "pohon_tumbang", "pju_padam"}
    assert "kebakaran" not in codes and "darurat_medis" not in codes  # emergencies call 112


def test_a_category_withdrawn_from_city_apps_is_no_longer_a_service(web, city):
    Category.objects.filter(code="kemacetan").update(non_emergency=False)
    codes = {s["service_code"] for s in web.get("/open311/v2/services.json").json()}
    assert "kemacetan" not in codes
    assert web.get("/open311/v2/services/kemacetan.json").status_code == 404


def test_services_in_xml(web, city):
    response = web.get("/open311/v2/services.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "services"
    services_ = root.findall("service")
    assert {s.findtext("service_code") for s in services_} == {
        "kemacetan", "pohon_tumbang", "pju_padam"
    }  # fmt: skip
    assert all(s.findtext("metadata") == "false" and s.findtext("type") == "realtime"
               for s in services_)  # fmt: skip


def test_service_definition_has_no_attributes(web, city):
    body = web.get("/open311/v2/services/pju_padam.json").json()
    assert body == {"service_code": "pju_padam", "attributes": []}
    root = ElementTree.fromstring(web.get("/open311/v2/services/pju_padam.xml").content)
    assert root.tag == "service_definition" and root.findtext("service_code") == "pju_padam"


def test_discovery(web, city):
    body = web.get("/open311/v2/discovery.json").json()
    valid(body, DISCOVERY)
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert web.get("/open311/v2/").json() == body
    root = ElementTree.fromstring(web.get("/open311/v2/discovery.xml").content)
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


# --- POST ----------------------------------------------------------------------------------------


def test_a_post_becomes_a_routed_report_with_source_open311(web, app):
    response = post(
        web, app, first_name="Siti", last_name="Rahayu", phone="081298765432",
        email="siti@example.id", address_string="Jl. Pandanaran 12", media_url="https://img.example.id/1.jpg",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    valid(body, CREATED)
    report = Report.objects.get(number=body[0]["service_request_id"])
    assert report.source == ReportSource.OPEN311
    assert report.origin == "LAPOR! Semarang"
    assert report.operator == app.account  # the app's service account, which cannot sign in
    assert not app.account.is_active and not app.account.has_usable_password()
    assert report.category.code == "pju_padam"
    assert [a.agency.code for a in report.assignments.all()] == ["dpu"]  # routed as usual
    assert (float(report.latitude), float(report.longitude)) == (-6.9932, 110.4203)
    assert report.address == "Jl. Pandanaran 12"
    assert report.caller_name == "Siti Rahayu" and report.caller_phone == "+6281298765432"
    assert report.priority == 3  # the category's default
    assert not Call.objects.exists()  # nobody called 112
    extra = Open311Request.objects.get(report=report)
    assert (extra.client, extra.email) == (app, "siti@example.id")
    assert extra.media_url == "https://img.example.id/1.jpg"
    created = Event.objects.get(report=report, kind="report.created")
    assert created.data["source"] == "open311" and created.actor == app.account


def test_a_post_located_by_address_only(web, app):
    response = post(web, app, lat=None, long=None, address_string="Jl. Kaligawe km 3")
    assert response.status_code == 201, response.content
    report = Report.objects.get(number=response.json()[0]["service_request_id"])
    assert report.latitude is None and report.address == "Jl. Kaligawe km 3"


def test_a_post_located_by_coordinates_only_gets_them_as_its_address(web, app):
    response = post(web, app)
    report = Report.objects.get(number=response.json()[0]["service_request_id"])
    assert "-6.9932" in report.address and "110.4203" in report.address
    assert report.caller_phone == "" and report.caller_name == ""  # anonymous is allowed


def test_a_post_in_xml(web, app):
    response = web.post(
        "/open311/v2/requests.xml",
        {"api_key": app.api_key, "service_code": "pohon_tumbang", "address_string": "Jl. Veteran"},
    )
    assert response.status_code == 201
    root = ElementTree.fromstring(response.content)
    number = root.find("request").findtext("service_request_id")
    assert Report.objects.get(number=number).category.code == "pohon_tumbang"


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "not-a-key"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code wajib diisi"),
        ({"service_code": "kebakaran"}, 400, "service_code kebakaran"),  # an emergency: call 112
        ({"service_code": "nope"}, 400, "service_code nope"),
        ({"lat": None, "long": None}, 400, "lat dan long, atau address_string"),
        ({"long": None}, 400, "lat dan long bersamaan"),
        ({"lat": "abc"}, 400, "lat:"),
        ({"lat": "123"}, 400, "lat:"),
        ({"phone": "12"}, 400, "phone:"),
        ({"email": "nobody"}, 400, "email"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": "x" * 4001}, 400, "description:"),
    ],
)
def test_bad_posts_get_the_formats_errors_and_save_nothing(web, app, fields, status, says):
    response = post(web, app, **fields)
    assert response.status_code == status, response.content
    body = response.json()
    valid(body, ERRORS)
    assert body[0]["code"] == status
    assert says in " ".join(e["description"] for e in body), body
    assert not Report.objects.exists() and not Open311Request.objects.exists()


def test_errors_in_xml(web, app):
    response = post(web, app, api_key="wrong")
    response = web.post("/open311/v2/requests.xml", {"api_key": "wrong"})
    assert response.status_code == 403
    root = ElementTree.fromstring(response.content)
    assert root.tag == "errors" and root.find("error").findtext("code") == "403"


def test_a_withdrawn_app_cannot_post(web, app):
    app.active = False
    app.save()
    assert post(web, app).status_code == 403
    assert not Report.objects.exists()


def test_the_api_key_is_not_taken_from_the_query_string(web, app):
    response = web.post(f"/open311/v2/requests.json?api_key={app.api_key}",
                        {"service_code": "pju_padam", "address_string": "Jl. A"})  # fmt: skip
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_post_reaches_the_console_and_the_agency_live(city):
    """A real websocket client: the operator's console and DPU's queue get the new report the
    moment the app posts it, with its source; DPU sees no submitter's number in full."""
    app = Open311Client.objects.create(name="LAPOR! Semarang", code="lapor")
    operator_socket, dpu_socket = (
        session_headers(report_operator()),
        session_headers(AgencyStaffFactory(agency=Agency.objects.get(code="dpu"))),
    )

    async def scenario():
        console, queue = await connect(operator_socket), await connect(dpu_socket)
        for socket in (console, queue):
            await socket.receive_json_from(timeout=5)  # the snapshot
        response = await database_sync_to_async(post)(Client(), app, phone="081298765432")
        assert response.status_code == 201
        got = {}
        for name, socket in (("console", console), ("dpu", queue)):
            messages = await received_until_quiet(socket, 0.3, first=3.0)
            got[name] = [m["report"] for m in messages if m["type"] == "report.updated"]
            await socket.disconnect()
        return got

    got = run(scenario)
    (console,) = got["console"]
    assert console["source"] == "open311" and console["origin"] == "LAPOR! Semarang"
    assert console["caller_phone"] == "+6281298765432"
    (dpu,) = got["dpu"]
    assert dpu["source"] == "open311" and dpu["caller_phone_masked"]
    assert dpu["caller_phone"] != "+6281298765432"


# --- GET -----------------------------------------------------------------------------------------


def test_get_a_request_follows_its_report(web, app, staff_of):
    number = post(web, app, first_name="Siti", last_name="Rahayu", phone="081298765432",
                  email="siti@example.id").json()[0]["service_request_id"]  # fmt: skip
    item = web.get(f"/open311/v2/requests/{number}.json").json()
    valid(item, {"type": "array", "items": REQUEST, "minItems": 1, "maxItems": 1})
    item = item[0]
    assert item["status"] == "open"
    assert item["service_code"] == "pju_padam" and item["agency_responsible"] == "DPU"
    assert item["status_notes"] == "DPU: diberitahukan"  # where each agency stands
    assert (item["lat"], item["long"]) == (-6.9932, 110.4203)
    w3c(item["requested_datetime"])
    for value in PERSONAL:
        assert value not in json.dumps(item)

    report = Report.objects.get(number=number)
    dpu = staff_of("dpu")
    assignment = report.assignments.get()
    services.assignment_acknowledge(assignment=assignment, actor=dpu)
    services.assignment_dispatch(assignment=assignment, actor=dpu, unit="DPU-2", eta_minutes=30)
    item = web.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert item["status"] == "open" and item["status_notes"] == "DPU: diberangkatkan"
    services.assignment_arrive(assignment=assignment, actor=dpu)
    services.assignment_resolve(assignment=assignment, actor=dpu, note="Lampu diganti")
    operator = report_operator()
    services.report_close(actor=operator, report=report, reason="resolved",
                          note="Pak Budi 0812 lapor lagi", public_note="Sudah menyala")  # fmt: skip
    item = web.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert item["status"] == "closed"
    assert item["status_notes"] == "selesai: Sudah menyala"  # the public note, never the internal
    report.refresh_from_db()
    assert w3c(item["updated_datetime"]) >= report.closed_at.replace(microsecond=0)


def report_operator():
    return OperatorFactory()


def test_get_requests_only_shows_open311_reports(web, app, make_report):
    make_report(caller_phone="081234567890", category="pju_padam")  # a 112 call: not public
    number = post(web, app).json()[0]["service_request_id"]
    body = web.get("/open311/v2/requests.json").json()
    valid(body, {"type": "array", "items": REQUEST})
    assert [r["service_request_id"] for r in body] == [number]
    call_report = Report.objects.get(source=ReportSource.CALL)
    assert web.get(f"/open311/v2/requests/{call_report.number}.json").status_code == 404


def test_get_requests_filters(web, app):
    first = post(web, app).json()[0]["service_request_id"]
    second = post(web, app, service_code="pohon_tumbang").json()[0]["service_request_id"]
    third = post(web, app).json()[0]["service_request_id"]
    Report.objects.filter(number=third).update(received_at=timezone.now() - timedelta(days=120))
    services.report_close(
        actor=report_operator(), report=Report.objects.get(number=second), reason="resolved"
    )

    def ids(query: str) -> set[str]:
        response = web.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.content
        return {r["service_request_id"] for r in response.json()}

    assert ids("") == {first, second}  # the last 90 days by default
    assert ids(f"service_request_id={first},{third}") == {first, third}  # ids ignore the window
    assert ids("service_code=pohon_tumbang") == {second}
    assert ids("service_code=pju_padam,pohon_tumbang") == {first, second}
    assert ids("status=closed") == {second}
    assert ids("status=open") == {first}
    start = (timezone.now() - timedelta(days=200)).isoformat()
    end = (timezone.now() - timedelta(days=100)).isoformat()
    assert ids(f"start_date={start.replace('+', '%2B')}&end_date={end.replace('+', '%2B')}") == {
        third
    }
    assert ids(f"start_date={start.replace('+', '%2B')}") == {first, second, third}


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("status=pending", "status"),
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-12-01", "end_date"),  # no time and offset
        ("start_date=2026-12-02T00:00:00%2B07:00&end_date=2026-12-01T00:00:00%2B07:00", "end_date"),
    ],
)
def test_bad_get_filters_are_400s(web, app, query, says):
    response = web.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    body = response.json()
    valid(body, ERRORS)
    assert says in body[0]["description"]


def test_get_requests_in_xml(web, app):
    number = post(web, app, email="siti@example.id").json()[0]["service_request_id"]
    response = web.get("/open311/v2/requests.xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id") == number
    assert request.findtext("status") == "open"
    assert b"siti@example.id" not in response.content


def test_unknown_request_is_the_formats_404(web, app):
    response = web.get("/open311/v2/requests/LAP-20261204-9999.json")
    assert response.status_code == 404
    valid(response.json(), ERRORS)
    response = web.get("/open311/v2/requests/LAP-20261204-9999.xml")
    assert ElementTree.fromstring(response.content).find("error").findtext("code") == "404"


def test_an_unknown_format_is_not_served(web, city):
    assert web.get("/open311/v2/services.csv").status_code == 404


def test_reading_needs_no_key_but_writing_does(web, app):
    assert web.get("/open311/v2/requests.json").status_code == 200
    assert web.put("/open311/v2/requests.json").status_code == 405
    assert web.delete("/open311/v2/requests/X.json").status_code == 405


# --- Personal data -------------------------------------------------------------------------------


def test_retention_erases_the_submitters_email(web, app):
    number = post(web, app, first_name="Siti", phone="081298765432",
                  email="siti@example.id").json()[0]["service_request_id"]  # fmt: skip
    report = Report.objects.get(number=number)
    services.report_close(actor=report_operator(), report=report, reason="resolved")
    later = timezone.now() + timedelta(days=800)
    result = retention.anonymise_callers(now=later)
    assert result.reports == 1
    report.refresh_from_db()
    assert report.caller_name == report.caller_phone == ""
    extra = Open311Request.objects.get(report=report)
    assert extra.email == "" and extra.anonymised_at is not None
    assert result.others["Open311 requests"] == 1
