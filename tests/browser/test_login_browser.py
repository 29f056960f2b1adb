import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser


def test_the_operator_logs_in_with_the_keyboard_and_lands_on_the_console(page_for, demo_report):
    report = demo_report(
        caller_phone="081234567890",
        category="kebakaran",
        description="Rumah terbakar",
        address="Jl. Pemuda 12",
        kecamatan="semarang_tengah",
    )
    page = page_for("operator")
    expect(page.locator("h1")).to_have_text("Panggilan")
    row = page.locator("#open-reports tr", has_text=report.number)
    expect(row).to_contain_text("Kebakaran")
    expect(row).to_contain_text("Damkar · diberitahukan")
    expect(row).to_contain_text("Semarang Tengah")


def test_an_agency_queue_works_at_phone_width(page_for, demo_report):
    jam = demo_report(
        caller_phone="081234567890",
        category="kemacetan",
        description="Macet",
        address="Simpang Lima",
    )
    fire = demo_report(
        caller_phone="081234567891",
        category="kebakaran",
        description="Api",
        address="Jl. Gajahmada",
    )
    page = page_for("dishub", width=375, height=740)
    expect(page.locator("h1")).to_have_text("Antrean Dishub")
    expect(page.locator(".assignment", has_text=jam.number)).to_be_visible()
    expect(page.locator(".assignment", has_text=fire.number)).to_have_count(0)
    # Nothing sticks out sideways on a 375-px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "agency-queue-phone")


def test_a_wrong_password_is_explained(new_page, server_url, demo_city):
    page = new_page(locale="id-ID")
    page.goto(f"{server_url}/accounts/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "salah")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Nama pengguna atau kata sandi salah")
