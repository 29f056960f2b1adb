"""The holes an adversarial probe found (issue 20), each closed: searching by number as agency
staff, requests at oracle speed, malformed websocket frames, debug pages on an install, and
the security headers every page carries."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from dispatch112.asgi import application
from reports.models import PersonalDataAccess

from .api.conftest import JsonClient
from .test_events_consumer import connect, run, session_headers

PHONE = "081234567890"


def signed_in(user) -> JsonClient:
    client = JsonClient()
    client.force_login(user)
    return client


# --- §1 searching by number --------------------------------------------------------------------


def test_agency_staff_cannot_search_reports_by_number(make_report, staff_of):
    make_report(caller_phone=PHONE)
    staff = staff_of("dishub")
    client = signed_in(staff)
    for guess in (PHONE, "081234567891", "+6281234567890"):
        response = client.get("/api/v1/reports/", {"phone": guess})
        assert response.status_code == 403, guess
    # Said in the console's language (Indonesian unless the user chose English).
    assert response.json()["detail"] == (
        "Hanya pusat komando yang dapat mencari laporan berdasarkan nomor telepon."
    )
    assert not PersonalDataAccess.objects.exists()
    # The rest of the list still works for them, numbers masked.
    [report] = client.get("/api/v1/reports/").json()["results"]
    assert report["caller_phone"] == "+62812*****890"


def test_the_command_centre_still_searches_by_number(make_report, operator):
    report = make_report(caller_phone=PHONE)
    make_report(caller_phone="081299990000")
    found = signed_in(operator).get("/api/v1/reports/", {"phone": PHONE}).json()["results"]
    assert [r["id"] for r in found] == [report.pk]


# --- §1 per-user request limits ------------------------------------------------------------------


def test_requests_past_the_burst_limit_get_429_with_retry_after(settings, make_report, staff_of):
    settings.API_RATE_LIMITS = {"burst": "5/s", "sustained": None}
    client = signed_in(staff_of("dishub"))
    statuses = [client.get("/api/v1/reports/").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3
    refused = client.get("/api/v1/reports/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["detail"]


def test_the_limit_is_per_user(settings, make_report, staff_of, operator):
    settings.API_RATE_LIMITS = {"burst": None, "sustained": "3/min"}
    staff, desk = signed_in(staff_of("dishub")), signed_in(operator)
    assert [staff.get("/api/v1/reports/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert desk.get("/api/v1/reports/").status_code == 200  # another user: its own count


def test_the_default_limits_are_set():
    from django.conf import settings

    limits = settings.API_RATE_LIMITS
    assert (limits["burst"], limits["sustained"]) == ("20/s", "600/min")
    assert limits["page_search"] == "20/min"  # the history page's searches (issue 33)


# --- §3 malformed websocket frames ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ("not json", "frame is not JSON"),
        ("[" * 100_000 + "]" * 100_000, "frame too large"),
        ("[" * 30_000 + "]" * 30_000, "JSON nested too deeply"),
        (json.dumps({"type": "resume", "pad": "x" * 1_000_000}), "frame too large"),
        (json.dumps({"type": "hello"}), "unknown message type"),
    ],
    ids=["not-json", "100000-deep", "30000-deep", "1-MB", "unknown-type"],
)
def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays(operator, frame, detail, caplog):
    headers = session_headers(operator)

    async def scenario():
        socket = await connect(headers)
        await socket.receive_json_from(timeout=2)  # snapshot
        await socket.send_to(text_data=frame)
        assert await socket.receive_json_from(timeout=2) == {"type": "error", "detail": detail}
        # Still serving: a resume is answered.
        await socket.send_json_to({"type": "resume", "last_event_id": 0})
        assert await socket.receive_nothing(timeout=0.3)
        await socket.send_to(text_data="{")
        assert (await socket.receive_json_from(timeout=2))["type"] == "error"
        await socket.disconnect()

    run(scenario)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.django_db(transaction=True)
def test_a_binary_frame_gets_an_error_frame_naming_it(operator, caplog):
    # Not a close with 1003: Daphne refuses to send that code and ends the socket with a
    # 1011 and a traceback instead (issue 33 finding 9).
    headers = session_headers(operator)

    async def scenario():
        socket = await connect(headers)
        await socket.receive_json_from(timeout=2)
        await socket.send_to(bytes_data=b"\x00\x01")
        error = await socket.receive_json_from(timeout=2)
        assert (error["type"], error["field"]) == ("error", "frame")
        await socket.send_to(text_data="{")  # and still serving
        assert (await socket.receive_json_from(timeout=2))["type"] == "error"
        await socket.disconnect()

    run(scenario)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.django_db(transaction=True)
def test_a_frame_before_a_refused_connect_is_ignored(db):
    async def scenario():
        socket = WebsocketCommunicator(
            application, "/ws/events/", headers=[(b"origin", b"http://testserver")]
        )
        await socket.connect()
        await socket.send_to(text_data="not json")
        assert (await socket.receive_output(timeout=2))["code"] == 4401

    run(scenario)


# --- §4 no debug pages on an install -------------------------------------------------------------


def test_this_process_runs_with_debug_off_as_an_install_does(settings):
    assert settings.DEBUG is False  # no environment: the embedded default


def test_a_foreign_host_gets_a_plain_400(db):
    response = Client(HTTP_HOST="evil.example").get("/accounts/login/")
    assert response.status_code == 400
    body = response.content.decode()
    assert "DisallowedHost" not in body and "SECRET_KEY" not in body and "Traceback" not in body


def test_an_odd_url_lists_no_url_patterns(db):
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "api/v1/" not in body and "URLconf" not in body


# --- §5 security headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/api/v1/agencies/", "/healthz", "/api/docs/"]
)
def test_every_response_carries_the_security_headers(db, path):
    response = Client().get(path)
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script anywhere
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["Referrer-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_the_map_tiles_host_is_allowed_for_images():
    from django.conf import settings

    assert (
        "https://tile.openstreetmap.org"
        in (settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"])
    )
