"""A shift's worth of daily use (issue 17 §2–§7) in a real browser: one navigation with the
current screen marked, the operator console on one 1366×768 screen, the phone header under
15 % of a 375×812 screen, an agency's history searched, a handover note left, dates written
day first. Each test saves the README's screenshot of its screen."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, "not rendered"
    return found


def test_one_navigation_marks_the_current_screen_and_leads_to_the_others(page_for):
    page = page_for("supervisor", width=1366, height=768)
    nav = page.get_by_role("navigation", name="Layar")
    expect(nav.get_by_role("link")).to_have_text(["Papan", "Peta", "Kinerja", "Status"])
    expect(nav.locator("[aria-current=page]")).to_have_text("Papan")
    nav.get_by_role("link", name="Kinerja").click()
    page.wait_for_url(re.compile(r"/performance/$"))
    expect(nav.locator("[aria-current=page]")).to_have_text("Kinerja")
    nav.get_by_role("link", name="Peta").click()
    page.wait_for_url(re.compile(r"/map/$"))
    current = page.get_by_role("navigation", name="Layar").locator("[aria-current=page]")
    expect(current).to_have_text("Peta")


def test_the_whole_console_fits_a_1366_by_768_monitor(page_for, demo_report):
    demo_report(category="kebakaran", kecamatan="semarang_utara", address="Pasar Johar")
    page = page_for("operator", width=1366, height=768)
    page.goto(page.url)  # the console, with the report in its list
    send = page.get_by_role("button", name=re.compile("Kirim laporan"))
    expect(send).to_be_in_viewport(ratio=1)
    row = page.locator("#open-reports tbody tr").first
    expect(row).to_be_in_viewport()
    assert box(row)["x"] > box(page.locator("#report-form"))["x"] + 600  # beside the form
    number = row.locator("td.number .main")
    expect(number).to_have_text(re.compile(r"\d"))
    assert box(number)["height"] < 30  # one line: a report number never wraps
    assert page.evaluate("document.documentElement.scrollHeight") <= 768  # nothing below
    # The pin map folds away; opened, it is a working map.
    page.locator("#pin-details summary").click()
    expect(page.locator("#map .leaflet-control-zoom")).to_be_visible()
    page.locator("#pin-details summary").click()
    # The focus ring sits outside the field, clear of its label.
    page.locator("#address").focus()
    label, field = box(page.locator("label[for=address]")), box(page.locator("#address"))
    assert label["y"] + label["height"] <= field["y"] - 4
    screenshot(page, "console-1366x768")


def test_the_phone_header_is_under_15_percent_of_the_screen(page_for):
    for user in ("ambulans", "ambulans-lapangan"):
        page = page_for(user, width=375, height=812)
        header = box(page.locator("header.topbar"))
        assert header["height"] <= 0.15 * 812, (user, header["height"])
        expect(page.locator("header.topbar .who")).to_be_hidden()  # the agency's name once
        nav = page.get_by_role("navigation", name="Layar")
        expect(nav.locator("[aria-current=page]")).to_be_in_viewport()
    screenshot(page, "field-header-375")


def test_agency_staff_search_their_history_and_leave_a_handover_note(page_for, demo_report):
    from reports import services
    from reports.models import Assignment

    report = demo_report(
        category="darurat_medis", kecamatan="gajahmungkur", address="Jl. Veteran 7"
    )
    assignment = Assignment.objects.get(report=report, agency__code="ambulans")
    services.assignment_reject(
        assignment=assignment,
        actor=assignment.agency.members.get(user__username="ambulans").user,
        reason="Sudah ditangani puskesmas",
    )
    page = page_for("ambulans", width=1366, height=768)
    page.get_by_role("navigation", name="Layar").get_by_role("link", name="Riwayat").click()
    today = timezone.localdate().strftime("%d/%m/%Y")
    expect(page.get_by_label("Tanggal")).to_have_value(today)  # day first
    expect(page.locator("#history tbody tr", has_text=report.number)).to_be_visible()
    page.get_by_label("Cari nomor atau alamat").fill("veteran")
    page.get_by_label("Tanggal").fill("")
    page.get_by_role("button", name="Tampilkan").click()
    row = page.locator("#history tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Sudah ditangani puskesmas")
    screenshot(page, "agency-history-1366")
    # A caller's number is not searched here (SPEC §13): the page says who may.
    page.get_by_label("Cari nomor atau alamat").fill("0812 3456 7890")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.locator("#h-phone")).to_contain_text("operator dan supervisor")
    expect(page.locator("#history tbody tr")).to_have_count(0)
    page.get_by_label("Cari nomor atau alamat").fill("")
    # A month-first date is refused in words, not silently read the other way round.
    page.get_by_label("Tanggal").fill("12/31/2026")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_role("alert")).to_contain_text("tulis tanggal lebih dulu")

    page.get_by_role("link", name="Serah terima").click()
    page.get_by_role("textbox", name="Catatan").fill("AMB-03 ban bocor, kembali jam 14.00")
    page.get_by_role("button", name="Simpan catatan").click()
    expect(page.get_by_role("status")).to_have_text("Catatan tersimpan.")
    expect(page.locator("#handover-notes")).to_contain_text("AMB-03 ban bocor")
    screenshot(page, "agency-handover-1366")


def test_the_performance_filter_takes_dates_day_first(page_for):
    page = page_for("supervisor", width=1366, height=768)
    page.goto(page.url.replace("/board/", "/performance/"))
    since = page.get_by_label("Dari")
    expect(since).to_have_value(re.compile(r"^01/\d\d/\d{4}$"))
    since.fill("03/11/2026")
    page.get_by_label("Sampai").fill("04/12/2026")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_text("3 Nov 2026 – 4 Des 2026", exact=False)).to_be_visible()
