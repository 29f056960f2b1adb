"""Live dashboards in real browsers, each in its own context (its own session)."""

import re
import time

import pytest
from playwright.sync_api import expect

from reports.models import PersonalDataAccess, Report

from .conftest import screenshot, type_report

pytestmark = pytest.mark.browser


def wait_until_live(page) -> None:
    """The snapshot has arrived: the queue shows its state and no banner is up."""
    expect(page.locator("#live-banner")).to_be_hidden()
    page.wait_for_function("document.querySelector('#queue-empty') !== null")


def test_a_traffic_jam_reaches_exactly_its_agencies_live(page_for, capsys):
    operator = page_for("operator")
    dishub = page_for("dishub", width=375, height=760)  # a field officer's phone
    police = page_for("polrestabes")
    dpu = page_for("dpu")
    for page in (dishub, police, dpu):
        wait_until_live(page)
    expect(dpu.locator("#queue-empty")).to_be_visible()

    type_report(
        operator,
        phone="081234567890",
        category="macet",
        kecamatan="Semarang Tengah",
        address="Simpang Lima",
        description="Macet total, lampu lalu lintas mati",
        send=False,
    )
    sent = time.monotonic()
    operator.keyboard.press("Control+Enter")

    # Both agencies see it within 2 s; DPU never does.
    dishub_card = dishub.locator(".assignment", has_text="Simpang Lima")
    police_card = police.locator(".assignment", has_text="Simpang Lima")
    expect(dishub_card).to_be_visible(timeout=2000)
    dishub_seconds = time.monotonic() - sent
    expect(police_card).to_be_visible(timeout=2000)
    police_seconds = time.monotonic() - sent
    number = Report.objects.get().number
    expect(dishub_card).to_contain_text(number)
    expect(dishub_card).to_have_class(__import__("re").compile(r"\bnotified\b"))
    expect(dishub_card.locator(".clock.received b")).not_to_have_text("–")

    # Dishub acknowledges with one tap; the operator's chip changes live.
    dishub_card.get_by_role("button", name="Konfirmasi terima").click()
    row = operator.locator("#open-reports tr", has_text=number)
    expect(row.locator('[data-agency="dishub"]')).to_have_text(
        "Dishub · dikonfirmasi", timeout=2000
    )
    expect(police_card).to_contain_text("Dishub · dikonfirmasi", timeout=2000)

    # Polrestabes writes in the report's chat; it appears on Dishub's phone.
    dishub_card.get_by_role("button", name="Detail & obrolan").click()
    police_card.get_by_role("button", name="Detail & obrolan").click()
    police.fill("#message-body", "Unit Lantas meluncur ke Simpang Lima")
    police.keyboard.press("Enter")
    expect(dishub.locator("#messages")).to_contain_text("Unit Lantas meluncur", timeout=2000)
    expect(dishub.locator("#messages")).to_contain_text("Polrestabes")

    # The caller's number is masked on the agency's screen until asked for; the read is
    # recorded (UU PDP).
    caller = dishub.locator("#detail-facts dd.caller")
    expect(caller).to_contain_text("*")
    assert not PersonalDataAccess.objects.exists()
    caller.get_by_role("button", name="Tampilkan nomor").click()
    expect(dishub.locator("#detail-facts a.phone")).to_have_attribute(
        "href", re.compile(r"^tel:\+62")
    )
    read = PersonalDataAccess.objects.get()
    assert (read.user.username, read.report.number) == ("dishub", number)

    time.sleep(0.5)  # anything misrouted to DPU would have arrived by now
    expect(dpu.locator(".assignment")).to_have_count(0)
    screenshot(dishub, "agency-dashboard-phone")
    with capsys.disabled():
        print(
            f"\n[live] POST → card visible: Dishub {dishub_seconds * 1000:.0f} ms, "
            f"Polrestabes {police_seconds * 1000:.0f} ms (browser, embedded mode)"
        )


def test_an_agency_works_an_assignment_to_resolution(page_for):
    operator = page_for("operator")
    crew = page_for("ambulans", width=375, height=760)
    wait_until_live(crew)
    type_report(
        operator,
        phone="081298765432",
        name="Ibu Sri",
        category="medis",
        kecamatan="Tembalang",
        address="Jl. Ngesrep Timur V no. 12",
        description="Lansia sesak napas",
    )

    card = crew.locator(".assignment", has_text="Ngesrep")
    expect(card).to_be_visible(timeout=2000)
    # The demo Ambulans Hebat has a fleet: the closest available ambulance is first, here the
    # one based in Tembalang (no GPS yet: measured from its home), sent with one tap.
    card.get_by_role("button", name="Berangkatkan unit").click()
    first = card.locator(".unit-list button").first
    expect(first).to_contain_text("AMB-05")
    expect(first).to_contain_text("dari kecamatan pangkalan")
    first.click()
    expect(card.locator(".clock.eta")).to_contain_text("AMB-05")
    card.get_by_role("button", name="Tiba di lokasi").click()
    card.get_by_role("button", name="Selesai").click()
    card.get_by_label("Tindakan (opsional)").fill("Dibawa ke RS Kariadi")
    card.get_by_role("button", name="Selesai").last.click()
    expect(card).to_have_count(0)

    assignment = Report.objects.get().assignments.get()
    assert (assignment.status, assignment.unit, assignment.eta_minutes) == ("resolved", "AMB-05", 1)
    assert assignment.arrived_at is not None
    assert assignment.resolution_note == "Dibawa ke RS Kariadi"


def test_the_board_shows_every_open_report_live(page_for):
    board = page_for("supervisor")
    operator = page_for("operator")
    expect(board.locator("#live-banner")).to_be_hidden()
    type_report(
        operator,
        phone="081233330000",
        category="kebakaran",
        kecamatan="Genuk",
        address="Gudang Kaligawe",
        description="Asap tebal",
    )
    row = board.locator("#board tr", has_text="Gudang Kaligawe")
    expect(row).to_contain_text("Damkar · diberitahukan", timeout=2000)
    expect(row.locator(".clock")).to_have_attribute("data-level", "green")
    screenshot(board, "board")


def test_a_dashboard_that_loses_the_server_shows_it_reconnects_and_misses_nothing(
    page_for, own_server, demo_report
):
    dashboard = page_for("damkar", url=own_server.url)
    wait_until_live(dashboard)
    expect(dashboard.locator("#queue-empty")).to_be_visible()

    own_server.stop()
    expect(dashboard.locator("#live-banner")).to_be_visible(timeout=5000)
    # While the dashboard is cut off, a fire is reported (through another server).
    fire = demo_report(
        caller_phone="081200001111",
        category="kebakaran",
        description="Kios terbakar",
        address="Pasar Johar",
    )
    own_server.start()
    expect(dashboard.locator(".assignment", has_text=fire.number)).to_be_visible(timeout=20000)
    expect(dashboard.locator("#live-banner")).to_be_hidden()


def test_an_unanswered_assignment_is_escalated_loudly_everywhere(page_for, hasty_server):
    operator = page_for("operator", url=hasty_server.url)
    crew = page_for("damkar", url=hasty_server.url, width=375, height=760)
    board = page_for("supervisor", url=hasty_server.url)
    wait_until_live(crew)
    older = page_for("polrestabes", url=hasty_server.url)  # a P1 that is acknowledged in time
    wait_until_live(older)

    type_report(
        operator,
        phone="081277778888",
        category="kebakaran",
        kecamatan="Gayamsari",
        address="Jl. Majapahit 100",
        description="Api dari dapur",
    )

    card = crew.locator(".assignment", has_text="Majapahit")
    expect(card).to_be_visible(timeout=2000)
    # Nobody at Damkar acknowledges: after the P1 timeout it turns red, everywhere.
    expect(card).to_have_class(__import__("re").compile(r"\bescalated\b"), timeout=6000)
    expect(card.locator(".alarm")).to_contain_text("Terlambat dikonfirmasi")  # in words
    expect(crew.locator(".assignment").first).to_contain_text("Majapahit")
    expect(board.locator("#board tr.alarm-row", has_text="Majapahit")).to_be_visible(timeout=3000)
    expect(operator.locator("#open-reports tr.alarm-row", has_text="Majapahit")).to_be_visible(
        timeout=3000
    )
    # Every chip says it in words too, not only in red (issue 17 §4).
    for row in (board.locator("#board tr", has_text="Majapahit"),
                operator.locator("#open-reports tr", has_text="Majapahit")):  # fmt: skip
        expect(row.locator(".chip.escalated .alarm-word")).to_have_text("Terlambat dikonfirmasi")
    # Acknowledging clears the alarm.
    card.get_by_role("button", name="Konfirmasi terima").click()
    expect(card).not_to_have_class(__import__("re").compile(r"\bescalated\b"), timeout=3000)
    assignment = Report.objects.get().assignments.get()
    assert assignment.escalated_at is not None
    assert assignment.status == "acknowledged"


def test_the_agency_desk_on_a_phone_shows_its_queue_first(page_for, demo_report):
    """Issue 37 §6: on a 375×812 phone the first card starts near the top; the fleet folds
    away below the queue (open from the start on a wide screen)."""
    for address in ("Jl. Pemuda 1", "Jl. Pandanaran 2", "Jl. Gajahmada 3"):
        demo_report(category="darurat_medis", kecamatan="semarang_tengah", address=address)
    phone = page_for("ambulans", width=375, height=812)
    wait_until_live(phone)
    cards = phone.locator("#queue .assignment")
    expect(cards).to_have_count(3)
    first = cards.first.bounding_box()
    assert first["y"] <= 200, first
    more = phone.locator("#desk-more")
    expect(more).not_to_have_attribute("open", "")
    expect(phone.locator("#fleet-summary")).to_have_text("6 dari 6 siaga")
    assert more.bounding_box()["y"] > first["y"]  # below the queue
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "agency-queue-phone-375")
    more.locator("> summary").click()
    expect(phone.locator('#fleet-units [data-unit="AMB-01"]')).to_be_visible()

    desk = page_for("ambulans", width=1366, height=768)
    wait_until_live(desk)
    expect(desk.locator("#queue .assignment")).to_have_count(3)
    assert desk.locator("#queue .assignment").first.bounding_box()["y"] <= 200
    expect(desk.locator('#fleet-units [data-unit="AMB-01"]')).to_be_visible()
    screenshot(desk, "agency-queue-1366")
