"""Open311 after the second probe (issue 33 §3, §6, §7, §9): throttled per api_key and per
address (the key ships inside citizen apps: it is public), wrong keys slowed per address;
status_notes only from the operator's note for the public; the XML well-formed whatever
text is stored; control characters and impossible dates a 400 in the format's shape."""

from __future__ import annotations

import json

import pytest
from defusedxml import ElementTree
from django.test import Client

from interop.models import Open311Client
from reports import services
from reports.models import Report

from .test_open311 import ERRORS, post, report_operator, valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(city):
    return Open311Client.objects.create(name="LAPOR! Semarang", code="lapor")


@pytest.fixture
def web():
    return Client()


def limits(settings, **rates):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, **rates}


def refused_with_429(response, fmt="json"):
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    if fmt == "json":
        valid(response.json(), ERRORS)
        assert response.json()[0]["code"] == 429
        assert response.json()[0]["description"].startswith("Terlalu banyak")
    else:
        assert ElementTree.fromstring(response.content).find("error").findtext("code") == "429"


# --- Throttles -----------------------------------------------------------------------------------


def test_posts_are_limited_per_api_key_whatever_the_address(web, app, settings):
    limits(settings, open311_key="3/min")
    for n in range(3):
        assert post(Client(REMOTE_ADDR=f"10.0.0.{n}"), app).status_code == 201
    refused_with_429(post(Client(REMOTE_ADDR="10.0.0.99"), app))
    assert Report.objects.count() == 3


def test_posts_are_limited_per_address_whatever_the_key(web, app, settings):
    limits(settings, open311_post="2/min")
    other = Open311Client.objects.create(name="Semarangku", code="semarangku")
    assert post(web, app).status_code == 201 and post(web, other).status_code == 201
    refused_with_429(post(web, other))
    assert post(Client(REMOTE_ADDR="10.0.0.2"), other).status_code == 201


def test_wrong_keys_are_slowed_per_address(web, app, settings):
    limits(settings, refused_key="3/min")
    guesses = [post(web, app, api_key=f"guess-{n}").status_code for n in range(3)]
    assert guesses == [403, 403, 403]
    refused_with_429(post(web, app, api_key="guess-4"))
    assert not Report.objects.exists()


def test_reading_is_limited_per_address_in_either_format(web, app, settings):
    limits(settings, open311="2/min")
    assert web.get("/open311/v2/requests.json").status_code == 200
    assert web.get("/open311/v2/services.xml").status_code == 200
    refused_with_429(web.get("/open311/v2/requests.xml"), fmt="xml")
    assert Client(REMOTE_ADDR="10.0.0.2").get("/open311/v2/requests.json").status_code == 200


# --- status_notes: the public note only ----------------------------------------------------------


def close(number: str, **fields) -> None:
    services.report_close(
        actor=report_operator(), report=Report.objects.get(number=number), reason="resolved",
        **fields,
    )  # fmt: skip


def test_the_internal_close_note_is_never_public(web, app):
    number = post(web, app).json()[0]["service_request_id"]
    close(number, note="Penelepon Siti Rahayu 081298765432 marah-marah")
    for fmt in ("json", "xml"):
        content = web.get(f"/open311/v2/requests/{number}.{fmt}").content.decode()
        assert "Siti" not in content and "081298765432" not in content
    assert web.get(f"/open311/v2/requests/{number}.json").json()[0]["status_notes"] == "selesai"


def test_status_notes_show_the_note_for_the_public(web, app):
    number = post(web, app).json()[0]["service_request_id"]
    close(number, note="internal", public_note="Lampu sudah diganti petugas DPU")
    item = web.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert item["status_notes"] == "selesai: Lampu sudah diganti petugas DPU"


def test_the_close_api_takes_the_public_note(web, app, operator):
    number = post(web, app).json()[0]["service_request_id"]
    report = Report.objects.get(number=number)
    desk = Client()
    desk.force_login(operator)
    body = {"reason": "resolved", "note": "Pak RT 0812", "public_note": "Sudah menyala"}
    response = desk.post(f"/api/v1/reports/{report.pk}/close/", body, "application/json")
    assert response.status_code == 200 and response.json()["public_note"] == "Sudah menyala"
    assert (
        web.get(f"/open311/v2/requests/{number}.json")
        .json()[0]["status_notes"]
        .endswith(": Sudah menyala")
    )
    assert report.events.get(kind="report.closed").data["public_note"] == "Sudah menyala"


def test_the_public_note_is_checked_at_the_edge(web, app, operator):
    report = Report.objects.get(number=post(web, app).json()[0]["service_request_id"])
    desk = Client()
    desk.force_login(operator)
    for bad in ("x" * 501, "a\x01b"):
        body = {"reason": "resolved", "public_note": bad}
        response = desk.post(f"/api/v1/reports/{report.pk}/close/", body, "application/json")
        assert response.status_code == 400 and "public_note" in response.json()
    report.refresh_from_db()
    assert report.status == "open"


def test_the_console_offers_a_note_for_the_public(operator):
    desk = Client()
    desk.force_login(operator)
    page = desk.get("/console/").content.decode()
    assert 'id="close-public-note"' in page and "Catatan untuk publik" in page


# --- XML well-formed whatever is stored ----------------------------------------------------------


def test_stored_control_characters_never_break_the_xml(web, app):
    number = post(web, app).json()[0]["service_request_id"]
    # Text stored before the door refused them (or by any other way in): written directly.
    Report.objects.filter(number=number).update(
        description="Lampu\x01 mati\x0b\x1b",
        address="Jl. Pemuda\x02 1\x7f",  # PostgreSQL stores no NUL at all
    )
    close(number, public_note="ok")
    Report.objects.filter(number=number).update(public_note="Sudah\x08 menyala\ufffe")
    for path in (f"/open311/v2/requests/{number}.xml", "/open311/v2/requests.xml"):
        response = web.get(path)
        assert response.status_code == 200
        request = ElementTree.fromstring(response.content).find("request")
        assert request.findtext("description") == "Lampu mati"
        assert request.findtext("address") == "Jl. Pemuda 1"
        assert request.findtext("status_notes") == "selesai: Sudah menyala"
    assert json.loads(web.get(f"/open311/v2/requests/{number}.json").content)


# --- Bad input: the format's 400, never a 500 ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/open311/v2/requests.json?service_code=pju_padam%00", "service_code"),
        ("/open311/v2/requests.json?service_request_id=LAP%01", "service_request_id"),
        ("/open311/v2/requests.json?status=open%1b", "status"),
        ("/open311/v2/requests.json?x%00=1", "x\\x00"),
        ("/open311/v2/requests/LAP-20261204-0001%00.json", "number"),
        ("/open311/v2/requests.json?start_date=2026-12-01T00:00:00%2B23:00", "start_date"),
        ("/open311/v2/requests.json?start_date=9999-12-31T23:00:00-05:00", "start_date"),
        ("/open311/v2/requests.json?end_date=2026-02-30T00:00:00%2B07:00", "end_date"),
        ("/open311/v2/requests.json?start_date=0001-01-01T00:00:00%2B07:00", "start_date"),
    ],
)
def test_bad_get_input_is_a_400_naming_the_field(web, app, path, says):
    response = web.get(path)
    assert response.status_code == 400, response.content
    valid(response.json(), ERRORS)
    assert says in response.json()[0]["description"]
    xml = web.get(path.replace(".json", ".xml"))
    assert xml.status_code == 400
    assert ElementTree.fromstring(xml.content).find("error").findtext("code") == "400"


@pytest.mark.parametrize(
    "fields",
    [
        {"service_code": "pju_padam\x00"},
        {"description": "Lampu\x01 mati"},
        {"email": "siti\x00@example.id"},
        {"device_id": "abc\x1f"},
        {"api_key\x00": "x"},
    ],
)
def test_control_characters_in_a_post_are_a_400_and_nothing_is_written(web, app, fields):
    response = post(web, app, **fields)
    assert response.status_code == 400, response.content
    valid(response.json(), ERRORS)
    assert "karakter kontrol" in response.json()[0]["description"]
    assert not Report.objects.exists()
