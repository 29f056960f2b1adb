"""The operator runs the incident from the console's report view (SPEC §11, issue 36): a
traffic jam goes to Dishub and Polrestabes; Polrestabes rejects it with a reason; the
operator sees the reason, adds Satpol PP, raises the priority and writes in the chat; Satpol
PP's desk (on a phone) gets the new assignment and the *informasi baru* mark."""

import re

import pytest
from playwright.sync_api import expect

from reports.models import Event

from .conftest import screenshot

pytestmark = pytest.mark.browser

REASON = "Bukan wewenang Polri: pedagang kaki lima menutup jalan, hubungi Satpol PP"


def test_the_operator_steers_a_report_after_a_rejection(page_for, demo_report):
    report = demo_report(
        category="kemacetan", priority=3, kecamatan="semarang_tengah",
        address="Jl. Pemuda depan Paragon", description="Macet total, lapak PKL di badan jalan",
    )  # fmt: skip
    operator = page_for("operator", height=768)
    police = page_for("polrestabes")
    satpol = page_for("satpolpp", width=375, height=812)
    expect(satpol.locator("#live-banner")).to_be_hidden()
    satpol.wait_for_function("document.querySelector('#queue-empty') !== null")

    # Polrestabes rejects it from its desk, saying why.
    police_card = police.locator(".assignment", has_text="Jl. Pemuda depan Paragon")
    police_card.get_by_role("button", name="Tolak").click()
    police_card.locator("input[name=reason]").fill(REASON)
    police_card.locator("input[name=reason]").press("Enter")
    expect(police_card).to_be_hidden(timeout=3000)

    # The operator opens the report from the open list with the keyboard: its view shows
    # Polrestabes's rejection in words, live.
    row = operator.locator("#open-reports tr", has_text=report.number)
    row.focus()
    operator.keyboard.press("Enter")
    view = operator.locator("#report-view")
    expect(view).to_be_visible()
    police_line = view.locator('.rv-assignment[data-agency="polrestabes"]')
    expect(police_line).to_contain_text("ditolak", timeout=3000)
    expect(police_line).to_contain_text(f"Ditolak: {REASON}")
    expect(view.locator("#rv-timeline")).to_contain_text("Polrestabes menolak")

    # Adds Satpol PP with a note.
    operator.select_option("#rv-add-agency", "satpolpp")
    operator.fill("#rv-add-note", "PKL menutup jalan")
    operator.locator("#rv-add button[type=submit]").click()
    expect(view.locator('.rv-assignment[data-agency="satpolpp"]')).to_contain_text(
        "diberitahukan", timeout=3000
    )
    satpol_card = satpol.locator(".assignment", has_text="Jl. Pemuda depan Paragon")
    expect(satpol_card).to_be_visible(timeout=3000)

    # Raises the priority: a second caller says an ambulance is stuck in the jam.
    view.locator("#rv-edit summary").click()
    operator.select_option("#rv-edit-form select[name=priority]", "1")
    view.locator("#rv-edit-form button[type=submit]").click()
    expect(view.locator("#rv-priority")).to_have_text("P1", timeout=3000)
    expect(view.locator("#rv-timeline")).to_contain_text("Laporan dikoreksi: prioritas")

    # Writes to the agencies.
    operator.fill("#rv-chat-body", "Satpol PP mohon segera, ambulans tertahan di lokasi")
    operator.keyboard.press("Enter")
    expect(view.locator("#rv-chat")).to_contain_text("ambulans tertahan", timeout=3000)

    # Satpol PP's phone: the new assignment, P1 now, marked as new information until seen.
    expect(satpol_card.locator(".badge")).to_have_text("P1", timeout=3000)
    mark = satpol_card.locator("mark.fresh")
    expect(mark).to_have_text("informasi baru")
    assert Event.objects.filter(report=report, kind="report.edited").count() == 1

    # F2 takes a new call at once; the view steps aside and comes back after.
    operator.keyboard.press("F2")
    expect(view).to_be_hidden()
    expect(operator.locator("#caller_phone")).to_be_focused()
    screenshot(satpol, "agency-fresh-375")
    operator.keyboard.press("Alt+P")  # no number yet: the call is not logged
    operator.fill("#caller_phone", "081298765432")
    operator.keyboard.press("Alt+P")
    expect(operator.locator("#form-status")).to_contain_text("Dicatat", timeout=3000)
    expect(view).to_be_visible()
    operator.wait_for_timeout(300)
    screenshot(operator, "console-report-view-1366")
    assert operator.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")

    # Seen: touching the card takes the mark away.
    satpol_card.locator(".what").click()
    expect(satpol_card.locator("mark.fresh")).to_have_count(0)

    # A closed report says so rather than vanishing from under the cursor.
    view.locator("#rv-close-as button", has_text=re.compile("selesai", re.I)).click()
    operator.locator("#close-dialog").get_by_role("button", name="Tutup laporan").click()
    expect(view.locator("#rv-closed")).to_be_visible(timeout=3000)
    expect(view.locator("#rv-closed")).to_contain_text("ditutup")
    expect(row).to_have_count(0)


def test_the_report_view_on_a_phone_width(page_for, demo_report):
    report = demo_report(category="kebakaran", address="Pasar Johar", kecamatan="semarang_utara")
    operator = page_for("operator", width=375, height=812)
    operator.locator("#open-reports tr", has_text=report.number).click()
    view = operator.locator("#report-view")
    expect(view.locator('.rv-assignment[data-agency="damkar"]')).to_be_visible(timeout=3000)
    expect(view.locator("#rv-timeline")).to_contain_text("Laporan dibuat")
    view.scroll_into_view_if_needed()
    screenshot(operator, "console-report-view-375")


def test_the_field_app_marks_what_the_operator_corrected(
    page_for, demo_report, new_page, server_url
):
    from django.contrib.auth import get_user_model

    from reports import services

    from .test_field_browser import field_phone

    phone = field_phone(new_page, server_url, "damkar-lapangan")
    phone.locator("#unit-choices button", has_text="DMK-01").click()
    expect(phone.locator("#my-unit")).to_have_text("DMK-01")
    report = demo_report(category="kebakaran", address="Pasar Johar", kecamatan="semarang_utara",
                         description="Kios terbakar")  # fmt: skip
    services.assignment_dispatch(
        assignment=report.assignments.get(agency__code="damkar"),
        actor=get_user_model().objects.get(username="damkar"),
        unit="DMK-01",
        eta_minutes=6,
    )
    phone.reload()  # written here, not by the server: the phone's snapshot brings it
    expect(phone.locator("#job-description")).to_have_text("Kios terbakar")

    operator = page_for("operator", height=768)
    operator.locator("#open-reports tr", has_text=report.number).click()
    view = operator.locator("#report-view")
    expect(view.locator("#rv-number")).to_have_text(report.number)  # loaded, as a person sees
    expect(view.locator("#rv-edit-form textarea[name=description]")).to_have_value("Kios terbakar")
    view.locator("#rv-edit summary").click()
    operator.fill(
        "#rv-edit-form textarea[name=description]", "Kios terbakar, dua orang terjebak di lantai 2"
    )
    view.locator("#rv-edit-form button[type=submit]").click()

    expect(phone.locator("#job-description")).to_contain_text("dua orang terjebak", timeout=10_000)
    expect(phone.locator("#job-description mark.fresh")).to_have_text("informasi baru")
    expect(phone.locator("#job-address mark.fresh")).to_have_count(0)  # the address did not change
    screenshot(phone, "field-fresh-375")
    phone.locator("#job-description").tap()
    expect(phone.locator("#job mark.fresh")).to_have_count(0)


def test_the_operator_moves_the_pin_from_the_report_view(page_for, demo_report):
    """A second caller places it better: the pin is corrected in the view (SPEC §11), and a
    mistyped coordinate is named, not silently dropped."""
    from reports.models import Report

    report = demo_report(category="kebakaran", address="Pasar Johar", kecamatan="semarang_utara")
    operator = page_for("operator", height=768)
    operator.locator("#open-reports tr", has_text=report.number).click()
    view = operator.locator("#report-view")
    expect(view.locator("#rv-number")).to_have_text(report.number)  # loaded, as a person sees
    expect(view.locator("#rv-edit-form input[name=address]")).to_have_value("Pasar Johar")
    view.locator("#rv-edit summary").click()
    operator.fill("#rv-edit-form input[name=latitude]", "-6,9680")
    operator.fill("#rv-edit-form input[name=longitude]", "abc")
    view.locator("#rv-edit-form button[type=submit]").click()
    expect(view.locator("#rv-status-line")).to_contain_text("titik lokasi: Harus berupa angka")
    assert Report.objects.get(pk=report.pk).latitude is None  # nothing half-saved
    operator.fill("#rv-edit-form input[name=longitude]", "110.4260")
    view.locator("#rv-edit-form button[type=submit]").click()
    expect(view.locator("#rv-status-line")).to_contain_text("dikoreksi", timeout=3000)
    moved = Report.objects.get(pk=report.pk)
    assert (float(moved.latitude), float(moved.longitude)) == (-6.968, 110.426)
