"""Phones in a pocket in a real browser (SPEC §12, issue 40 §4), as far as headless Chromium
goes. It has no push service: PushManager.subscribe() is refused ("Registration failed"), so
the pages must say so in Indonesian and keep working. Everything after the subscription is
real: a subscription handed in through the page's own session, a report posted to the
server, the server's push threads sending to a push service of the test's own
(tests/test_webpush.py: VAPID checked, the body decrypted as RFC 8291 says), and that
message delivered to the page's service worker as a push service would (DevTools'
ServiceWorker.deliverPushMessage): the worker's `push` handler shows the notification, and
its `notificationclick` handler, run in the worker, brings the tab to the card. What cannot
be done headless: a real subscription, and a real tap on a system notification (focusing or
opening a window needs that tap)."""

import json
import re
import time
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from notifications.models import PushSubscription
from reports.models import Assignment

from ..test_webpush import PushService
from .conftest import screenshot
from .test_security_browser import watch_for_violations

pytestmark = pytest.mark.browser

TURN_ON = "Aktifkan notifikasi di perangkat ini"
CANNOT = "Notifikasi tidak dapat diaktifkan di peramban ini."


@pytest.fixture
def push_service():
    service = None

    def start(key: str) -> PushService:
        nonlocal service
        service = PushService(key=key)
        return service

    yield start
    if service is not None:
        service.stop()


def allow_notifications(page, server_url):
    page.context.grant_permissions(["notifications"], origin=server_url)
    page.reload()


def turn_on(page):
    """Taps the switch; headless Chromium refuses the subscription (or, one day, grants it)."""
    toggle = page.locator("#push-toggle")
    expect(toggle).to_have_text(TURN_ON)
    toggle.click()
    status = page.locator("#push-status")
    expect(status).to_have_text(re.compile(f"Notifikasi aktif|{CANNOT}"), timeout=20_000)
    return status.text_content()


def registration_ids(page):
    """A DevTools session on the page, and its service worker registrations by scope."""
    cdp = page.context.new_cdp_session(page)
    found: dict[str, str] = {}
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.update(
            {r["scopeURL"]: r["registrationId"] for r in event["registrations"]}
        ),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if found:
            break
        page.wait_for_timeout(100)
    return cdp, found


def notifications(page, scope: str) -> list[dict]:
    return page.evaluate(
        """async (scope) => {
          const registration = await navigator.serviceWorker.getRegistration(scope);
          const shown = await registration.getNotifications();
          return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
        }""",
        scope,
    )


def test_the_desk_offers_push_and_carries_a_real_push_to_the_card(
    page_for, server_url, push_service
):
    desk = page_for("damkar", width=1366, height=768)
    violations = watch_for_violations(desk)  # the workers and their imports under the CSP
    allow_notifications(desk, server_url)
    toggle, status = desk.locator("#push-toggle"), desk.locator("#push-status")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_text(TURN_ON)
    screenshot(desk, "push-agency-1366")

    said = turn_on(desk)
    if said == "Notifikasi aktif":  # a Chromium with a push service
        assert PushSubscription.objects.filter(user__username="damkar").exists()
        expect(toggle).to_have_text("Matikan notifikasi")
    else:  # headless: "Registration failed - permission denied"
        expect(status).to_have_text(re.compile(CANNOT))
        expect(toggle).to_be_enabled()
        expect(toggle).to_have_text(TURN_ON)
        assert not PushSubscription.objects.exists()
    screenshot(desk, "push-agency-refused-1366")
    # The desk's worker (served by the API, allowed the /agency/ scope) is in place.
    scope = f"{server_url}/agency/"
    assert (
        desk.evaluate(
            "navigator.serviceWorker.getRegistration('/agency/').then((r) => r && r.scope)"
        )
        == scope
    )

    # A phone elsewhere subscribes (to a push service of the test's own), through the page's
    # own session as push.js would.
    key = desk.evaluate("fetch('/api/v1/push/key/').then((r) => r.json())")["public_key"]
    service = push_service(key)
    phone = service.browser("damkar-phone")
    answer = desk.evaluate(
        """async (subscription) => {
          const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
          const response = await fetch('/api/v1/push/subscriptions/', {
            method: 'POST', body: JSON.stringify(subscription),
            headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf } });
          return response.status;
        }""",
        phone.subscription(),
    )
    assert answer == 201

    # The operator logs a fire; the server pushes it to Damkar's staff.
    operator = get_user_model().objects.get(username="operator")
    token = Token.objects.get_or_create(user=operator)[0].key
    request = urllib.request.Request(
        f"{server_url}/api/v1/reports/",
        data=json.dumps(
            {"caller_phone": "081234567890", "caller_name": "Siti Aminah",
             "category": "kebakaran", "description": "Gudang terbakar",
             "address": "Jl. Kaligawe", "kecamatan": "genuk"}
        ).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        report = json.loads(response.read())
    assignment = Assignment.objects.get(report_id=report["id"], agency__code="damkar")
    deadline = time.monotonic() + 15
    while not service.messages(phone) and not service.errors and time.monotonic() < deadline:
        time.sleep(0.1)
    assert service.errors == []
    [message] = service.messages(phone)
    assert message["url"] == f"/agency/#assignment-{assignment.pk}"
    assert "Siti" not in json.dumps(message)

    # That message reaches the desk's worker as a push service delivers it.
    card = desk.locator(f'[data-assignment="{assignment.pk}"]')
    expect(card).to_be_visible(timeout=5000)
    desk.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    cdp, registrations = registration_ids(desk)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server_url, "registrationId": registrations[scope], "data": json.dumps(message)},
    )
    for _ in range(50):
        if notifications(desk, "/agency/"):
            break
        desk.wait_for_timeout(100)
    [shown] = notifications(desk, "/agency/")
    assert shown == {
        "title": f"{report['number']} · Kebakaran",
        "body": "Jl. Kaligawe, Genuk — P1",
        "tag": f"assignment-{assignment.pk}",
        "data": {"url": f"/agency/#assignment-{assignment.pk}"},
    }

    # A tap on it (run in the worker: headless has no system notification to tap) tells the
    # open desk which card: it comes into view, marked, with the address in the URL.
    worker = next(w for w in desk.context.service_workers if w.url.endswith("/push/worker.js"))
    worker.evaluate(
        """async () => {
          const [notification] = await self.registration.getNotifications();
          try {
            self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
          } catch (error) { /* a script's event may not waitUntil(): the tab is told anyway */ }
        }"""
    )
    expect(card).to_have_class(re.compile(r"\bpushed\b"))
    expect(card).to_be_in_viewport()
    screenshot(desk, "push-agency-card-1366")
    assert violations == []
    assert desk.evaluate("location.hash") == f"#assignment-{assignment.pk}"
    for _ in range(50):  # the tap closed it
        if not notifications(desk, "/agency/"):
            break
        desk.wait_for_timeout(100)
    assert notifications(desk, "/agency/") == []

    # The address opens the card in a new tab as well (openWindow, after a real tap).
    again = page_for("damkar", width=1366, height=768)
    again.goto(f"{server_url}/agency/#assignment-{assignment.pk}")
    expect(again.locator(f'[data-assignment="{assignment.pk}"]')).to_have_class(
        re.compile(r"\bpushed\b")
    )


def test_the_field_app_offers_push_and_shows_a_dispatch_with_the_app_in_a_pocket(
    new_page, server_url, demo_city, push_service
):
    phone = new_page(
        viewport={"width": 375, "height": 812}, locale="id-ID", timezone_id="Asia/Jakarta",
        is_mobile=True, has_touch=True,
    )  # fmt: skip
    phone.goto(f"{server_url}/accounts/login/")
    phone.fill("#id_username", "damkar-lapangan")
    phone.fill("#id_password", "demo112")
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"{server_url}/field/")
    allow_notifications(phone, server_url)
    expect(phone.locator("#push-toggle")).to_have_text(TURN_ON)
    phone.get_by_role("button", name="DMK-01").click()
    expect(phone.locator("#my-unit")).to_have_text("DMK-01")
    screenshot(phone, "push-field-375")
    said = turn_on(phone)
    if said != "Notifikasi aktif":
        expect(phone.locator("#push-status")).to_have_text(re.compile(CANNOT))
        expect(phone.locator("#push-toggle")).to_be_enabled()
    screenshot(phone, "push-field-refused-375")

    # The field app's own worker (its offline shell) takes the push too.
    scope = f"{server_url}/field/"
    cdp, registrations = registration_ids(phone)
    message = {
        "title": "LAP-20261207-0003 · Kebakaran", "body": "DMK-01 · Jl. Kaligawe, Genuk — P1",
        "url": "/field/#assignment-1", "tag": "assignment-1", "priority": 1,
    }  # fmt: skip
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server_url, "registrationId": registrations[scope], "data": json.dumps(message)},
    )
    for _ in range(50):
        if notifications(phone, "/field/"):
            break
        phone.wait_for_timeout(100)
    [shown] = notifications(phone, "/field/")
    assert shown["title"] == message["title"] and shown["body"] == message["body"]
    assert shown["data"] == {"url": "/field/#assignment-1"}


def test_the_switch_fits_a_phone_on_the_desk_and_a_desk_screen_for_the_field(
    page_for, new_page, server_url
):
    desk = page_for("damkar", width=375, height=812)
    allow_notifications(desk, server_url)
    expect(desk.locator("#push-toggle")).to_be_visible()
    turn_on(desk)
    screenshot(desk, "push-agency-375")
    field = page_for("damkar-lapangan", width=1366, height=768)
    allow_notifications(field, server_url)
    expect(field.locator("#push-toggle")).to_be_visible()
    screenshot(field, "push-field-1366")


def test_no_switch_where_notifications_are_blocked(page_for, server_url, browser):
    desk = page_for("damkar", width=1366, height=768)
    expect(desk.locator("#push-toggle")).to_be_visible()  # not asked yet: offered
    expect(desk.locator("#notify-permission")).to_be_hidden()  # one request, not two
    # Blocked in the browser's settings: DevTools sets it for this page's browser context.
    context_id = desk.context.new_cdp_session(desk).send("Target.getTargetInfo")["targetInfo"][
        "browserContextId"
    ]
    blocker = browser.new_browser_cdp_session()
    blocker.send(
        "Browser.setPermission",
        {"permission": {"name": "notifications"}, "setting": "denied", "origin": server_url,
         "browserContextId": context_id},
    )  # fmt: skip
    desk.reload()
    assert desk.evaluate("Notification.permission") == "denied"
    expect(desk.locator("#queue-empty")).to_be_visible()  # the page is up
    expect(desk.locator("#push")).to_be_hidden()
    blocker.send("Browser.resetPermissions", {"browserContextId": context_id})
