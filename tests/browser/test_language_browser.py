"""Issue 17 §1 and §7 in a real browser: a browser set to English still gets the console in
Bahasa Indonesia; English only when the user picks it, and it stays picked; the app has an
icon, so no page asks for one in vain."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ENGLISH_BROWSER = {"locale": "en-US", "timezone_id": "Asia/Jakarta"}


def failed_requests(page) -> list[str]:
    failed: list[str] = []
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    return failed


@pytest.mark.parametrize("viewport", [(1366, 768), (375, 812)], ids=["desktop", "phone"])
def test_an_english_browser_gets_indonesian_and_no_404(new_page, server_url, demo_city, viewport):
    width, height = viewport
    page = new_page(viewport={"width": width, "height": height}, **ENGLISH_BROWSER)
    failed = failed_requests(page)
    page.goto(f"{server_url}/accounts/login/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_label("Kata sandi")).to_be_visible()
    assert failed == []
    icon = page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
    assert icon == 200


def test_english_when_picked_and_it_stays_picked(new_page, server_url, demo_city):
    page = new_page(
        viewport={"width": 1366, "height": 768}, **{**ENGLISH_BROWSER, "locale": "id-ID"}
    )
    page.goto(f"{server_url}/accounts/login/")
    page.select_option("form.lang select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "demo112")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
