"""What a real shift still tripped on (issue 37 §1, §3, §5) and a lost answer (issue 35 §2), in
a real browser on the console:

- a browser set to English still gets the API's errors in the page's language (Indonesian);
- a tourist's number is logged in its international form;
- an abandoned call dismissed with Tutup is gone for good — after a reload too;
- a report whose answer never reached the browser is sent again by the console itself, with
  the draft's Idempotency-Key, and the server makes one report, not two."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from reports.models import Report
from telephony.models import PhoneCall

from .conftest import type_report
from .test_telephony_browser import post

pytestmark = pytest.mark.browser


def console(new_page, server_url, *, locale="id-ID"):
    page = new_page(
        viewport={"width": 1366, "height": 768}, locale=locale, timezone_id="Asia/Jakarta"
    )
    page.goto(f"{server_url}/accounts/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "demo112")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{server_url}/console/")
    expect(page.locator("#live-banner")).to_be_hidden()
    return page


def test_an_english_browser_reads_the_apis_errors_in_indonesian(new_page, server_url, demo_city):
    page = console(new_page, server_url, locale="en-US")
    type_report(page, phone="+1 555", category="kebakaran", kecamatan="Tugu",
                address="Jl. Walisongo", description="Asap tebal")  # fmt: skip
    error = page.locator('[data-error-for="caller_phone"]')
    expect(error).to_contain_text("bukan nomor telepon internasional yang sah")
    assert not Report.objects.exists()


def test_a_tourists_number_is_logged(new_page, server_url, demo_city):
    page = console(new_page, server_url)
    type_report(page, phone="+44 20 7946 0958", category="kebakaran", kecamatan="Tugu",
                address="Jl. Walisongo", description="Asap tebal")  # fmt: skip
    expect(page.locator("#form-status")).to_contain_text("terkirim", timeout=5000)
    assert Report.objects.get().caller_phone == "+442079460958"


def test_a_dismissed_abandoned_call_does_not_come_back(new_page, server_url, demo_city):
    token = Token.objects.create(user=get_user_model().objects.get(username="telephony")).key
    for event in ("ringing", "ended"):
        post(server_url, "/api/v1/telephony/events/", token,
             {"call_id": "ab-1", "event": event, "caller_phone": "081377712345"})  # fmt: skip
    page = console(new_page, server_url)
    call = page.locator('[data-call-id="ab-1"]')
    expect(call).to_be_visible(timeout=5000)
    call.get_by_role("button", name="Tutup").click()
    expect(call).to_have_count(0)
    assert PhoneCall.objects.get(call_id="ab-1").dismissed_by.username == "operator"
    page.reload()
    expect(page.locator("#live-banner")).to_be_hidden()
    page.wait_for_timeout(1000)  # the snapshot has been drawn
    expect(page.locator('[data-call-id="ab-1"]')).to_have_count(0)


def test_a_report_whose_answer_was_lost_is_sent_again_and_made_once(
    new_page, server_url, demo_city
):
    page = console(new_page, server_url)
    sent = []

    def lose_the_first_answer(route):
        response = route.fetch()  # the server receives it and makes the report…
        sent.append((route.request.headers.get("idempotency-key"), response.status))
        if len(sent) == 1:
            route.abort("connectionreset")  # …and its answer never reaches the browser
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/reports/", lose_the_first_answer)
    type_report(page, phone="081234567890", category="kebakaran", kecamatan="Tugu",
                address="Jl. Walisongo", description="Asap tebal")  # fmt: skip
    expect(page.locator("#form-status")).to_contain_text("terkirim", timeout=10_000)
    assert len(sent) == 2 and sent[0][0] and sent[0][0] == sent[1][0], sent
    assert [status for _, status in sent] == [201, 201]
    assert Report.objects.count() == 1


def test_every_screens_api_calls_speak_the_pages_language(new_page, server_url, demo_city):
    """The desk, the map and the field app call the API through live.js (and the field app's
    outbox): in an English browser their errors come back in Indonesian too (issue 37 §1)."""
    page = new_page(viewport={"width": 1366, "height": 768}, locale="en-US")
    page.goto(f"{server_url}/accounts/login/")
    page.fill("#id_username", "dishub")
    page.fill("#id_password", "demo112")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{server_url}/agency/")
    answer = page.evaluate(
        "window.DispatchUI.api('POST', '/api/v1/assignments/999999/acknowledge/', {})"
    )
    assert answer["status"] == 404 and answer["data"]["detail"] == "Data tidak ditemukan.", answer


def test_f2_on_a_call_in_progress_asks_in_the_consoles_own_dialog(new_page, server_url, demo_city):
    """No browser confirm() (issue 37 §10): Esc keeps the call, Enter discards it."""
    page = console(new_page, server_url)
    browser_dialogs = []
    page.on("dialog", lambda dialog: (browser_dialogs.append(dialog.message), dialog.dismiss()))
    type_report(page, phone="081234567890", category="kebakaran", kecamatan="Tugu",
                address="Jl. Walisongo", description="Asap tebal", send=False)  # fmt: skip
    page.keyboard.press("F2")
    ask = page.locator("#ask-dialog")
    expect(ask).to_contain_text("Buang panggilan yang sedang dicatat?")
    page.keyboard.press("Escape")
    expect(ask).to_be_hidden()
    expect(page.locator("#address")).to_have_value("Jl. Walisongo")  # kept
    page.keyboard.press("F2")
    expect(ask).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#address")).to_have_value("")  # discarded: a new call
    assert browser_dialogs == []
