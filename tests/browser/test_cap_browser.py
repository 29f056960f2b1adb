"""Official warnings (CAP, SPEC §10) in a real browser: a BMKG warning in force shows on the
console and the board above everything else, with its severity and until when; at its expiry
the screens take it down by themselves (server time), with no reload."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from interop import services
from interop.cap import parse_alert
from interop.models import CapFeed

from ..test_cap import fixture, in_force
from .conftest import screenshot

pytestmark = pytest.mark.browser


def store(xml: str):
    feed, _ = CapFeed.objects.get_or_create(name="BMKG", url="https://example.invalid/rss.xml")
    stored, _ = services.store_alert(feed, feed.url, parse_alert(xml))
    return stored


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (375, 812)])
def test_a_warning_shows_on_the_console_and_the_board(page_for, server_url, width, height):
    store(in_force(fixture("bmkg_semarang.xml")))
    store(in_force(fixture("bmkg_jakarta.xml")))  # not for Semarang: never shown
    for user, path, name in (
        ("operator", "/console/", "console"),
        ("supervisor", "/board/", "board"),
    ):
        page = page_for(user, width=width, height=height)
        page.goto(f"{server_url}{path}")
        banner = page.locator("#cap-alerts")
        expect(banner).to_be_visible()
        cards = banner.locator(".cap-alert")
        expect(cards).to_have_count(1)
        expect(cards.first).to_have_class("cap-alert severity-severe")
        expect(cards.first).to_contain_text("Hujan Lebat disertai Kilat/Petir dan Angin Kencang")
        expect(cards.first).to_contain_text("Berat")  # Severe, in Indonesian
        expect(cards.first).to_contain_text("sampai")
        expect(cards.first).to_contain_text("WIB")
        cards.first.locator("summary").click()
        expect(cards.first).to_contain_text("Hindari berteduh di bawah pohon")
        screenshot(page, f"{name}-cap-{width}")


def test_a_warning_leaves_the_screen_at_its_expiry(page_for, server_url):
    soon = (timezone.now() + timedelta(seconds=6)).isoformat()
    xml = in_force(fixture("bmkg_semarang.xml"))
    store(xml.replace(xml[xml.index("<expires>") : xml.index("</expires>")], f"<expires>{soon}"))
    page = page_for("operator")
    page.goto(f"{server_url}/console/")
    expect(page.locator("#cap-alerts .cap-alert")).to_have_count(1)
    # The banner re-checks every 10 s: gone within 6 + 10 s, bounded by this wait.
    expect(page.locator("#cap-alerts")).to_be_hidden(timeout=25_000)
