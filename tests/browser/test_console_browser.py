"""The operator console in a real browser, keyboard only."""

import re
import sqlite3
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from reports import services
from reports.models import Call, Report

from .conftest import screenshot, type_report

pytestmark = pytest.mark.browser


class Keyboard:
    """Types like an operator and counts every keystroke."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.count += len(text)


def test_operator_logs_a_report_and_a_prank_with_the_keyboard_alone(page_for, capsys):
    page = page_for("operator")
    expect(page).to_have_url(re.compile(r"/console/$"))
    keys = Keyboard(page)

    started = time.monotonic()
    keys.press("F2")
    keys.type("0812-3456-7890")
    keys.press("Tab")
    keys.type("Budi Santoso")
    keys.press("Tab")
    keys.type("macet")
    keys.press("Enter")  # chooses "Kemacetan lalu lintas"; its agencies are pre-selected
    keys.type("Semarang Tengah")
    keys.press("Tab")
    keys.type("Jl. Pandanaran depan Paragon")
    keys.press("Tab")
    keys.type("Macet total, lampu lalu lintas mati")
    keys.press("Control+Enter")
    expect(page.locator("#form-status")).to_contain_text("terkirim ke Dishub, Polrestabes")
    report_seconds, report_keys = time.monotonic() - started, keys.count

    keys.count = 0
    started = time.monotonic()
    keys.press("F2")
    keys.type("085612345678")
    keys.press("Alt+P")
    expect(page.locator("#form-status")).to_contain_text("Dicatat: panggilan iseng")
    prank_seconds, prank_keys = time.monotonic() - started, keys.count

    report = Report.objects.get()
    assert report.caller_phone == "+6281234567890"
    assert (report.category.code, report.kecamatan.code) == ("kemacetan", "semarang_tengah")
    assert report.address == "Jl. Pandanaran depan Paragon"
    assert {a.agency.code for a in report.assignments.all()} == {"dishub", "polrestabes"}
    assert Call.objects.filter(outcome="prank", caller_phone="+6285612345678").count() == 1

    row = page.locator("#open-reports tr", has_text=report.number)
    expect(row).to_contain_text("Dishub · diberitahukan")
    expect(row).to_contain_text("Polrestabes · diberitahukan")
    screenshot(page, "operator-console")
    with capsys.disabled():
        print(
            f"\n[console] traffic-jam report: {report_keys} keystrokes, {report_seconds:.1f} s; "
            f"prank call: {prank_keys} keystrokes, {prank_seconds:.1f} s"
        )


def test_the_phone_history_warns_about_a_repeat_prank_number(page_for):
    operator = get_user_model().objects.get(username="operator")
    for _ in range(3):
        services.call_log(operator=operator, caller_phone="081299990000", outcome="prank")
    page = page_for("operator")
    page.keyboard.press("F2")
    page.keyboard.type("0812 9999 0000")
    history = page.locator("#phone-history")
    expect(history).to_contain_text("3 panggilan sebelumnya")
    expect(history).to_contain_text("Nomor iseng berulang")


def test_a_second_call_about_the_same_incident_is_attached(page_for, demo_report):
    fire = demo_report(
        caller_phone="081211112222",
        category="kebakaran",
        description="Gudang terbakar",
        address="Jl. Kaligawe",
        kecamatan="genuk",
    )
    page = page_for("operator")
    page.keyboard.press("F2")
    page.keyboard.type("081233334444")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("kebakaran")
    page.keyboard.press("Enter")
    page.keyboard.type("Genuk")
    expect(page.locator("#duplicates")).to_contain_text(fire.number)
    page.keyboard.press("Alt+1")
    expect(page.locator("#form-status")).to_contain_text("digabung ke laporan yang sudah ada")
    assert Call.objects.get(caller_phone="+6281233334444").report == fire
    assert Report.objects.count() == 1
    assert fire.assignments.count() == 1  # not dispatched twice


def test_nothing_is_lost_when_the_server_cannot_be_reached(page_for):
    page = page_for("operator")
    page.keyboard.press("F2")
    page.keyboard.type("081234567890")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("pohon")
    page.keyboard.press("Enter")
    page.keyboard.type("Tembalang")
    page.keyboard.press("Tab")
    page.keyboard.type("Jl. Ngesrep Timur")
    page.keyboard.press("Tab")
    page.keyboard.type("Pohon tumbang menutup jalan")

    # The network fails (the browser is offline: Chromium's own network emulation, which a
    # request cannot slip past as one did page.route() once under CI's load): the draft stays
    # in the form and in localStorage.
    page.context.set_offline(True)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#form-status")).to_contain_text("Server tidak dapat dihubungi")
    expect(page.locator("#address")).to_have_value("Jl. Ngesrep Timur")
    assert not Report.objects.exists()

    # The operator's browser is closed by accident and reopened: the draft comes back.
    page.context.set_offline(False)
    page.reload()
    expect(page.locator("#draft-note")).to_be_visible()
    expect(page.locator("#description")).to_have_value("Pohon tumbang menutup jalan")
    expect(page.locator("#category-input")).to_have_value("Pohon tumbang")

    page.keyboard.press("Control+Enter")
    expect(page.locator("#form-status")).to_contain_text("terkirim ke BPBD, DPU")
    report = Report.objects.get()
    assert report.description == "Pohon tumbang menutup jalan"
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dispatch112'))") == []


def test_a_database_that_does_not_answer_keeps_the_draft_and_says_so(page_for):
    """A real fault, not a mocked response: another process holds the server's database
    (SQLite) write lock, so the server's insert waits DB_TIMEOUT (5 s) and gives up."""
    page = page_for("operator")
    type_report(
        page,
        phone="081234567890",
        category="banjir",
        kecamatan="Genuk",
        address="Jl. Kaligawe",
        description="Air setinggi lutut",
        send=False,
    )
    blocker = sqlite3.connect(settings.DATABASES["default"]["NAME"], isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        page.keyboard.press("Control+Enter")
        expect(page.locator("#form-status")).to_contain_text(
            "Basis data tidak menjawab", timeout=15_000
        )
        waited = time.monotonic() - started
        expect(page.locator("#form-status")).to_contain_text("Draf tetap tersimpan")
        expect(page.locator("#description")).to_have_value("Air setinggi lutut")
        assert page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('dispatch112')).length"
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert 4 < waited < 10, waited
    assert not Report.objects.exists()

    page.keyboard.press("Control+Enter")  # the database answers again
    expect(page.locator("#form-status")).to_contain_text("terkirim ke")
    assert Report.objects.get().description == "Air setinggi lutut"


def test_a_validation_error_keeps_every_field_and_says_why(page_for):
    page = page_for("operator")
    page.keyboard.press("F2")
    page.keyboard.type("12345")
    page.keyboard.press("Tab")
    page.keyboard.type("Siti")
    page.keyboard.press("Tab")
    page.keyboard.type("banjir")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("Jl. Kaligawe")
    page.keyboard.press("Tab")
    page.keyboard.type("Air setinggi lutut")
    page.keyboard.press("Control+Enter")
    expect(page.locator('[data-error-for="caller_phone"]')).to_contain_text("Awali nomor dengan 0")
    expect(page.locator("#caller_phone")).to_be_focused()
    expect(page.locator("#description")).to_have_value("Air setinggi lutut")
    assert not Report.objects.exists()


def test_the_operator_closes_a_prank_report_from_the_open_list(page_for, demo_report):
    report = demo_report(
        caller_phone="081211112222",
        category="kriminal",
        description="Katanya ada perampokan",
        address="Jl. Imam Bonjol",
    )
    page = page_for("operator")
    row = page.locator("#open-reports tr", has_text=report.number)
    row.get_by_role("button", name="iseng").click()
    # The product's own dialog (issue 37 §10), not the browser's: Enter closes.
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(report.number)
    expect(page.locator("#close-public")).to_be_hidden()  # a 112 call: no note for the public
    page.keyboard.press("Enter")
    expect(page.locator("#form-status")).to_contain_text(f"{report.number} ditutup")
    expect(row).to_have_count(0)
    report.refresh_from_db()
    assert (report.status, report.close_reason) == ("closed", "prank")
    assert set(report.assignments.values_list("status", flat=True)) == {"cancelled"}


def test_a_duplicate_is_closed_naming_its_original_in_the_consoles_dialog(page_for, demo_report):
    """No window.prompt() (issue 37 §10): the close dialog asks for the original's number."""
    original = demo_report(category="kebakaran", description="Gudang terbakar", address="Jl. A")
    second = demo_report(category="kebakaran", description="Asap dari gudang", address="Jl. A")
    page = page_for("operator")
    row = page.locator("#open-reports tr", has_text=second.number)
    row.get_by_role("button", name="duplikat").click()
    page.get_by_label("Nomor laporan asli").fill(original.number)
    page.keyboard.press("Enter")
    expect(page.locator("#form-status")).to_contain_text(f"{second.number} ditutup")
    second.refresh_from_db()
    assert (second.close_reason, second.duplicate_of_id) == ("duplicate", original.pk)
