"""The field unit's whole loop in real browsers (issue 14 §8, SPEC §7): the operator logs a
traffic accident → Ambulans Hebat's desk sees its nearest ambulance first and dispatches it
with one tap → the ambulance crew's phone (375 px, GPS granted) gets it, goes offline, taps
*Tiba di lokasi*, comes back → the arrival lands with the tapped time, and the operator's
screen shows the ambulance on scene."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import Unit
from reports.models import Assignment, Event

from .conftest import screenshot, type_report

pytestmark = pytest.mark.browser

SIMPANG_LIMA = {"latitude": -6.9905, "longitude": 110.4228}


def field_phone(new_page, server_url, username):
    """A field officer's phone: 375×812, Indonesian, GPS at Simpang Lima and granted."""
    page = new_page(
        viewport={"width": 375, "height": 812}, locale="id-ID", timezone_id="Asia/Jakarta",
        geolocation=SIMPANG_LIMA, permissions=["geolocation"], is_mobile=True, has_touch=True,
    )  # fmt: skip
    page.goto(f"{server_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo112")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server_url}/field/")
    return page


def test_the_nearest_ambulance_is_sent_and_its_offline_arrival_lands(
    page_for, new_page, server_url
):
    # AMB-01 is based in Semarang Tengah, next to Simpang Lima, but was last seen in Mijen.
    far = Unit.objects.get(call_sign="AMB-01")
    far.latitude, far.longitude, far.position_at = -7.0550, 110.3100, timezone.now()
    far.save()
    phone = field_phone(new_page, server_url, "ambulans-lapangan")
    expect(phone.locator("#sign-on")).to_be_visible()
    screenshot(phone, "field-sign-on-375")
    phone.get_by_role("button", name="AMB-04 · ambulans").click()
    expect(phone.locator("#my-unit")).to_have_text("AMB-04")
    expect(phone.locator("#waiting")).to_be_visible()
    # Its GPS reaches the server (over the app's websocket): AMB-04 is at Simpang Lima.
    amb04 = Unit.objects.get(call_sign="AMB-04")
    for _ in range(100):
        amb04.refresh_from_db()
        if amb04.position_at is not None:
            break
        phone.wait_for_timeout(100)
    assert amb04.position_at is not None, "the phone's position never arrived"
    assert abs(amb04.latitude - SIMPANG_LIMA["latitude"]) < 1e-6

    operator = page_for("operator")
    desk = page_for("ambulans")
    expect(desk.locator("#live-banner")).to_be_hidden()
    type_report(
        operator, phone="081234567891", category="kecelakaan", kecamatan="Semarang Tengah",
        address="Bundaran Simpang Lima", description="Motor tertabrak mobil, satu korban luka",
        send=False,
    )  # fmt: skip
    operator.locator("#pin-details summary").click()  # the map folds away to fit the screen
    operator.locator("#map").click()  # the pin: the map's centre, at Simpang Lima
    operator.keyboard.press("Control+Enter")
    card = desk.locator(".assignment", has_text="Bundaran Simpang Lima")
    expect(card).to_be_visible(timeout=3000)

    # The desk's dispatch opens the ambulances, the closest available first.
    card.get_by_role("button", name="Berangkatkan unit").click()
    choices = card.locator(".unit-list button")
    expect(choices.first).to_contain_text("AMB-04")
    expect(choices.first).to_contain_text("siaga")
    expect(card.locator(".unit-list")).to_contain_text("AMB-01")
    screenshot(desk, "agency-dispatch-nearest-1366")
    choices.first.click()
    expect(card).to_contain_text("AMB-04", timeout=3000)
    # The desk's fleet strip follows the unit live: sent, not yet moving (issue 37 §7)…
    expect(desk.locator('#fleet-units [data-unit="AMB-04"]')).to_contain_text("belum berangkat")

    # The crew's phone gets it at once: the report, the way there, the one-thumb steps.
    expect(phone.locator("#job")).to_be_visible(timeout=3000)
    assignment = Assignment.objects.get(agency__code="ambulans")
    expect(phone.locator("#job-number")).to_have_text(assignment.report.number)
    expect(phone.locator("#job-caller")).to_contain_text("*")  # masked until revealed
    assert phone.locator("#job-navigate").get_attribute("href").startswith("geo:-6.99")
    expect(phone.locator("#act-arrive")).to_be_visible()
    screenshot(phone, "field-assignment-375")
    phone.get_by_role("button", name="Berangkat").click()
    expect(phone.locator("#act-depart")).to_be_hidden()
    # …and on its way once the crew taps Berangkat.
    expect(desk.locator('#fleet-units [data-unit="AMB-04"]')).to_contain_text("menuju lokasi")

    # No signal: the arrival is tapped, kept on the phone, and sent when the network returns.
    phone.context.set_offline(True)
    tapped = timezone.now()
    phone.get_by_role("button", name="Tiba di lokasi").click()
    expect(phone.locator("#field-offline")).to_contain_text("Tidak ada sinyal")
    expect(phone.locator("#act-resolve")).to_be_visible()  # shown at once
    phone.wait_for_timeout(3000)
    # Still shown as on scene: a live event about the departure, arriving late, must not
    # undo a tap the server has not had yet.
    expect(phone.locator("#act-resolve")).to_be_visible()
    expect(phone.locator("#act-arrive")).to_be_hidden()
    screenshot(phone, "field-offline-arrival-375")
    assignment.refresh_from_db()
    assert assignment.status == "dispatched"  # nothing reached the server
    online_again = timezone.now()
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#field-offline")).to_be_hidden(timeout=5000)

    assignment.refresh_from_db()
    assert assignment.status == "on_scene"
    assert assignment.unit == "AMB-04" and assignment.departed_at is not None
    # The response time ends at the tap, not when the network came back.
    assert tapped - timedelta(seconds=2) <= assignment.arrived_at <= tapped + timedelta(seconds=2)
    assert assignment.arrived_at < online_again
    assert assignment.arrival_distance_m is not None and assignment.arrival_distance_m < 500
    event = Event.objects.get(assignment=assignment, kind="assignment.arrived")
    assert event.data["occurred_at"] and event.data["received_at"]
    assert Unit.objects.get(call_sign="AMB-04").status == "on_scene"

    # The operator's screen shows the ambulance on scene.
    row = operator.locator("#open-reports tr", has_text=assignment.report.number)
    expect(row.locator('[data-agency="ambulans"]')).to_contain_text("di lokasi", timeout=3000)
    screenshot(operator, "console-field-arrival-1366")


def test_the_field_app_opens_with_no_network_after_one_visit(new_page, server_url, demo_city):
    """Installable and offline-first (SPEC §7): the service worker has the app shell, and the
    page keeps the last known state; a tap made now waits in the queue."""
    phone = field_phone(new_page, server_url, "ambulans-lapangan")
    phone.get_by_role("button", name="AMB-02 · ambulans").click()
    expect(phone.locator("#waiting")).to_be_visible()
    phone.wait_for_function("navigator.serviceWorker.ready.then(r => !!r.active)", timeout=10_000)
    phone.reload()  # the worker now controls the page and has cached the shell
    expect(phone.locator("#my-unit")).to_have_text("AMB-02")
    manifest = phone.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["start_url"] == "/field/" and manifest["display"] == "standalone"

    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("#my-unit")).to_have_text("AMB-02")
    expect(phone.locator("#field-offline")).to_be_visible()
    phone.get_by_role("button", name="Tidak beroperasi").click()
    expect(phone.locator("#field-offline")).to_contain_text("1 langkah")
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#field-offline")).to_be_hidden(timeout=5000)
    assert Unit.objects.get(call_sign="AMB-02").status == "out_of_service"


def test_the_desk_manages_its_own_fleet(page_for):
    """Issue 14 §1: an agency's staff add, take out of service and retire their units."""
    desk = page_for("ambulans")
    expect(desk.locator('#fleet-units [data-unit="AMB-01"]')).to_contain_text("siaga")
    desk.get_by_text("Kelola armada").click()
    table = desk.locator("#fleet-table")
    expect(table.locator("tr[data-unit]")).to_have_count(6)
    form = desk.locator("#unit-add")
    form.get_by_label("Kode panggil").fill("amb-07")
    form.get_by_label("Jenis").select_option("ambulance")
    form.get_by_label("Kecamatan pangkalan").select_option("tembalang")
    form.get_by_role("button", name="Tambah unit").click()
    expect(table.locator('tr[data-unit="AMB-07"]')).to_be_visible()
    added = Unit.objects.get(call_sign="AMB-07")
    assert (added.agency.code, added.home_kecamatan.code, added.active) == (
        "ambulans",
        "tembalang",
        True,
    )
    form.get_by_label("Kode panggil").fill("AMB-07")
    form.get_by_label("Jenis").select_option("ambulance")
    form.get_by_role("button", name="Tambah unit").click()
    expect(desk.locator("#unit-add-error")).to_contain_text("AMB-07")  # already there

    table.locator('tr[data-unit="AMB-01"]').get_by_role("button", name="Tidak beroperasi").click()
    expect(desk.locator('#fleet-units [data-unit="AMB-01"]')).to_contain_text("tidak beroperasi")
    table.locator('tr[data-unit="AMB-07"]').get_by_role("button", name="Pensiunkan").click()
    expect(table.locator('tr[data-unit="AMB-07"]')).to_have_class("retired")
    assert Unit.objects.get(call_sign="AMB-01").status == "out_of_service"
    assert Unit.objects.get(call_sign="AMB-07").active is False
    screenshot(desk, "agency-fleet-1366")


def test_an_offline_reload_keeps_the_assignment_and_its_queued_tap(
    new_page, server_url, demo_report
):
    """Issue 37 §2 and §10: signed on, Berangkat, no signal, Tiba (queued), reload with no
    network → the app opens on its unit and assignment with the queued arrival; the network
    returns → the arrival reaches the server by itself; Selesai asks in the app's own dialog,
    with an optional note that reaches the server."""
    from django.contrib.auth import get_user_model

    from reports import services

    # The desk has sent AMB-03 (events written by this test's thread reach no socket: the
    # phone learns of it from its snapshot when it signs on).
    report = demo_report(
        category="darurat_medis", kecamatan="semarang_tengah", address="Jl. Pandanaran 12",
        description="Pingsan di halte",
    )  # fmt: skip
    assignment = Assignment.objects.get(report=report, agency__code="ambulans")
    staff = get_user_model().objects.get(username="ambulans")
    services.assignment_dispatch(assignment=assignment, actor=staff, unit="AMB-03")
    phone = field_phone(new_page, server_url, "ambulans-lapangan")
    dialogs = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    failed = []
    phone.on("requestfailed", lambda request: failed.append(request.url))
    phone.get_by_role("button", name="AMB-03 · ambulans").click()
    expect(phone.locator("#job-number")).to_have_text(report.number, timeout=5000)
    phone.wait_for_function("navigator.serviceWorker.ready.then(r => !!r.active)", timeout=10_000)
    phone.get_by_role("button", name="Berangkat").click()
    expect(phone.locator("#act-depart")).to_be_hidden()
    expect(phone.locator("#field-offline")).to_be_hidden()  # the departure reached the server

    phone.context.set_offline(True)
    tapped = timezone.now()
    phone.get_by_role("button", name="Tiba di lokasi").click()
    expect(phone.locator("#field-offline")).to_contain_text("1 langkah")
    failed.clear()
    phone.reload()
    # Opened from the phone alone: the unit, the assignment, the queued arrival.
    expect(phone.locator("#sign-on")).to_be_hidden()
    expect(phone.locator("#my-unit")).to_have_text("AMB-03")
    expect(phone.locator("#job-number")).to_have_text(report.number)
    expect(phone.locator("#job-address")).to_contain_text("Jl. Pandanaran 12")
    expect(phone.locator("#my-status")).to_have_text("tiba di lokasi")
    expect(phone.locator("#act-resolve")).to_be_visible()
    expect(phone.locator("#field-offline")).to_contain_text("1 langkah")
    # Every file of the shell came from the worker's cache (language.js too).
    assert phone.evaluate("typeof window.gettext") == "function"
    shell_misses = [url for url in failed if "/static/" in url or "/jsi18n/" in url]
    assert not shell_misses, shell_misses
    cached = phone.evaluate(
        """caches.keys().then(keys => Promise.all(keys.map(k => caches.open(k)
           .then(c => c.keys())))).then(all => all.flat().map(r => new URL(r.url).pathname))"""
    )
    assert "/static/js/language.js" in cached, cached
    screenshot(phone, "field-offline-reload-375")
    assignment.refresh_from_db()
    assert assignment.status == "dispatched"

    # The network returns: nothing to tap, the queued arrival goes with its tapped time.
    phone.context.set_offline(False)
    expect(phone.locator("#field-offline")).to_be_hidden(timeout=15_000)
    assignment.refresh_from_db()
    assert assignment.status == "on_scene"
    assert tapped - timedelta(seconds=2) <= assignment.arrived_at <= tapped + timedelta(seconds=2)
    expect(phone.locator("#job-number")).to_have_text(report.number)

    # Selesai: the app's own dialog, a note if the crew wants one, one more tap.
    phone.get_by_role("button", name="Selesai", exact=True).click()
    dialog = phone.locator("#field-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Selesaikan penugasan ini?")
    expect(dialog.get_by_role("button", name="Selesai")).to_be_focused()
    ok = dialog.get_by_role("button", name="Selesai").bounding_box()
    assert ok["height"] >= 56 and ok["y"] + ok["height"] <= 812  # big, within the thumb's reach
    dialog.get_by_role("button", name="Kembali").click()  # changed their mind: nothing sent
    expect(dialog).to_be_hidden()
    expect(phone.locator("#act-resolve")).to_be_visible()
    phone.get_by_role("button", name="Selesai", exact=True).click()
    dialog.get_by_label("Tindakan (opsional)").fill("Korban dibawa ke RSUP Kariadi")
    screenshot(phone, "field-resolve-dialog-375")
    dialog.get_by_role("button", name="Selesai").click()
    expect(phone.locator("#waiting")).to_be_visible()
    expect(phone.locator("#field-offline")).to_be_hidden(timeout=5000)
    assignment.refresh_from_db()
    assert assignment.status == "resolved"
    assert assignment.resolution_note == "Korban dibawa ke RSUP Kariadi"
    assert not dialogs, dialogs  # never the browser's confirm()/alert()


def test_a_phone_that_lost_what_it_kept_gets_its_assignment_from_the_server(
    new_page, server_url, demo_report
):
    """Issue 37 §2: the server's word when the phone kept nothing; signing off asks in the
    app's own dialog (issue 37 §10), never the browser's confirm()."""
    from django.contrib.auth import get_user_model

    from reports import services

    report = demo_report(
        category="darurat_medis", kecamatan="gajahmungkur", address="Jl. Sisingamangaraja 3"
    )
    assignment = Assignment.objects.get(report=report, agency__code="ambulans")
    staff = get_user_model().objects.get(username="ambulans")
    services.assignment_dispatch(assignment=assignment, actor=staff, unit="AMB-05")
    phone = field_phone(new_page, server_url, "ambulans-lapangan")
    phone.get_by_role("button", name="AMB-05 · ambulans").click()
    expect(phone.locator("#job-number")).to_have_text(report.number, timeout=5000)
    # What the phone kept is gone (another browser, cleared storage): the server's word.
    phone.evaluate("localStorage.clear()")
    phone.reload()
    expect(phone.locator("#job-number")).to_have_text(report.number)
    expect(phone.locator("#act-arrive")).to_be_visible()
    dialogs = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    phone.get_by_role("button", name="Selesai bertugas").click()
    dialog = phone.locator("#field-dialog")
    expect(dialog).to_contain_text("Selesai bertugas di unit ini untuk sisa giliran?")
    dialog.get_by_role("button", name="Kembali").click()
    expect(dialog).to_be_hidden()
    expect(phone.locator("#my-unit")).to_have_text("AMB-05")
    assert not dialogs, dialogs
