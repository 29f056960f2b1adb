"""Who is there (SPEC §12, issue 40 §1) on the operator's console, in a real browser: an
assignment waiting on an agency with no desk screen online says so with the agency's phone
number; once a desk of the agency opens its dashboard the note goes, and it comes back when
that desk closes."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(1366, 768), (375, 812)], ids=["1366", "375"])
def test_an_agency_nobody_watches_shows_its_number_until_a_desk_comes_online(
    page_for, demo_report, size
):
    demo_report(category="kebakaran", kecamatan="semarang_utara", address="Pasar Johar")
    width, height = size
    console = page_for("operator", width=width, height=height)
    console.goto(console.url)
    chip = console.locator("#open-reports .chip[data-agency=damkar]").first
    expect(chip).to_contain_text("tidak ada yang daring")
    call = chip.get_by_role("link", name=re.compile("024-0000-0104"))
    expect(call).to_have_attribute("href", "tel:02400000104")
    screenshot(console, f"console-nobody-online-{width}")
    desk = page_for("damkar")  # Damkar's desk opens its dashboard
    expect(desk.locator("#live-banner")).to_be_hidden()
    expect(chip).not_to_contain_text("tidak ada yang daring")
    desk.close()
    expect(chip).to_contain_text("tidak ada yang daring")


def test_the_board_shows_the_agency_nobody_watches(page_for, demo_report, server_url):
    demo_report(category="banjir", kecamatan="genuk", address="Jl. Kaligawe")  # → BPBD, DPU
    board = page_for("supervisor", width=1366, height=768)
    board.goto(f"{server_url}/board/")
    chip = board.locator("#board .chip[data-agency=bpbd]").first
    expect(chip).to_contain_text("tidak ada yang daring")
    expect(chip.get_by_role("link", name=re.compile("024-0000-0103"))).to_be_visible()
    desk = page_for("bpbd")
    expect(desk.locator("#live-banner")).to_be_hidden()
    expect(chip).not_to_contain_text("tidak ada yang daring")
    screenshot(board, "board-presence-1366")
