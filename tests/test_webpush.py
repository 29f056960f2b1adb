"""Phones in a pocket (SPEC §12, issue 40 §4): Web Push to agency staff and field officers.

The sending side is tested against a push service of the test's own on 127.0.0.1 that plays
the browser's push service and the browser behind it: it takes the POST as RFC 8030 says,
checks the VAPID authorisation (RFC 8292: the JWT's ES256 signature with the key in `k`, its
audience, expiry and subject), and decrypts the body with the browser's private key and auth
secret step by step as RFC 8291 writes it (and, as a cross-check, with http_ece). Nothing of
ours is mocked: the report is made by the service, published after the commit, and sent by
the push threads over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from agencies.models import Kecamatan
from core import shared_cache
from notifications import vapid, webpush
from notifications.models import PushSubscription
from reports import push, services

from .factories import OperatorFactory, field_officer_of, unit_of

SUBSCRIPTIONS = "/api/v1/push/subscriptions/"


# --- The push service and the browser behind it ---------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def point(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class Browser:
    """A user agent's side of one subscription: its P-256 key pair and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict:
        """What the browser's PushSubscription.toJSON() gives the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": b64url(point(self.private_key.public_key())),
                "auth": b64url(self.auth_secret),
            },
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 §3.4 with RFC 8188's aes128gcm, as the RFCs write it (one record)."""
        salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        as_public = body[21 : 21 + idlen]
        records = body[21 + idlen :]
        assert idlen == 65 and as_public[0] == 4, "keyid: the sender's uncompressed P-256 key"
        assert len(records) <= rs, "one record"
        ua_public = point(self.private_key.public_key())
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
        ecdh_secret = self.private_key.exchange(ec.ECDH(), sender)

        def hmac256(key: bytes, data: bytes) -> bytes:
            return hmac.new(key, data, hashlib.sha256).digest()

        # HKDF-Extract(salt=auth_secret, IKM=ecdh_secret), HKDF-Expand(PRK_key, key_info, 32)
        prk_key = hmac256(self.auth_secret, ecdh_secret)
        key_info = b"WebPush: info\x00" + ua_public + as_public
        ikm = hmac256(prk_key, key_info + b"\x01")
        # RFC 8188: the content encryption key and nonce from the body's salt.
        prk = hmac256(salt, ikm)
        cek = hmac256(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
        nonce = hmac256(prk, b"Content-Encoding: nonce\x00\x01")[:12]
        padded = AESGCM(cek).decrypt(nonce, records, None)  # record 0: the nonce as it is
        plaintext = padded.rstrip(b"\x00")
        assert plaintext.endswith(b"\x02"), "the last record's delimiter"
        return plaintext[:-1]


@dataclass
class Received:
    path: str
    headers: dict
    claims: dict
    message: dict


class PushService:
    """A push service on 127.0.0.1 (RFC 8030) for the browsers it makes. Every POST is checked
    (signed with `key`: by default this process's) and decrypted; `answer` (per path) and
    `delay` say how it replies."""

    def __init__(self, key: str | None = None) -> None:
        self.key = key
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.answer: dict[str, int] = {}
        self.location: dict[str, str] = {}  # a redirect's target, by path
        self.requests: list[str] = []  # every path POSTed to, checked or not
        self.delay = 0.0
        self.browsers: dict[str, Browser] = {}
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with service.lock:
                    service.requests.append(self.path)
                try:
                    service.take(self.path, dict(self.headers.items()), body)
                    status = service.answer.get(self.path, 201)
                except Exception as error:
                    with service.lock:
                        service.errors.append(f"{type(error).__name__}: {error}")
                    status = 400
                time.sleep(service.delay)
                self.send_response(status)
                if self.path in service.location:
                    self.send_header("Location", service.location[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def browser(self, name: str) -> Browser:
        browser = Browser(endpoint=f"{self.origin}/push/{name}")
        self.browsers[f"/push/{name}"] = browser
        return browser

    def take(self, path: str, headers: dict, body: bytes) -> None:
        headers = {k.lower(): v for k, v in headers.items()}
        key = self.key or vapid.application_server_key()
        claims = check_vapid(headers.get("authorization", ""), audience=self.origin, key=key)
        assert headers.get("content-encoding") == "aes128gcm", headers
        assert int(headers["ttl"]) > 0, headers
        plaintext = self.browsers[path].decrypt(body)
        # The same body through http_ece: two readings of RFC 8291 agree.
        browser = self.browsers[path]
        assert (
            http_ece.decrypt(body, private_key=browser.private_key, auth_secret=browser.auth_secret)
            == plaintext
        )
        with self.lock:
            self.received.append(Received(path, headers, claims, json.loads(plaintext)))

    def messages(self, browser: Browser) -> list[dict]:
        path = browser.endpoint.removeprefix(self.origin)
        with self.lock:
            return [r.message for r in self.received if r.path == path]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def check_vapid(authorization: str, *, audience: str, key: str) -> dict:
    """RFC 8292 §3: `vapid t=<JWT>, k=<key>`; the JWT signed ES256 by that key, for this push
    service, not expired (and not past 24 hours), with a contact. Returns its claims."""
    found = re.fullmatch(r"vapid t=([\w.-]+),\s*k=([\w-]+)", authorization)
    assert found, f"not a VAPID authorisation: {authorization!r}"
    token, k = found.groups()
    assert k == key, "k is the sending server's key"
    signing_input, _, signature = token.rpartition(".")
    header, payload = (json.loads(unb64url(part)) for part in signing_input.split("."))
    assert header == {"typ": "JWT", "alg": "ES256"}, header
    raw = unb64url(signature)
    assert len(raw) == 64, "ES256: r and s, 32 bytes each"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    try:
        public.verify(
            encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
            signing_input.encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature as error:
        raise AssertionError("the VAPID JWT's signature does not verify") from error
    assert payload["aud"] == audience, payload
    assert time.time() < payload["exp"] <= time.time() + 24 * 3600, payload
    assert payload["sub"].startswith(("mailto:", "https:")), payload
    return payload


# --- Fixtures -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def push_state(settings, tmp_path, monkeypatch):
    """A key of the test's own (generated into its VAR_DIR, as the embedded mode does), the
    local push service allowed, and no state of an earlier test: who subscribed, which push
    services failed, which event ids were pushed (ids repeat from one test database to the
    next)."""
    settings.VAR_DIR = tmp_path
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.WEBPUSH_ALLOW_INSECURE_ENDPOINTS = True
    monkeypatch.setattr(push, "_pushed", push._Pushed())
    monkeypatch.setattr(webpush, "_health", webpush._Health())
    shared_cache.delete(webpush.ANYONE_KEY)
    yield
    assert webpush.wait_idle(15), "the push threads did not finish"
    shared_cache.delete(webpush.ANYONE_KEY)


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.stop()


def subscribe(user, browser: Browser) -> None:
    """The browser hands its subscription to the server, as push.js does."""
    client = Client()
    client.force_login(user)
    response = client.post(SUBSCRIPTIONS, browser.subscription(), content_type="application/json")
    assert response.status_code == 201, response.content


def sent() -> None:
    assert webpush.wait_idle(15), "the push threads did not finish"


# --- The sending side, against a real protocol peer -----------------------------------------------

transactional = pytest.mark.django_db(transaction=True)


@transactional
def test_a_new_assignment_reaches_the_agency_staffs_phone_encrypted_as_rfc_8291_says(
    city, operator, staff_of, push_service
):
    dishub = staff_of("dishub")
    phone = push_service.browser("dishub-phone")
    subscribe(dishub, phone)

    report = services.report_create(
        operator=operator, caller_phone="081234567890", caller_name="Budi Santoso",
        category="kemacetan", description="Macet total", address="Jl. Kaligawe",
        kecamatan="genuk", priority=1,
    )  # fmt: skip
    sent()

    assert push_service.errors == []
    assignment = report.assignments.get(agency__code="dishub")
    [message] = push_service.messages(phone)
    assert message["title"] == f"{report.number} · Kemacetan lalu lintas"
    assert message["body"] == "Jl. Kaligawe, Genuk — P1"
    assert message["url"] == f"/agency/#assignment-{assignment.pk}"
    assert message["tag"] == f"assignment-{assignment.pk}"
    assert message["kind"] == "assignment.created"
    # Never who called: not the name, not the number, not in any form.
    text = json.dumps(message)
    assert "Budi" not in text and "1234567890" not in text and "81234" not in text
    [received] = push_service.received
    assert received.headers["urgency"] == "high"
    assert received.headers["topic"] == f"assignment-{assignment.pk}"
    assert received.headers["ttl"] == "900"
    subscription = PushSubscription.objects.get(endpoint=phone.endpoint)
    assert subscription.last_success_at is not None


@transactional
def test_only_the_staff_of_the_assigned_agencies_get_it(city, operator, staff_of, push_service):
    # kemacetan → Dishub and Polrestabes; Damkar is not on it; a field officer of Dishub not
    # (yet) dispatched, and an operator who somehow holds a subscription, get nothing.
    dishub, polrestabes, damkar = staff_of("dishub"), staff_of("polrestabes"), staff_of("damkar")
    desk_pc, desk_phone = push_service.browser("dishub-pc"), push_service.browser("dishub-phone")
    police, fire = push_service.browser("polrestabes"), push_service.browser("damkar")
    crew = push_service.browser("crew")
    subscribe(dishub, desk_pc)
    subscribe(dishub, desk_phone)  # one user, two devices: both
    subscribe(polrestabes, police)
    subscribe(damkar, fire)
    subscribe(field_officer_of("dishub"), crew)
    watcher = push_service.browser("operator")
    PushSubscription.objects.create(
        user=OperatorFactory(), endpoint=watcher.endpoint, **watcher.subscription()["keys"]
    )

    report = services.report_create(
        operator=operator, caller_phone="081234567890", category="kemacetan",
        description="-", address="Jl. Pahlawan", kecamatan="semarang_tengah",
    )  # fmt: skip
    sent()

    assert push_service.errors == []
    ids = {a.agency.code: a.pk for a in report.assignments.select_related("agency")}
    assert [m["assignment"] for m in push_service.messages(desk_pc)] == [ids["dishub"]]
    assert [m["assignment"] for m in push_service.messages(desk_phone)] == [ids["dishub"]]
    assert [m["assignment"] for m in push_service.messages(police)] == [ids["polrestabes"]]
    assert push_service.messages(fire) == []
    assert push_service.messages(crew) == []
    assert push_service.messages(watcher) == []


@transactional
def test_a_dispatch_reaches_the_crew_of_the_unit_and_opens_the_field_app(
    city, operator, staff_of, push_service
):
    dishub = staff_of("dishub")
    unit = unit_of(
        "dishub", "DSH-01", kind="patrol_car",
        home_kecamatan=Kecamatan.objects.get(code="semarang_tengah"),
    )  # fmt: skip
    crew, other_crew = field_officer_of("dishub", unit=unit), field_officer_of("dishub")
    desk, on_board, elsewhere = (push_service.browser(n) for n in ("desk", "dsh-01", "other"))
    subscribe(dishub, desk)
    subscribe(crew, on_board)
    subscribe(other_crew, elsewhere)
    report = services.report_create(
        operator=operator, caller_phone="081234567890", category="kemacetan",
        description="-", address="Jl. Pahlawan", kecamatan="semarang_tengah", priority=2,
    )  # fmt: skip
    assignment = report.assignments.get(agency__code="dishub")
    sent()  # (SQLite's in-memory test database locks a table a push thread is reading)

    services.assignment_dispatch(assignment=assignment, actor=dishub, unit="DSH-01", eta_minutes=5)
    sent()

    assert push_service.errors == []
    [message] = push_service.messages(on_board)
    assert message["kind"] == "assignment.dispatched"
    assert message["title"] == f"{report.number} · Kemacetan lalu lintas"
    assert message["body"] == "DSH-01 · Jl. Pahlawan, Semarang Tengah — P2"
    assert message["url"] == f"/field/#assignment-{assignment.pk}"
    assert push_service.messages(elsewhere) == []  # not on that unit
    # The desk was told of the new assignment, not of its own dispatch.
    assert [m["kind"] for m in push_service.messages(desk)] == ["assignment.created"]


@transactional
@pytest.mark.parametrize("gone", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed(
    gone, city, operator, staff_of, push_service
):
    dishub = staff_of("dishub")
    old, new = push_service.browser("old"), push_service.browser("new")
    subscribe(dishub, old)
    subscribe(dishub, new)
    push_service.answer["/push/old"] = gone

    services.report_create(
        operator=operator, caller_phone="081234567890", category="kemacetan",
        description="-", address="Jl. Pahlawan", kecamatan="semarang_tengah",
    )  # fmt: skip
    sent()

    assert push_service.errors == []
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [new.endpoint]
    assert len(push_service.messages(new)) == 1


@transactional
@pytest.mark.parametrize("failure", ["500", "timeout"])
def test_a_failing_push_service_keeps_the_subscription_logs_once_and_delays_nothing(
    failure, city, operator, staff_of, push_service, monkeypatch, caplog
):
    dishub = staff_of("dishub")
    phone = push_service.browser("phone")
    subscribe(dishub, phone)
    if failure == "500":
        push_service.answer["/push/phone"] = 500
        push_service.delay = 0.5  # slower than the POST may take: it must not wait for it
    else:
        monkeypatch.setattr(webpush, "TIMEOUT", 0.5)
        push_service.delay = 2.0
    caplog.set_level(logging.INFO, logger="notifications.webpush")

    started = time.monotonic()
    reports = []
    for n in range(2):
        reports.append(services.report_create(
            operator=operator, caller_phone="081234567890", category="kemacetan",
            description="-", address=f"Jl. Pahlawan {n}", kecamatan="semarang_tengah",
        ))  # fmt: skip
    took = time.monotonic() - started
    sent()

    assert took < 0.5, f"two reports took {took:.2f} s: the action waited for the push"
    assert all(r.pk for r in reports)
    assert PushSubscription.objects.filter(endpoint=phone.endpoint).exists()
    failures = [r for r in caplog.records if "did not take" in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in caplog.records]
    assert failures[0].levelno == logging.WARNING
    assert push_service.origin in failures[0].getMessage()
    assert not any(r.exc_info for r in caplog.records), "a failed push is no traceback"


@transactional
def test_a_push_service_that_redirects_is_not_followed(city, operator, staff_of, push_service):
    # An endpoint must not make the server POST where it would have refused to (SSRF).
    phone = push_service.browser("phone")
    subscribe(staff_of("dishub"), phone)
    push_service.answer["/push/phone"] = 307
    push_service.location["/push/phone"] = f"{push_service.origin}/internal/admin"

    services.report_create(
        operator=operator, caller_phone="081234567890", category="kemacetan",
        description="-", address="Jl. Pahlawan", kecamatan="semarang_tengah",
    )  # fmt: skip
    sent()

    assert push_service.requests == ["/push/phone"]
    assert PushSubscription.objects.filter(endpoint=phone.endpoint).exists()


@transactional
def test_no_push_goes_to_a_name_that_points_inside_the_network(
    city, operator, staff_of, push_service, settings
):
    # Checked when handed in, and again when sending: a name may come to point elsewhere.
    phone = push_service.browser("phone")
    keys = phone.subscription()["keys"]
    inside = phone.endpoint.replace("127.0.0.1", "localhost")
    PushSubscription.objects.create(user=staff_of("dishub"), endpoint=inside, **keys)
    settings.WEBPUSH_ALLOW_INSECURE_ENDPOINTS = False

    services.report_create(
        operator=operator, caller_phone="081234567890", category="kemacetan",
        description="-", address="Jl. Pahlawan", kecamatan="semarang_tengah",
    )  # fmt: skip
    sent()

    assert push_service.requests == []
    assert PushSubscription.objects.filter(endpoint=inside).exists()


@transactional
def test_where_nobody_subscribed_the_push_threads_ask_once_and_remember(
    city, operator, push_service
):
    services.report_create(
        operator=operator, caller_phone="081234567890", category="kemacetan",
        description="-", address="Jl. Pahlawan", kecamatan="semarang_tengah",
    )  # fmt: skip
    sent()
    assert shared_cache.get(webpush.ANYONE_KEY) is False  # asked once, remembered
    assert push_service.received == []


def test_an_event_published_again_is_not_pushed_twice(monkeypatch):
    # After a channel-layer outage reports.live publishes the events again.
    handed = []
    monkeypatch.setattr(webpush, "send_later", lambda audience, message: handed.append(message))
    payload = {
        "kind": "assignment.created", "event_id": 7,
        "report": {"number": "LAP-20261207-0003", "category": "kebakaran",
                   "category_name": "Kebakaran", "address": "Jl. Kaligawe",
                   "kecamatan_name": "Genuk", "priority": 1, "caller_name": "Budi",
                   "caller_phone": "+6281234567890",
                   "assignments": [{"id": 3, "agency": "damkar", "status": "notified"}]},
        "assignment": {"id": 3, "agency": "damkar", "status": "notified"},
    }  # fmt: skip
    push.after_publish([payload])
    push.after_publish([payload])
    assert handed == [
        {
            "title": "LAP-20261207-0003 · Kebakaran",
            "body": "Jl. Kaligawe, Genuk — P1",
            "url": "/agency/#assignment-3",
            "tag": "assignment-3",
            "kind": "assignment.created",
            "assignment": 3,
            "priority": 1,
            "icon": "/static/img/icon-192.png",
        }
    ]


def test_a_payload_it_cannot_read_never_breaks_publishing(caplog):
    push.after_publish([{"kind": "assignment.created", "event_id": 8}])  # no report
    assert any("Web Push" in r.getMessage() for r in caplog.records)


# --- The key --------------------------------------------------------------------------------------


def test_the_embedded_mode_makes_its_key_once_and_keeps_it(settings, tmp_path):
    first = vapid.application_server_key()
    key_file = tmp_path / "vapid_private.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    vapid._key = None  # as a new process: read back from the file
    assert vapid.application_server_key() == first
    assert len(unb64url(first)) == 65 and unb64url(first)[0] == 4


def test_a_configured_key_is_used_as_pem_text_or_file(settings, tmp_path):
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    expected = b64url(point(private.public_key()))
    settings.WEBPUSH_VAPID_PRIVATE_KEY = pem.replace("\n", "\\n")  # one line of an .env file
    assert vapid.application_server_key() == expected
    (tmp_path / "mine.pem").write_text(pem)
    settings.WEBPUSH_VAPID_PRIVATE_KEY = str(tmp_path / "mine.pem")
    assert vapid.application_server_key() == expected
    assert not (tmp_path / "vapid_private.pem").exists()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = "not a key"
    with pytest.raises(ImproperlyConfigured):
        vapid.application_server_key()


# --- The API: the subscription a browser hands in -------------------------------------------------


@pytest.fixture
def desk(city, staff_of):
    client = Client(HTTP_ACCEPT_LANGUAGE="id")
    client.force_login(staff_of("dishub"))
    return client


GOOD = Browser(endpoint="https://fcm.googleapis.com/fcm/send/abc").subscription()
NOT_ON_THE_CURVE = b64url(b"\x04" + b"\x00" * 64)


def body(endpoint=GOOD["endpoint"], **keys):
    return {"endpoint": endpoint, "keys": {**GOOD["keys"], **keys}}


@pytest.mark.parametrize(
    ("sent_body", "field", "says"),
    [
        (body("http://push.example.com/x"), "endpoint", "harus berupa alamat https://"),
        (body("ftp://push.example.com/x"), "endpoint", "harus berupa alamat https://"),
        (body("https://10.1.2.3/x"), "endpoint", "bukan di alamat lokal"),
        (body("https://169.254.169.254/latest"), "endpoint", "bukan di alamat lokal"),
        (body("https://[::1]/x"), "endpoint", "bukan di alamat lokal"),
        (body("https://localhost/x"), "endpoint", "bukan di alamat lokal"),
        (body("https://push/x"), "endpoint", "bukan di alamat lokal"),
        (body("https://user:pw@fcm.googleapis.com/x"), "endpoint", "bukan alamat yang sah"),
        (body("https://fcm.googleapis.com:99999/x"), "endpoint", "bukan alamat yang sah"),
        (body("https:///x"), "endpoint", "bukan alamat yang sah"),
        (body("https://fcm.googleapis.com/x#y"), "endpoint", "bukan alamat yang sah"),
        (body(p256dh=b64url(os.urandom(64))), "keys", "sepanjang 65 bita"),
        (body(p256dh=NOT_ON_THE_CURVE), "keys", "bukan kunci publik P-256"),
        (body(p256dh="BD4p+ywA/jh1"), "keys", "base64url"),
        (body(auth=b64url(os.urandom(15))), "keys", "sepanjang 16 bita"),
        (body(auth="!!!!"), "keys", "base64url"),
        (body("https://fcm.googleapis.com/\x00"), "endpoint", "karakter kontrol"),
        (body("https://fcm.googleapis.com/" + "a" * 1000), "endpoint", "1000"),
        (body(12345), "endpoint", ""),
        ({"endpoint": GOOD["endpoint"]}, "keys", ""),
        ({"endpoint": GOOD["endpoint"], "keys": "x"}, "keys", ""),
        (body(p256dh=None), "keys", ""),
    ],
)
@pytest.mark.django_db
def test_a_bad_subscription_is_refused_in_indonesian_naming_the_field(
    desk, settings, sent_body, field, says
):
    settings.WEBPUSH_ALLOW_INSECURE_ENDPOINTS = False
    response = desk.post(SUBSCRIPTIONS, sent_body, content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert says in json.dumps(errors, ensure_ascii=False), errors
    assert not PushSubscription.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["[]", "null", '"x"', "{", '{"endpoint": {"a": 1}}'])
def test_a_body_that_is_no_subscription_is_a_400_never_a_500(desk, raw):
    response = desk.post(SUBSCRIPTIONS, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    response = desk.delete(SUBSCRIPTIONS, raw, content_type="application/json")
    assert response.status_code == 400, response.content


@pytest.mark.django_db
def test_local_endpoints_are_refused_unless_allowed(desk, settings):
    local = body("http://127.0.0.1:9/push/x")
    settings.WEBPUSH_ALLOW_INSECURE_ENDPOINTS, settings.DEBUG = False, False
    assert desk.post(SUBSCRIPTIONS, local, content_type="application/json").status_code == 400
    settings.DEBUG = True  # `make run` on one machine
    assert desk.post(SUBSCRIPTIONS, local, content_type="application/json").status_code == 201


@pytest.mark.django_db
def test_a_subscription_is_kept_per_device_and_follows_who_signed_in_last(city, staff_of):
    dishub, damkar = staff_of("dishub"), staff_of("damkar")
    first, second = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)"), Client()
    first.force_login(dishub)
    second.force_login(damkar)

    def post(client, subscription):
        return client.post(SUBSCRIPTIONS, subscription, content_type="application/json")

    assert post(first, GOOD).status_code == 201
    assert post(first, GOOD).status_code == 200  # handed in again on each visit
    assert PushSubscription.objects.get().user == dishub
    assert PushSubscription.objects.get().device == "Mozilla/5.0 (Linux; Android 14)"
    # Damkar's staff signs in on the same browser: the device now notifies them.
    assert post(second, GOOD).status_code == 200
    assert PushSubscription.objects.get().user == damkar
    # Dishub's staff cannot take it off someone else's device…
    endpoint = {"endpoint": GOOD["endpoint"]}
    assert first.delete(SUBSCRIPTIONS, endpoint, content_type="application/json").status_code == 204
    assert PushSubscription.objects.exists()
    # …its user can.
    response = second.delete(SUBSCRIPTIONS, endpoint, content_type="application/json")
    assert response.status_code == 204
    assert not PushSubscription.objects.exists()


@pytest.mark.django_db
def test_a_user_keeps_the_newest_ten_devices(desk):
    for n in range(12):
        subscription = {**GOOD, "endpoint": f"https://fcm.googleapis.com/fcm/send/{n}"}
        response = desk.post(SUBSCRIPTIONS, subscription, content_type="application/json")
        assert response.status_code == 201
    kept = set(PushSubscription.objects.values_list("endpoint", flat=True))
    assert kept == {f"https://fcm.googleapis.com/fcm/send/{n}" for n in range(2, 12)}


@pytest.mark.django_db
def test_the_key_is_given_to_those_who_may_subscribe(desk):
    response = desk.get("/api/v1/push/key/")
    assert response.status_code == 200
    assert response.json() == {"public_key": vapid.application_server_key()}


def test_the_desk_service_worker_may_control_the_desk_and_loads_the_push_handlers(client):
    response = client.get("/api/v1/push/worker.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/agency/"
    assert 'importScripts("/static/js/push_sw.js")' in response.content.decode()


@pytest.mark.django_db
def test_the_field_service_worker_loads_the_push_handlers(client):
    response = client.get("/field/sw.js")
    assert 'importScripts("/static/js/push_sw.js")' in response.content.decode()


@pytest.mark.django_db
def test_an_administrator_sees_the_devices_and_may_take_a_lost_phone_off(city, staff_of):
    from django.contrib.auth import get_user_model

    subscription = PushSubscription.objects.create(
        user=staff_of("dishub"), device="Android 14 · Chrome", **GOOD["keys"],
        endpoint=GOOD["endpoint"],
    )  # fmt: skip
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", password="x"))
    page = admin.get("/admin/notifications/pushsubscription/")
    assert page.status_code == 200
    assert "Android 14 · Chrome" in page.content.decode()
    assert GOOD["keys"]["auth"] not in page.content.decode()
    url = f"/admin/notifications/pushsubscription/{subscription.pk}/delete/"
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert not PushSubscription.objects.exists()
