"""Interoperability on the console (SPEC §10) in a real browser: a city app's Open311 request
shows in the open list with where it came from, and the operator hands a report to another
112 centre — a second running instance with its own database — and sees it closed here with
that centre's number, or, when the centre cannot take it, still open with why."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from interop.models import PeerCentre
from interop.seed import DEMO_OPEN311_KEY, DEMO_PEERS
from reports.models import Report

from ..test_eido import Instance
from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def kendal(tmp_path_factory, migrated_sqlite):
    """Kendal's 112: its own Daphne and SQLite database, with Semarang as its peer."""
    peer = {**DEMO_PEERS["urn:dispatch112:kendal"], "url": "http://127.0.0.1:1"}
    centre = Instance("kendal", tmp_path_factory.mktemp("kendal"), prefix="KDL",
                      centre_id="urn:dispatch112:kendal", key="k" * 40, peers=[peer])  # fmt: skip
    _, process = centre, centre.prepare(migrated_sqlite)
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 0, output.decode(errors="replace")
    server = centre.serve()
    from ..servers import wait_healthy

    try:
        wait_healthy(server, deadline=30)
        yield centre
    finally:
        server.stop()


def test_an_open311_request_shows_where_it_came_from(page_for, demo_city):
    response = Client().post(
        "/open311/v2/requests.json",
        {"api_key": DEMO_OPEN311_KEY, "service_code": "pju_padam", "lat": "-6.9932",
         "long": "110.4203", "address_string": "Jl. Pandanaran 12",
         "description": "Lampu jalan mati sepanjang 200 m"},
    )  # fmt: skip
    assert response.status_code == 201
    number = response.json()[0]["service_request_id"]
    page = page_for("operator")
    row = page.locator("#open-reports tr", has_text=number)
    expect(row).to_contain_text("dari LAPOR! Semarang (aplikasi kota)")
    expect(row).to_contain_text("Lampu penerangan jalan padam")
    expect(row).to_contain_text("DPU")
    screenshot(page, "console-open311-1366")


@pytest.mark.timeout(180)
def test_the_operator_hands_a_report_over_to_another_centre(page_for, demo_report, kendal):
    PeerCentre.objects.filter(code="kendal").update(url=kendal.url)
    report = demo_report(
        caller_phone="081234500011", category="kecelakaan", priority=1,
        description="Tabrakan di perbatasan, korban dua", address="Jl. Raya Kaliwungu km 2",
    )  # fmt: skip
    page = page_for("operator")
    row = page.locator("#open-reports tr", has_text=report.number)
    row.get_by_role("button", name="Serahkan").click()
    dialog = page.locator("#handover-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#handover-number")).to_have_text(report.number)
    expect(dialog.locator("#handover-centre")).to_contain_text("112 Kabupaten Kendal")
    screenshot(page, "console-handover-1366")
    dialog.get_by_role("button", name="Kirim").click()
    status = page.locator("#form-status")
    expect(status).to_contain_text(
        f"{report.number} diserahkan ke 112 Kabupaten Kendal sebagai KDL-"
    )
    expect(row).to_have_count(0)  # closed here: off the open list
    report.refresh_from_db()
    assert (report.status, report.close_reason) == ("closed", "handed_over")
    peer_number = status.inner_text().rsplit("sebagai ", 1)[1].rstrip(".")
    assert peer_number in report.close_note
    _code, listing = kendal.call("GET", "/api/v1/reports/")
    there = next(r for r in listing["results"] if r["number"] == peer_number)
    assert there["status"] == "open" and there["source"] == "eido"
    assert there["origin"] == f"112 Kota Semarang: {report.number}"


def test_a_centre_that_cannot_be_reached_leaves_the_report_open(page_for, demo_report, new_page,
                                                                 server_url):  # fmt: skip
    PeerCentre.objects.filter(code="kendal").update(url="http://127.0.0.1:1")
    report = demo_report(category="kebakaran", description="Gudang terbakar", address="Jl. A")
    page = page_for("operator")
    row = page.locator("#open-reports tr", has_text=report.number)
    row.get_by_role("button", name="Serahkan").click()
    dialog = page.locator("#handover-dialog")
    dialog.get_by_role("button", name="Kirim").click()
    # The dialog stays open and says why, where the operator is looking: try again or cancel.
    status = dialog.locator("#handover-status")
    expect(status).to_contain_text("112 Kabupaten Kendal tidak dapat dihubungi")
    expect(status).to_contain_text("Laporan tetap terbuka di sini")
    expect(status).to_have_class("error")
    expect(dialog).to_be_visible()
    expect(row).to_have_count(1)
    report.refresh_from_db()
    assert (
        report.status == "open" and not Report.objects.filter(close_reason="handed_over").exists()
    )
    screenshot(page, "console-handover-failed-1366")
    dialog.get_by_role("button", name="Batal").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(1)
    phone = page_for("operator", width=375, height=812)
    phone.locator("#open-reports tr", has_text=report.number).get_by_role(
        "button", name="Serahkan"
    ).click()
    expect(phone.locator("#handover-dialog")).to_be_visible()
    screenshot(phone, "console-handover-375")
