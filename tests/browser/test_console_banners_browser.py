"""The console at 1366×768 with real life on it (issue 37 §4): a BMKG warning, a call ringing
and another the caller gave up on, and a number with a history, all at once — the clock, the
form, *Kirim laporan* and the confirmation stay on the one screen, and the page never scrolls."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from .conftest import screenshot, type_report
from .test_telephony_browser import post

pytestmark = pytest.mark.browser

# On the screen and not covered or clipped: what is at its centre is the element itself.
ON_SCREEN = """(selector) => {
    const element = document.querySelector(selector);
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0
        && hit !== null && (hit === element || element.contains(hit));
}"""


def test_every_banner_at_once_leaves_the_form_on_one_screen(
    page_for, server_url, demo_city, demo_report
):
    call_command("load_sample_cap_warning")
    demo_report(caller_phone="081377712345", category="kebakaran", description="Asap",
                address="Jl. Pemuda")  # fmt: skip
    token = Token.objects.create(user=get_user_model().objects.get(username="telephony")).key
    for call_id, events in (("gone-1", ("ringing", "ended")), ("ring-1", ("ringing",))):
        for event in events:
            post(server_url, "/api/v1/telephony/events/", token,
                 {"call_id": call_id, "event": event, "caller_phone": "081377712345"})  # fmt: skip
    page = page_for("operator", width=1366, height=768)
    expect(page.locator('[data-call-id="ring-1"]')).to_be_visible(timeout=5000)
    expect(page.locator('[data-call-id="gone-1"]')).to_be_visible()
    expect(page.get_by_text("[CONTOH]").first).to_be_visible()
    type_report(page, phone="081377712345", category="kebakaran", kecamatan="Tugu",
                address="Jl. Walisongo", description="Asap di gudang", send=False)  # fmt: skip
    expect(page.locator("#phone-history")).to_be_visible()
    screenshot(page, "console-banners-1366")
    for selector in (
        "#call-clock",
        "#submit-report",
        '[data-call-id="ring-1"]',
        '[data-call-id="gone-1"] button',
    ):
        assert page.evaluate(ON_SCREEN, selector), f"{selector} is off the 1366×768 screen"
    page.keyboard.press("Control+Enter")
    expect(page.locator("#form-status")).to_contain_text("terkirim", timeout=5000)
    assert page.evaluate(ON_SCREEN, "#form-status"), "the confirmation is off the screen"
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")


def test_the_pin_map_without_tiles_names_every_kecamatan(page_for, demo_city):
    """No internet in the centre: the console's pin map is not a blank grey box (issue 37 §8):
    each kecamatan is named on a plain background."""
    page = page_for("operator", width=1366, height=768)
    page.locator("#pin-details summary").click()
    expect(page.locator("#map.no-tiles")).to_be_visible(timeout=10_000)
    labels = page.locator("#map .kec-label")
    expect(labels).to_have_count(16)
    inside = page.evaluate("""() => {
        const map = document.getElementById('map').getBoundingClientRect();
        return [...document.querySelectorAll('#map .kec-label')].filter((label) => {
            const box = label.getBoundingClientRect();
            return box.left >= map.left - 1 && box.right <= map.right + 40
                && box.top >= map.top - 1 && box.bottom <= map.bottom + 1;
        }).map((label) => label.textContent);
    }""")
    central = {"Semarang Tengah", "Semarang Barat", "Semarang Timur", "Gayamsari"}
    assert central <= set(inside), inside
    screenshot(page, "console-pin-map-offline-1366")
