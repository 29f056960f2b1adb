"""Delivery you can see (SPEC §12, issue 40 §1–3) in a real browser: a fire sent while
Damkar's desk is closed is announced on the operator's console as unheard, with Damkar's
number to call; when Damkar's desk opens, the card is delivered and seen, and the console
says when and by whom. The live map shows who is online per agency."""

import re

import pytest
from playwright.sync_api import expect

from reports.models import Assignment

from .conftest import Server, screenshot, type_report

pytestmark = pytest.mark.browser


@pytest.fixture
def unheard_server(django_db_setup, tmp_path_factory):
    """A server that calls an assignment unheard after 2 s (swept every half second)."""
    server = Server(
        tmp_path_factory.mktemp("unheard-server"),
        DISPATCH_UNHEARD_SECONDS="2",
        DISPATCH_SWEEP_SECONDS="0.5",
    ).start()
    yield server
    server.stop()


@pytest.mark.parametrize("size", [(1366, 768), (375, 812)], ids=["1366", "375"])
def test_a_fire_nobody_heard_is_called_in_and_then_seen(page_for, unheard_server, size):
    width, height = size
    operator = page_for("operator", url=unheard_server.url, width=width, height=height)
    type_report(operator, phone="081277778888", category="kebakaran", kecamatan="Gayamsari",
                address="Jl. Majapahit 100", description="Api dari dapur")  # fmt: skip
    expect(operator.locator("#form-status")).to_contain_text("terkirim")

    # Nobody at Damkar has a screen open: after 2 s the console says so, with the number.
    banner = operator.locator("#unheard")
    expect(banner).to_be_visible(timeout=6000)
    expect(banner).to_contain_text("Damkar belum menerima LAP-")
    expect(banner.get_by_role("link", name=re.compile("024-0000-0104"))).to_have_attribute(
        "href", "tel:02400000104"
    )
    row = operator.locator("#open-reports tr", has_text="Majapahit")
    expect(row.locator(".chip.unheard")).to_contain_text("tidak terdengar")
    screenshot(operator, f"console-unheard-{width}")
    assignment = Assignment.objects.get(report__address="Jl. Majapahit 100")
    assert assignment.unheard_at is not None and assignment.delivered_at is None

    # Damkar's desk opens: its snapshot delivers the card, a person has it on screen.
    desk = page_for("damkar", url=unheard_server.url, width=width, height=height)
    expect(desk.locator(".assignment", has_text="Majapahit")).to_be_visible()
    expect(banner).to_be_hidden(timeout=5000)
    chip = row.locator(".chip[data-agency=damkar]")
    expect(chip.locator(".receipt")).to_contain_text(re.compile(r"dilihat [\d.:]+"), timeout=8000)
    row.click()
    receipt = operator.locator("#rv-assignments .rv-a-receipt").first
    expect(receipt).to_contain_text(re.compile(r"terkirim [\d.:]+ · dilihat [\d.:]+ oleh damkar"))
    screenshot(operator, f"console-receipts-{width}")
    assignment.refresh_from_db()
    assert assignment.delivered_at is not None and assignment.seen_by.username == "damkar"
    assert assignment.seen_at >= assignment.delivered_at


def test_the_operator_who_called_clears_the_line_and_the_board_says_it(page_for, unheard_server):
    operator = page_for("operator", url=unheard_server.url)
    board = page_for("supervisor", url=unheard_server.url)
    board.goto(f"{unheard_server.url}/board/")
    type_report(operator, phone="081277778889", category="kebakaran", kecamatan="Genuk",
                address="Jl. Kaligawe 7", description="Gudang terbakar")  # fmt: skip
    line = operator.locator("#unheard li", has_text="LAP-")
    expect(line).to_be_visible(timeout=6000)
    expect(board.locator("#board .chip.unheard[data-agency=damkar]")).to_contain_text(
        "tidak terdengar"
    )
    screenshot(board, "board-unheard-1366")
    line.get_by_role("button", name="Sudah saya telepon").click()
    expect(operator.locator("#unheard")).to_be_hidden()
    operator.reload()  # the console remembers it was called for
    expect(operator.locator("#open-reports tr", has_text="Kaligawe")).to_be_visible()
    expect(operator.locator("#unheard")).to_be_hidden()


@pytest.mark.parametrize("size", [(1366, 768), (375, 812)], ids=["1366", "375"])
def test_the_live_map_shows_who_is_online(page_for, server_url, size):
    width, height = size
    supervisor = page_for("supervisor", width=width, height=height)
    supervisor.goto(f"{server_url}/map/")
    strip = supervisor.locator("#map-presence")
    damkar = strip.locator("[data-agency=damkar]")
    expect(damkar).to_contain_text("tidak ada yang daring")
    expect(damkar.get_by_role("link", name=re.compile("024-0000-0104"))).to_be_visible()
    desk = page_for("damkar")
    expect(desk.locator("#live-banner")).to_be_hidden()
    expect(damkar).to_contain_text("1 meja", timeout=5000)
    screenshot(supervisor, f"map-presence-{width}")
    desk.close()
    expect(damkar).to_contain_text("tidak ada yang daring", timeout=5000)
