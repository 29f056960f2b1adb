"""Web Push to phones in a pocket (SPEC §12, issue 40 §4): a message reaches a browser whose
tab is closed through the browser's push service (RFC 8030), signed with this server's VAPID
key (RFC 8292) and encrypted to the browser's own keys (RFC 8291, aes128gcm) by pywebpush.

Transport only, like the rest of this room: who is told what is the domain's (reports.push).
This module keeps the subscriptions (one per browser and device), checks the ones browsers
hand in, and sends — always off the request path, on this process's push threads: a slow or
unreachable push service never delays the action that caused the message. A push service
that answers 404 or 410 has dropped the subscription: it is deleted here. Anything else that
goes wrong is logged (one line per push service while it keeps failing) and never raised."""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import json
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import shared_cache
from core.validation import Errors

from .models import PushSubscription
from .vapid import vapid

if TYPE_CHECKING:
    import requests

# pywebpush (with requests and aiohttp) is imported where it is used: every process imports
# this module (reports.live), only the push threads send. The key: notifications.vapid.

logger = logging.getLogger(__name__)

# One push service's answer, connecting and reading (requests applies it to each).
TIMEOUT = 5.0
# Whether any browser has subscribed, in the shared cache: a city where nobody turned push
# on pays nothing for it — no query after each action (see anyone_subscribed).
ANYONE_KEY = "webpush:anyone"
# The push services' own limit on an encrypted message is 4 KB; ours are a few hundred bytes.
MAX_MESSAGE_BYTES = 3000
# Devices per user: a desk PC, a phone, a tablet, with room for browsers changed since. Each
# is a POST per message, so no one account may make the server send to hundreds.
MAX_PER_USER = 10


# --- What a browser hands in -------------------------------------------------------------------

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Subscription:
    """A browser's PushSubscription (its toJSON()), checked."""

    endpoint: str
    p256dh: str
    auth: str


def clean_subscription(endpoint: str, p256dh: str, auth: str) -> Subscription:
    """Checks a browser's subscription; raises ValidationError naming each bad field. The
    endpoint is where this server will POST, so it must be a push service's: https, on a
    public host (no address on this machine or its network), no credentials in it."""
    errors = Errors()
    _check_endpoint(errors, endpoint)
    public_key = _decoded(errors, "p256dh", p256dh, 65)
    if public_key is not None:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
        except ValueError:
            errors.add("keys", _("“p256dh” is not a P-256 public key."))
    _decoded(errors, "auth", auth, 16)
    errors.raise_if_any()
    return Subscription(endpoint=endpoint, p256dh=p256dh.rstrip("="), auth=auth.rstrip("="))


def _insecure_allowed() -> bool:
    return settings.DEBUG or settings.WEBPUSH_ALLOW_INSECURE_ENDPOINTS


def _check_endpoint(errors: Errors, endpoint: str) -> None:
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        port = parts.port  # ValueError when out of range or not a number
    except ValueError:
        errors.add("endpoint", _("The endpoint is not a valid address."))
        return
    local = host in LOCAL_HOSTS
    credentials = parts.username is not None or parts.password is not None
    if parts.scheme != "https" and not (parts.scheme == "http" and local and _insecure_allowed()):
        errors.add("endpoint", _("The endpoint must be an https:// address of a push service."))
    elif not host or port == 0 or credentials or parts.fragment:
        errors.add("endpoint", _("The endpoint is not a valid address."))
    elif _private_host(host) and not (local and _insecure_allowed()):
        errors.add("endpoint", _("The endpoint must be on a push service, not a local address."))


def _private_host(host: str) -> bool:
    if host in LOCAL_HOSTS or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host  # a bare name resolves inside this network
    return not address.is_global


def _decoded(errors: Errors, name: str, value: str, size: int) -> bytes | None:
    raw = None
    if _BASE64URL.match(value):
        with contextlib.suppress(binascii.Error, ValueError):
            raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    if raw is None or len(raw) != size:
        errors.add(
            "keys",
            _("“%(key)s” must be base64url of %(size)d bytes.") % {"key": name, "size": size},
        )
        return None
    return raw


# --- Subscriptions -----------------------------------------------------------------------------


def subscription_save(*, user, subscription: Subscription, device: str = "") -> bool:
    """Keeps the browser's subscription for `user`; True when it is new. Upserted by its
    endpoint: a browser where another user signed in before now pushes to this one. A user
    keeps their MAX_PER_USER newest subscriptions; older ones are forgotten."""
    with transaction.atomic():
        _row, created = PushSubscription.objects.update_or_create(
            endpoint=subscription.endpoint,
            defaults={
                "user": user,
                "p256dh": subscription.p256dh,
                "auth": subscription.auth,
                "device": device[:200],
            },
        )
        kept = PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")
        if stale := list(kept.values_list("pk", flat=True)[MAX_PER_USER:]):
            PushSubscription.objects.filter(pk__in=stale).delete()
    # Once it is committed: a subscription rolled back must not wake the push threads.
    transaction.on_commit(lambda: shared_cache.set(ANYONE_KEY, True, None))
    return created


def subscription_delete(*, user, endpoint: str) -> int:
    """Forgets the user's subscription at `endpoint` (the browser turned push off)."""
    deleted, _by_model = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


def anyone_subscribed() -> bool:
    """Whether any subscription exists: the shared cache's word, else the database's. A
    "no" is kept five minutes (a new subscription says "yes" at once, subscription_save) and
    never overwrites a "yes" written meanwhile."""
    known = shared_cache.get(ANYONE_KEY)
    if known is None:
        known = PushSubscription.objects.exists()
        if known:
            shared_cache.set(ANYONE_KEY, True, None)
        else:
            shared_cache.add(ANYONE_KEY, False, 300)
    return bool(known)


# --- Sending -----------------------------------------------------------------------------------


@dataclass
class Sent:
    """What one message did: delivered to, removed (404/410), failed (kept)."""

    delivered: int = 0
    removed: int = 0
    failed: int = 0


def send_later(audience: Callable[[], Iterable[int]], message: dict) -> None:
    """Sends `message` to the subscriptions of the users `audience()` names, on this
    process's push threads: the audience is resolved there too, so the caller (an action's
    after-commit publication) asks no query and waits for nothing."""

    def job() -> None:
        if anyone_subscribed():
            send_to_users(audience(), message)

    _background.submit(job)


def send_to_users(user_ids: Iterable[int], message: dict) -> Sent:
    """Sends `message` (a JSON object) to every subscription of these users, now, on this
    thread; deletes the subscriptions whose push service says they are gone. Never raises."""
    sent = Sent()
    try:
        rows = list(PushSubscription.objects.filter(user_id__in=user_ids))
        if not rows:
            return sent
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        if len(data.encode()) > MAX_MESSAGE_BYTES:
            logger.error("A Web Push message of %d bytes was not sent", len(data.encode()))
            return sent
        outcomes = {row.pk: _send_one(row, data, topic=message.get("tag", "")) for row in rows}
        delivered = [pk for pk, outcome in outcomes.items() if outcome == DELIVERED]
        removed = [pk for pk, outcome in outcomes.items() if outcome == REMOVED]
        if delivered:
            PushSubscription.objects.filter(pk__in=delivered).update(last_success_at=timezone.now())
        if removed:
            PushSubscription.objects.filter(pk__in=removed).delete()
        sent.delivered, sent.removed = len(delivered), len(removed)
        sent.failed = len(outcomes) - sent.delivered - sent.removed
    except Exception:
        logger.exception("Web Push messages could not be sent")
    return sent


DELIVERED, REMOVED, FAILED = "delivered", "removed", "failed"
# RFC 8030 §5.4: a topic is at most 32 characters of the base64url alphabet.
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _send_one(row: PushSubscription, data: str, *, topic: str) -> str:
    from pywebpush import WebPushException, webpush

    origin = _origin(row.endpoint)
    if not _public_destination(row.endpoint):
        _health.failed(origin, "it resolves to an address on this machine or its network")
        return FAILED
    # High urgency: a phone saving its battery still wakes for it (RFC 8030 §5.3). A topic
    # lets the push service replace a message about the same card that is still waiting.
    headers = {"Urgency": "high", **({"Topic": topic} if _TOPIC.match(topic) else {})}
    try:
        webpush(
            subscription_info={
                "endpoint": row.endpoint,
                "keys": {"p256dh": row.p256dh, "auth": row.auth},
            },
            data=data,
            vapid_private_key=vapid(),
            vapid_claims={"sub": settings.WEBPUSH_SUBJECT},  # aud and exp: pywebpush's
            content_encoding="aes128gcm",
            ttl=settings.WEBPUSH_TTL,
            timeout=TIMEOUT,
            headers=headers,
            requests_session=_session(),
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            logger.info("A push subscription of user %s is gone (%s): removed", row.user_id, status)
            _health.back(origin)
            return REMOVED
        _health.failed(origin, f"HTTP {status}" if status else str(error)[:200])
        return FAILED
    except Exception as error:  # a timeout, a refused connection, a broken key
        _health.failed(origin, f"{type(error).__name__}: {error}"[:200])
        return FAILED
    _health.back(origin)
    return DELIVERED


def _public_destination(endpoint: str) -> bool:
    """Whether every address the endpoint's host has now is a public one (the check of
    clean_subscription, again at sending: a name may point inside the network)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if host in LOCAL_HOSTS and _insecure_allowed():
        return True
    try:
        found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return True  # unresolvable: the POST fails and says so
    addresses = {ipaddress.ip_address(entry[4][0].split("%")[0]) for entry in found}
    return all(address.is_global for address in addresses)


def _origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


_sessions = threading.local()


def _session() -> requests.Session:
    """This push thread's HTTP session (its connections to push services are kept)."""
    session = getattr(_sessions, "session", None)
    if session is None:
        import requests

        session = _sessions.session = requests.Session()
        # A push service answers; it does not send us elsewhere: an endpoint that redirects
        # must not make this server POST to an address it would have refused.
        session.max_redirects = 0
        session.trust_env = False  # no proxy or .netrc from the environment
    return session


class _Health:
    """One log line when a push service starts failing and one when it answers again, not
    one per message: a push service that is down for an hour is one warning."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing: set[str] = set()

    def failed(self, origin: str, reason: str) -> None:
        with self._lock:
            first = origin not in self._failing
            self._failing.add(origin)
        if first:
            logger.warning(
                "The push service %s did not take a message (%s); the subscriptions are kept",
                origin,
                reason,
            )

    def back(self, origin: str) -> None:
        with self._lock:
            was_failing = origin in self._failing
            self._failing.discard(origin)
        if was_failing:
            logger.info("The push service %s takes messages again", origin)


_health = _Health()


class _Background:
    """This process's push threads: a few, so that one slow push service does not hold the
    others' messages; at most MAX_PENDING jobs waiting (more are dropped, logged). A forked
    child (gunicorn, Celery) starts its own on first use."""

    THREADS = 4
    MAX_PENDING = 1000

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._pid: int | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending = 0

    def submit(self, job: Callable[[], object]) -> bool:
        with self._lock:
            if self._pending >= self.MAX_PENDING:
                logger.error("Web Push is %d messages behind: one was dropped", self._pending)
                return False
            if self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="webpush")
                self._pid, self._pending = os.getpid(), 0
            self._pending += 1
            pool = self._pool
        pool.submit(self._run, job)
        return True

    def _run(self, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:
            logger.exception("A Web Push job failed")
        finally:
            connections.close_all()  # this thread's own; the next job may be hours away
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Waits until every job submitted so far has run; False after `timeout` seconds."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)


_background = _Background()


def wait_idle(timeout: float = 10.0) -> bool:
    """Blocks until this process has sent every push it was given (tests, shutdown)."""
    return _background.wait_idle(timeout)
