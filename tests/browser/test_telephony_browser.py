"""The phone system drives the console (SPEC §9), in a real browser: the PBX posts call events
and the handset's AML to the running server over HTTP, as Asterisk's dialplan would, and the
operator at extension 101 sees the call ring, answers it, takes the handset's location with
Alt+A and logs the report without typing the number."""

import json
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from reports.models import Call, Report
from telephony.models import PhoneCall

from .conftest import SCREENSHOTS, screenshot

pytestmark = pytest.mark.browser

NUMBER = "+6281377712345"


def post(server_url: str, path: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{server_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201), response.status
        return json.loads(response.read())


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (375, 812)])
def test_a_ringing_call_is_answered_located_and_logged(page_for, server_url, width, height):
    token = Token.objects.create(user=get_user_model().objects.get(username="telephony")).key
    page = page_for("operator", width=width, height=height)
    expect(page.locator("#caller_phone")).to_be_visible()
    call_id = f"1733300000.{width}"

    post(server_url, "/api/v1/telephony/events/", token,
         {"call_id": call_id, "event": "ringing", "caller_phone": "081377712345",
          "extension": "101"})  # fmt: skip
    ringing = page.locator(f"#incoming li[data-call-id='{call_id}']")
    expect(ringing).to_be_visible()
    expect(ringing).to_contain_text("Berdering")
    expect(ringing).to_contain_text(NUMBER)
    expect(ringing).to_contain_text("Panggilan pertama dari nomor ini")
    screenshot(page, f"console-incoming-call-{width}")

    answered = post(server_url, "/api/v1/telephony/events/", token,
                    {"call_id": call_id, "event": "answered", "extension": "101"})  # fmt: skip
    assert answered["operator"] == "operator"
    expect(page.locator("#caller_phone")).to_have_value(NUMBER)
    expect(page.locator("#form-status")).to_contain_text("dijawab")

    located = int((timezone.now() - timedelta(seconds=5)).timestamp() * 1000)  # as Android sends it
    post(server_url, "/api/v1/aml/", token, {
        "v": "1", "emergency_number": "112", "device_number": NUMBER,
        "location_latitude": "-6.98412", "location_longitude": "110.40920",
        "location_accuracy": "18", "location_source": "GPS", "location_time": str(located),
    })  # fmt: skip
    banner = page.locator("#aml-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("18 m")
    screenshot(page, f"console-aml-{width}")

    page.keyboard.press("Alt+A")
    expect(page.locator("#pin-text")).to_contain_text("AML ±18 m")
    # The form goes on from the type of incident, the keyboard order unchanged by the pin map.
    page.locator("#category-input").focus()
    keyboard = page.keyboard
    keyboard.type("macet")
    keyboard.press("Enter")
    keyboard.type("Semarang Barat")
    keyboard.press("Tab")
    keyboard.type("Jl. Jenderal Sudirman")
    keyboard.press("Tab")
    keyboard.type("Macet, truk mogok")
    keyboard.press("Control+Enter")
    expect(page.locator("#form-status")).to_contain_text("terkirim ke")

    report = Report.objects.get(caller_phone=NUMBER)
    assert report.location_source == "aml"
    assert report.location_accuracy_m == 18
    assert "AML" not in report.description  # the keyboard went on to the description
    assert report.description == "Macet, truk mogok"
    assert (float(report.latitude), float(report.longitude)) == (-6.98412, 110.4092)
    call = Call.objects.get(report=report)
    phone_call = PhoneCall.objects.get(call_id=call_id)
    assert phone_call.logged_call_id == call.pk
    # The clock starts at the answer (to the browser's millisecond).
    assert abs(call.received_at - phone_call.answered_at) < timedelta(milliseconds=1)

    post(server_url, "/api/v1/telephony/events/", token, {"call_id": call_id, "event": "ended"})
    expect(page.locator("#incoming")).to_be_hidden()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (375, 812)])
def test_a_supervisor_reads_the_call_answering_kpi(page_for, server_url, width, height):
    """Calls the PBX reported over HTTP today: answered after 4, 9 and 30 s, one abandoned.
    The supervisor's /performance/ shows 2 of 4 within 15 s, below NENA's 90 %."""
    token = Token.objects.create(user=get_user_model().objects.get(username="telephony")).key
    start = timezone.now() - timedelta(minutes=30)
    for index, answer_after in enumerate([4, 9, 30, None]):
        call_id, rang = f"kpi-{width}-{index}", start + timedelta(minutes=index)
        post(server_url, "/api/v1/telephony/events/", token,
             {"call_id": call_id, "event": "ringing", "caller_phone": "081377712345",
              "extension": "101", "at": rang.isoformat()})  # fmt: skip
        if answer_after is not None:
            post(server_url, "/api/v1/telephony/events/", token,
                 {"call_id": call_id, "event": "answered",
                  "at": (rang + timedelta(seconds=answer_after)).isoformat()})  # fmt: skip
        post(server_url, "/api/v1/telephony/events/", token,
             {"call_id": call_id, "event": "ended",
              "at": (rang + timedelta(seconds=60)).isoformat()})  # fmt: skip

    page = page_for("supervisor", width=width, height=height)
    page.goto(f"{server_url}/performance/")
    section = page.locator("#answering")
    section.scroll_into_view_if_needed()
    summary = section.locator(".answering-summary")
    expect(summary).to_contain_text("Panggilan masuk")
    expect(summary.locator("div").nth(0).locator("dd")).to_have_text("4")
    expect(summary.locator("div").nth(2).locator("dd")).to_contain_text("1 (25,0 %)")
    expect(summary.locator("div.below dd")).to_have_text("50,0 %")
    operator_row = section.locator("#answering-operators tbody tr").first
    expect(operator_row).to_contain_text("Operator")
    expect(operator_row).to_have_class("below")
    expect(section.locator("#answering-hours tbody tr")).not_to_have_count(0)
    # The CSV link carries the page's filter and downloads the same figures.
    link = section.locator("a[href*='answering.csv']")
    export = page.request.get(f"{server_url}{link.get_attribute('href')}")
    assert export.status == 200 and "50.0" in export.text().splitlines()[1]
    section.screenshot(path=SCREENSHOTS / f"performance-answering-{width}.png")
