"""The live map (issue 15, SPEC §8) in real browsers: a field officer's phone moves and the
operator's map follows; with no map tiles the markers still stand on a plain background."""

import pytest
from playwright.sync_api import expect

from agencies.models import Unit

from .conftest import screenshot
from .test_field_browser import SIMPANG_LIMA, field_phone

pytestmark = pytest.mark.browser


def test_a_moving_unit_moves_on_the_operators_map(page_for, new_page, server_url, demo_report):
    demo_report(category="kebakaran", address="Pasar Johar", kecamatan="semarang_tengah",
                latitude=-6.9680, longitude=110.4260)  # fmt: skip
    phone = field_phone(new_page, server_url, "ambulans-lapangan")
    phone.get_by_role("button", name="AMB-04 · ambulans").click()
    expect(phone.locator("#waiting")).to_be_visible()
    operator = page_for("operator")
    operator.goto(f"{server_url}/map/")
    marker = operator.locator('.unit-icon[data-unit="AMB-04"]')
    expect(marker).to_be_visible(timeout=5000)
    expect(operator.locator('.unit-icon[data-unit="DMK-01"]')).to_be_visible()
    expect(operator.locator("path.leaflet-interactive")).to_have_count(1)  # the fire
    # No internet here: the tile layer gives up and says so; the markers stay.
    expect(operator.locator("#tiles-note")).to_be_visible(timeout=10_000)
    amb04 = Unit.objects.get(call_sign="AMB-04")
    for _ in range(100):  # the phone's first fix has reached the server
        amb04.refresh_from_db()
        if amb04.position_at is not None:
            break
        phone.wait_for_timeout(100)
    before = marker.bounding_box()
    phone.wait_for_timeout(5200)  # past the phone's 5-second rhythm: the next fix goes at once
    moved = {
        "latitude": SIMPANG_LIMA["latitude"] - 0.01,
        "longitude": SIMPANG_LIMA["longitude"] + 0.01,
    }
    phone.context.set_geolocation(moved)
    operator.wait_for_function(
        """([x, y]) => {
            const icon = document.querySelector('.unit-icon[data-unit="AMB-04"]');
            const box = icon.getBoundingClientRect();
            return Math.abs(box.x - x) > 20 || Math.abs(box.y - y) > 20;
        }""",
        arg=[before["x"], before["y"]], timeout=2000 + 1000,  # 2 s, plus the 1 s glide
    )  # fmt: skip
    amb04.refresh_from_db()
    assert abs(amb04.latitude - moved["latitude"]) < 1e-6
    screenshot(operator, "live-map-1366")
    wall = page_for("supervisor")
    wall.goto(f"{server_url}/map/?wall=1")
    expect(wall.locator('.unit-icon[data-unit="AMB-04"]')).to_be_visible(timeout=5000)
    expect(wall.locator(".topbar")).to_be_hidden()
    wall.wait_for_timeout(600)  # the call signs are laid out at most four times a second
    screenshot(wall, "live-map-wall-1366")


def test_agency_staff_see_only_their_units_on_the_map(page_for, server_url):
    damkar = page_for("damkar")
    damkar.goto(f"{server_url}/map/")
    expect(damkar.locator('.unit-icon[data-unit="DMK-01"]')).to_be_visible(timeout=5000)
    expect(damkar.locator('.unit-icon[data-unit="AMB-01"]')).to_have_count(0)
    phone = damkar.context.new_page()
    phone.set_viewport_size({"width": 375, "height": 812})
    phone.goto(f"{server_url}/map/")
    expect(phone.locator('.unit-icon[data-unit="DMK-01"]')).to_be_visible(timeout=5000)
    screenshot(phone, "live-map-375")


def test_the_board_counts_units_and_the_console_shows_the_unit_sent(
    page_for, server_url, demo_report
):
    """Issue 15 §3: per agency available / en route / on scene counts on the board; the
    console's open reports show each assignment's unit and when it is due."""
    report = demo_report(category="kebakaran", address="Pasar Johar", kecamatan="semarang_tengah")
    board = page_for("supervisor")
    board.goto(f"{server_url}/board/")
    damkar_row = board.locator('#board-units tr[data-agency="damkar"]')
    expect(damkar_row.locator('[data-status="available"]')).to_have_text("5", timeout=5000)
    operator = page_for("operator")  # lands on the console
    desk = page_for("damkar")
    card = desk.locator(".assignment", has_text="Pasar Johar")
    card.get_by_role("button", name="Berangkatkan unit").click()
    expect(card.locator(".unit-list button").first).to_contain_text("DMK-01")  # based there
    card.locator(".unit-list button").first.click()
    expect(damkar_row.locator('[data-status="available"]')).to_have_text("4", timeout=3000)
    expect(damkar_row.locator('[data-status="dispatched"]')).to_have_text("1")
    chip = operator.locator("#open-reports tr", has_text=report.number).locator(
        '[data-agency="damkar"]'
    )
    expect(chip).to_contain_text("DMK-01", timeout=3000)
    expect(chip).to_contain_text("tiba ±")
    screenshot(board, "board-units-1366")


OVERLAPPING_LABELS = """() => {
    const boxes = [...document.querySelectorAll('.unit-icon[data-unit]')]
        .map((icon) => [icon.dataset.unit, icon.getBoundingClientRect()])
        .filter(([, box]) => box.width > 0);
    const pairs = [];
    boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
        const apart = p.right - 1 <= q.left || q.right - 1 <= p.left
            || p.bottom - 1 <= q.top || q.bottom - 1 <= p.top;
        if (!apart) pairs.push(`${a}/${b}`);
    }));
    return {count: boxes.length, pairs};
}"""
INSIDE_MAP = """(names) => {
    const map = document.getElementById('map').getBoundingClientRect();
    const labels = [...document.querySelectorAll('.kec-label')];
    return names.filter((name) => {
        const label = labels.find((l) => l.textContent.trim() === name);
        if (!label) return true;
        const box = label.getBoundingClientRect();
        return !(box.left >= map.left && box.right <= map.right
            && box.top >= map.top && box.bottom <= map.bottom);
    });
}"""


def test_the_city_fits_its_first_view_and_no_call_sign_hides_another(page_for, server_url):
    """Issue 37 §8, with no map tiles (no internet here): the first view holds every
    kecamatan, the units' call signs never lie on each other, and the wall keeps its legend."""
    operator = page_for("operator", width=1366, height=768)
    operator.goto(f"{server_url}/map/")
    expect(operator.locator("#tiles-note")).to_be_visible(timeout=10_000)
    expect(operator.locator('.unit-icon[data-unit="DMK-01"]')).to_be_visible()
    assert operator.evaluate(INSIDE_MAP, ["Tembalang", "Mijen", "Tugu", "Genuk"]) == []
    operator.wait_for_timeout(600)  # the labels are laid out at most four times a second
    labels = operator.evaluate(OVERLAPPING_LABELS)
    assert labels["pairs"] == [], labels
    assert labels["count"] >= 30, labels  # the demo fleet, all drawn
    screenshot(operator, "live-map-offline-1366")
    wall = page_for("supervisor", width=1366, height=768)
    wall.goto(f"{server_url}/map/?wall=1")
    legend = wall.locator("#legend")
    expect(legend).to_be_visible()
    assert legend.bounding_box()["y"] + legend.bounding_box()["height"] <= 768
