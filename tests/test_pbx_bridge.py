"""The AMI bridge (`manage.py pbx_bridge --ami`, issue 18 §2). No Asterisk installs here
(Debian 12 has no `asterisk` package; PyPI has no PBX), so the PBX is a recorded Asterisk
session — tests/data/ami_session.txt, in Asterisk 20's AMI format with timestampevents —
replayed over TCP by a server that speaks the AMI's greeting and login. The bridge logs in
with panoramisk, as it would to Asterisk, and posts to the running application over HTTP
(pytest-django's live server): the calls come out in the database as the console sees them.

The session: an emergency call on 112 rung at two operators through a queue, answered at
101 after 7 s and ended after 95 s; a call to the city's office number (not 112, ignored);
a caller who gave up after 23 s (abandoned)."""

from __future__ import annotations

import asyncio
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from telephony.ami import CallTracker, CtiEvent, extension_of, parse_session
from telephony.bridge import Delivery, Poster, deliver
from telephony.models import CallEvent, CallState, Extension, PhoneCall

from .factories import OperatorFactory, TelephonyFactory

SESSION = (Path(__file__).parent / "data" / "ami_session.txt").read_text()
AMI_USER, AMI_SECRET = "dispatch", "rahasia-ami"
ANSWERED, ABANDONED = "1796270400.1", "1796270420.5"


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --- The tracker: AMI events → CTI events -------------------------------------------------------


def test_the_recorded_session_becomes_the_cti_events():
    events = CallTracker().feed_all(parse_session(SESSION))
    assert events == [
        CtiEvent(ANSWERED, "ringing", "081377712345", at=at(1796270400.104213)),
        CtiEvent(ANSWERED, "answered", extension="101", at=at(1796270407.104213)),
        CtiEvent(ABANDONED, "ringing", "0812 9999 0000", at=at(1796270420.5)),
        CtiEvent(ABANDONED, "ended", at=at(1796270443.5)),
        CtiEvent(ANSWERED, "ended", at=at(1796270495.11)),
    ]


def test_a_context_makes_every_call_in_it_an_emergency_call():
    tracker = CallTracker(numbers=frozenset(), contexts=frozenset({"from-trunk"}))
    ringing = [e.call_id for e in tracker.feed_all(parse_session(SESSION)) if e.event == "ringing"]
    assert ringing == [ANSWERED, "1796270410.4", ABANDONED]


def test_the_first_answer_counts_and_events_without_ids_are_ignored():
    tracker = CallTracker()
    caller = {"Event": "Newchannel", "Uniqueid": "9.1", "Linkedid": "9.1", "Exten": "112",
              "CallerIDNum": "<unknown>"}  # fmt: skip
    assert tracker.feed(caller)[0].caller_phone == ""  # withheld
    first = {"Event": "Newstate", "ChannelState": "6", "Channel": "SIP/104-00000001",
             "Uniqueid": "9.2", "Linkedid": "9.1"}  # fmt: skip
    assert tracker.feed(first)[0].extension == "104"
    transferred = {**first, "Channel": "PJSIP/105-00000002", "Uniqueid": "9.3"}
    assert tracker.feed(transferred) == []
    assert tracker.feed({"Event": "Hangup", "Channel": "x"}) == []
    assert tracker.open_calls == 1


@pytest.mark.parametrize(
    ("channel", "extension"),
    [
        ("PJSIP/101-0000000b", "101"),
        ("SIP/operator7-00000002", "operator7"),
        ("Local/102@agents-00000001;1", "102"),
        ("IAX2/103-1234", "103"),
        ("", ""),
        ("garbage", ""),
    ],
)
def test_the_extension_is_the_device_of_the_channel(channel, extension):
    assert extension_of(channel) == extension


# --- Over TCP and HTTP: the bridge against the replayed session ----------------------------------


class ReplayedAmi:
    """A TCP server speaking the AMI as Asterisk does for one connection: the greeting, the
    Login (accepted only with AMI_USER / AMI_SECRET), then the recorded session, then the
    connection closes."""

    def __init__(self, session: str):
        self.session = session.replace("\r\n", "\n").replace("\n", "\r\n")
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(15)
        self.port = self.server.getsockname()[1]
        self.login: dict[str, str] = {}
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            connection, _ = self.server.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(15)
            connection.sendall(b"Asterisk Call Manager/9.0.0\r\n")
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                received += chunk
            lines = received.decode().split("\r\n")
            self.login = dict(line.split(": ", 1) for line in lines if ": " in line)
            action_id = self.login.get("ActionID", "")
            if (self.login.get("Username"), self.login.get("Secret")) != (AMI_USER, AMI_SECRET):
                connection.sendall(f"Response: Error\r\nActionID: {action_id}\r\n"
                                   "Message: Authentication failed\r\n\r\n".encode())  # fmt: skip
                return
            connection.sendall(f"Response: Success\r\nActionID: {action_id}\r\n"
                               "Message: Authentication accepted\r\n\r\n".encode())  # fmt: skip
            connection.sendall(self.session.encode())

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def replay():
    servers = []

    def start(session: str = SESSION) -> ReplayedAmi:
        servers.append(ReplayedAmi(session))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def dispatch_url(transactional_db, settings):
    """The application served over HTTP in a thread on the test database, started by this
    test (pytest-django's session-wide live_server would keep the middleware it was started
    with: SECURE_SSL_REDIRECT on, as in production)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test.testcases import LiveServerThread

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=shared)
    server.daemon = True
    server.start()
    assert server.is_ready.wait(timeout=10) and server.error is None, server.error
    yield f"http://127.0.0.1:{server.port}"
    server.terminate()
    server.join(timeout=5)
    for conn in shared.values():
        conn.dec_thread_sharing()


@pytest.fixture
def bridge_env(monkeypatch, transactional_db):
    key = Token.objects.create(user=TelephonyFactory()).key
    monkeypatch.setenv("AMI_USERNAME", AMI_USER)
    monkeypatch.setenv("AMI_SECRET", AMI_SECRET)
    monkeypatch.setenv("DISPATCH_TELEPHONY_TOKEN", key)
    return key


def bridge(ami: ReplayedAmi, url: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("pbx_bridge", "--ami", f"127.0.0.1:{ami.port}", "--url", url, "--once",
                 "--timeout", "60", stdout=out)  # fmt: skip
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_bridge_posts_the_recorded_calls_to_the_console(dispatch_url, bridge_env, replay):
    operator = OperatorFactory(username="ani")
    Extension.objects.create(number="101", operator=operator)
    ami = replay()
    summary = bridge(ami, dispatch_url)
    assert ami.login["Action"] == "Login" and ami.login["Events"] == "call"
    assert "Posted 5 events (0 repeats); 0 refused, 0 undelivered; 0 calls still open" in summary

    answered = PhoneCall.objects.get(call_id=ANSWERED)
    assert answered.state == CallState.ENDED and answered.caller_phone == "+6281377712345"
    assert (answered.extension, answered.operator) == ("101", operator)
    assert answered.ring_seconds == 7.0 and answered.talk_seconds == pytest.approx(88.005788)
    gave_up = PhoneCall.objects.get(call_id=ABANDONED)
    assert gave_up.state == CallState.ABANDONED and gave_up.caller_phone == "+6281299990000"
    assert gave_up.answered_at is None
    assert not PhoneCall.objects.filter(call_id="1796270410.4").exists()  # the office line

    # Asterisk restarted the bridge mid-call, say, and the same events come again: nothing
    # changes (idempotent per call and event).
    again = bridge(replay(), dispatch_url)
    assert "Posted 0 events (5 repeats)" in again
    assert PhoneCall.objects.count() == 2 and CallEvent.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_wrong_ami_secret_is_a_clear_error(dispatch_url, bridge_env, replay, monkeypatch):
    monkeypatch.setenv("AMI_SECRET", "salah")
    with pytest.raises(CommandError, match="AMI refused the login"):
        bridge(replay(), dispatch_url)
    assert PhoneCall.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_wrong_token_is_a_clear_error(dispatch_url, bridge_env, replay, monkeypatch):
    monkeypatch.setenv("DISPATCH_TELEPHONY_TOKEN", "0" * 40)
    with pytest.raises(CommandError, match="Dispatch refused the token"):
        bridge(replay(), dispatch_url)


def test_the_secrets_must_be_in_the_environment(monkeypatch):
    for name in ("AMI_USERNAME", "AMI_SECRET", "DISPATCH_TELEPHONY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CommandError, match="AMI_USERNAME, AMI_SECRET, DISPATCH_TELEPHONY_TOKEN"):
        call_command("pbx_bridge", "--ami", "127.0.0.1:5038", "--once")


def test_no_ami_listening_fails_within_the_login_timeout(monkeypatch):
    from telephony import bridge as module

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once closed
    run = module.run(host="127.0.0.1", port=port, username="u", secret="s",
                     poster=Poster("http://127.0.0.1:9", "t"), tracker=CallTracker(),
                     once=True, login_timeout=1)  # fmt: skip
    with pytest.raises(module.BridgeError, match="No AMI login"):
        asyncio.run(asyncio.wait_for(run, 20))


# --- Delivery: nothing lost while Dispatch is unreachable -----------------------------------------


class FlakyDispatch(BaseHTTPRequestHandler):
    """A real HTTP endpoint that answers 503 to the first two posts, then 201; 400 to a
    call_id of "bad"."""

    answers: list[int] = []
    bodies: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(body)
        status = 400 if b'"bad"' in body else (503 if len(type(self).bodies) <= 2 else 201)
        type(self).answers.append(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    FlakyDispatch.answers, FlakyDispatch.bodies = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyDispatch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_events_wait_and_are_retried_in_order_until_dispatch_answers(flaky):
    async def scenario():
        queue: asyncio.Queue = asyncio.Queue()
        result = Delivery()
        for cti in [CtiEvent("1", "ringing"), CtiEvent("bad", "ringing"), CtiEvent("1", "ended")]:
            queue.put_nowait(cti)
        sender = asyncio.create_task(
            deliver(queue, Poster(flaky, "t"), result, first_backoff=0.01, max_attempts=None)
        )
        await asyncio.wait_for(queue.join(), 10)
        sender.cancel()
        return result

    result = asyncio.run(scenario())
    assert FlakyDispatch.answers == [503, 503, 201, 400, 201]
    assert [b'"1"' in body for body in FlakyDispatch.bodies] == [True, True, True, False, True]
    assert result.posted == 2 and [d[1] for d in result.dropped] == [400]
