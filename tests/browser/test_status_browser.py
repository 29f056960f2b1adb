"""/status/ (SPEC §12, issue 40 §5) in a real browser, as a supervisor opens it before a meeting:
who is at each agency's desk, the delivery latency of a report that really went out to a desk,
the unheard count and the sweep, readable at 1366×768 and on a phone, and refreshing by
itself (a meta refresh: no inline script under the CSP)."""

import json
import re
import urllib.request

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import Assignment

from .conftest import screenshot

pytestmark = pytest.mark.browser


def post_report(server_url: str) -> None:
    """The operator's API (a token, no browser session): the server process publishes the
    report to the desks."""
    token = call(
        f"{server_url}/api/v1/auth/token/", {"username": "operator", "password": "demo112"}
    )
    report = {
        "caller_phone": "081234567890",
        "category": "kemacetan",  # → Dishub + Polrestabes
        "description": "Macet total",
        "address": "Jl. Pemuda",
    }
    call(f"{server_url}/api/v1/reports/", report, Authorization=f"Token {token['token']}")


def call(url: str, body: dict, **headers) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_supervisor_reads_the_centres_health_on_a_desk_and_a_phone(page_for, server_url):
    desk = page_for("dishub")  # Dishub's desk has its dashboard open
    expect(desk.locator("#live-banner")).to_be_hidden()
    post_report(server_url)
    expect(desk.get_by_text("Jl. Pemuda").first).to_be_visible()
    # One assignment nobody heard today (the unheard sweep is another part's to prove).
    Assignment.objects.filter(agency__code="polrestabes").update(unheard_at=timezone.now())

    status = page_for("supervisor", width=1366, height=768)
    status.goto(f"{server_url}/status/")
    expect(status.get_by_role("heading", name="Status operasional")).to_be_visible()
    expect(
        status.get_by_role("navigation", name="Layar").locator("[aria-current=page]")
    ).to_have_text("Status")
    dishub = status.locator("#presence tr[data-agency=dishub]")
    expect(dishub.locator("td.num").first).to_have_text("1")
    expect(dishub).not_to_contain_text("tidak ada yang daring")
    damkar = status.locator("#presence tr[data-agency=damkar]")
    expect(damkar).to_contain_text("tidak ada yang daring")
    expect(damkar.get_by_role("link", name=re.compile("024-0000-0104"))).to_be_visible()
    expect(status.locator("#unheard .figure")).to_have_text("1")
    # The embedded server sweeps every 5 s from its start: the page shows it by itself.
    expect(status.locator("#sweep")).to_have_class(re.compile(r"\bgood\b"), timeout=15_000)
    expect(status.locator("#sweep")).to_contain_text("detik lalu")
    expect(status.locator("#celery .figure")).to_have_text("tertanam")
    expect(status.locator("#latency .figure")).to_contain_text(
        re.compile(r"\d+ ms p50 · \d+ ms p99")
    )
    published = int(status.locator("#published .figure").inner_text())
    assert published >= 3  # report.created and its two assignment.created
    expect(status.locator("#layer-errors .figure")).to_have_text("0")
    assert fits(status)
    screenshot(status, "status-1366")

    phone = page_for("supervisor", width=375, height=812)
    phone.goto(f"{server_url}/status/")
    expect(phone.locator("#presence thead")).to_be_visible()  # a table, not cards
    assert fits(phone)
    screenshot(phone, "status-375")
    # The desk closes: the page shows it by itself within its refresh (10 s).
    desk.close()
    expect(phone.locator("#presence tr[data-agency=dishub]")).to_contain_text(
        "tidak ada yang daring", timeout=15_000
    )


def fits(page) -> bool:
    """Nothing wider than the screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
