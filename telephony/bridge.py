"""The AMI bridge (`manage.py pbx_bridge --ami host:5038`): logs in to Asterisk's Manager
Interface with panoramisk, turns Newchannel / Newstate / Hangup into CTI events
(telephony.ami.CallTracker) and posts them to /api/v1/telephony/events/ with the phone
system's token, in order.

Nothing is lost on the way: events wait in a queue while Dispatch is unreachable or
answers 5xx / 429, and are retried with backoff (the endpoint is idempotent per call and
event, so a retry after a lost answer is harmless). A 4xx other than 429 is a bad event
that no retry will fix: it is logged with Dispatch's answer and dropped. panoramisk
reconnects to the AMI by itself when the connection drops; calls that began while it was
down are missed by the bridge (Asterisk does not replay events), which is why the dialplan
`CURL()` set-up in the README is the alternative.

`once=True` (for a recorded session, or a test) stops when the AMI connection closes and
every event is delivered, with bounded retries."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from panoramisk import Manager

from .ami import CallTracker, CtiEvent

log = logging.getLogger("telephony.bridge")

EVENTS_PATH = "/api/v1/telephony/events/"


class BridgeError(Exception):
    """The bridge cannot run (AMI unreachable or refusing the login, Dispatch refusing the
    token); the message says which and what to check."""


@dataclass
class Delivery:
    """What the bridge did, for the command's summary and the tests."""

    posted: int = 0
    repeated: int = 0
    dropped: list[tuple[dict, int, str]] = field(default_factory=list)
    undelivered: list[dict] = field(default_factory=list)


class Poster:
    """POSTs one CTI event to Dispatch; answers (status, body). Network failures raise
    OSError (urllib.error.URLError is one)."""

    def __init__(self, url: str, token: str, *, timeout: float = 5.0):
        self.endpoint = url.rstrip("/") + EVENTS_PATH
        self.token = token
        self.timeout = timeout

    def post(self, body: dict) -> tuple[int, str]:
        request = urllib.request.Request(
            self.endpoint,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read(2000).decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read(2000).decode("utf-8", "replace")


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


async def deliver(
    queue: asyncio.Queue[CtiEvent],
    poster: Poster,
    result: Delivery,
    *,
    max_attempts: int | None = None,
    first_backoff: float = 0.5,
    max_backoff: float = 30.0,
) -> None:
    """Posts the queue's events in order, forever. `max_attempts` None retries an event
    until it is delivered; otherwise it is counted undelivered after that many tries."""
    while True:
        cti = await queue.get()
        body = cti.as_json()
        backoff, attempt = first_backoff, 0
        try:
            while True:
                attempt += 1
                try:
                    status, answer = await asyncio.to_thread(poster.post, body)
                except OSError as error:
                    status, answer = 0, str(error)
                if status in (401, 403):
                    raise BridgeError(
                        f"Dispatch refused the token ({status}): give the bridge the token of "
                        f"the phone system's account (role telephony). {answer[:200]}"
                    )
                if status in (200, 201):
                    result.posted += status == 201
                    result.repeated += status == 200
                    break
                if status and not _retryable(status):
                    log.error("Dispatch refused %s (%s): %s", body, status, answer[:500])
                    result.dropped.append((body, status, answer[:500]))
                    break
                if max_attempts is not None and attempt >= max_attempts:
                    log.error("Not delivered after %s tries: %s (%s)", attempt, body, answer)
                    result.undelivered.append(body)
                    break
                log.warning("Dispatch unreachable (%s %s); retrying in %.1f s", status,
                            answer[:200], backoff)  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, max_backoff)
        finally:
            queue.task_done()


class _Manager(Manager):
    """panoramisk's Manager, telling the bridge whether the login was accepted."""

    def __init__(self, **config):
        self.logged_in = asyncio.Event()
        self.refused = asyncio.Event()
        self.disconnected = asyncio.Event()
        super().__init__(on_disconnect=lambda manager, exc: self.disconnected.set(), **config)

    def login(self, future):
        accepted = super().login(future)
        (self.logged_in if accepted else self.refused).set()
        return accepted


async def run(
    *,
    host: str,
    port: int,
    username: str,
    secret: str,
    poster: Poster,
    tracker: CallTracker,
    once: bool = False,
    login_timeout: float = 10.0,
) -> Delivery:
    """Runs the bridge: until cancelled, or with `once` until the AMI connection closes and
    the queue is empty."""
    queue: asyncio.Queue[CtiEvent] = asyncio.Queue()
    result = Delivery()
    manager = _Manager(
        loop=asyncio.get_running_loop(),
        host=host,
        port=port,
        username=username,
        secret=secret,
        events="call",
        ping_delay=30,
        ping_interval=30,
        # A recorded session ends with the connection: no reconnecting then.
        reconnect_timeout=3600 if once else 2,
    )

    def on_event(_manager, event) -> None:
        for cti in tracker.feed(event):
            log.info("%s %s", cti.event, cti.call_id)
            queue.put_nowait(cti)

    for name in ("Newchannel", "Newstate", "Hangup"):
        manager.register_event(name, on_event)
    sender = asyncio.create_task(deliver(queue, poster, result, max_attempts=5 if once else None))
    try:
        manager.connect()
        await _logged_in(manager, host, port, login_timeout)
        log.info("Logged in to the AMI at %s:%s as %s", host, port, username)
        if not once:
            await _until_failed(sender)
        await _first(manager.disconnected.wait(), sender)
        await _first(queue.join(), sender)
        return result
    finally:
        manager.close()
        sender.cancel()


async def _logged_in(manager: _Manager, host: str, port: int, timeout: float) -> None:
    waits = [asyncio.ensure_future(manager.logged_in.wait()),
             asyncio.ensure_future(manager.refused.wait())]  # fmt: skip
    done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for wait in pending:
        wait.cancel()
    if manager.refused.is_set():
        raise BridgeError(
            "The AMI refused the login: check AMI_USERNAME / AMI_SECRET against manager.conf "
            "(the user needs `read = call`)."
        )
    if not done:
        raise BridgeError(
            f"No AMI login at {host}:{port} within {timeout:.0f} s: is Asterisk running with "
            "the manager enabled (manager.conf `enabled = yes`, port 5038) and reachable?"
        )


async def _until_failed(sender: asyncio.Task) -> None:
    await sender  # returns only by raising (BridgeError) or being cancelled


async def _first(wait, sender: asyncio.Task) -> None:
    """Awaits `wait`, unless the sender fails first (then its error is raised)."""
    waiting = asyncio.ensure_future(wait)
    await asyncio.wait([waiting, sender], return_when=asyncio.FIRST_COMPLETED)
    if sender.done():
        waiting.cancel()
        sender.result()
    await waiting
