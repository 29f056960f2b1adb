"""Bounded waits and certain cleanup for the tests (issue 16 §2): every wait a test makes ends
by a deadline of its own, and every thread, task and process a test starts is stopped by it,
whether the test passes or not. tests/test_hygiene.py checks the suite for unbounded calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

# A command a test runs (manage.py migrate, a settings probe) finishes within this, or the
# test fails naming it instead of running into pytest-timeout's stack dump.
COMMAND_TIMEOUT = 60
REPO_ROOT = Path(__file__).resolve().parent.parent


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python *args` in the repository with `env`, output captured, within COMMAND_TIMEOUT."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


def join_threads(threads: list[threading.Thread], seconds: float = 30.0) -> None:
    """Joins every thread within `seconds` in all; fails if any is still running then."""
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [thread.name for thread in threads if thread.is_alive()]
    assert not alive, f"{len(alive)} thread(s) still running after {seconds:.0f} s: {alive}"


def stop_process(process: subprocess.Popen, seconds: float = 10.0) -> None:
    """Terminates `process`, kills it if it has not exited within `seconds`, and reaps it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=seconds)


# --- asyncio -------------------------------------------------------------------------------------


async def recv_json(ws, timeout: float = 5.0):
    """The next message on a `websockets` connection, decoded; TimeoutError after `timeout`."""
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))


async def close_quietly(ws, timeout: float = 5.0) -> None:
    """Closes a `websockets` connection however it is (already closed, broken, cut)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), timeout=timeout)


async def stop_tasks(*tasks: asyncio.Future, seconds: float = 10.0) -> list[asyncio.Future]:
    """Cancels the tasks until each has ended, for at most `seconds` (a cancellation can be
    lost, see notifications.layer, so once is not enough); returns those still running."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    pending = [task for task in tasks if not task.done()]
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.2)
        pending = [task for task in pending if not task.done()]
    for task in tasks:  # retrieved, so that asyncio does not log them as never retrieved
        if task.done() and not task.cancelled():
            task.exception()
    return pending


def run_bounded(coroutine, cleanup: float = 10.0):
    """asyncio.run() whose shutdown is bounded: asyncio.run cancels leftover tasks once and
    then waits for them for ever, which hangs on a task that lost its cancellation. Here the
    leftovers are cancelled again and again for `cleanup` seconds, then the loop is closed.
    The default executor's threads are waited for, as asyncio.run does (a thread cannot be
    cancelled): what a scenario runs in one must have a bound of its own."""
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coroutine)
    finally:
        try:
            if leftovers := asyncio.all_tasks(loop):
                loop.run_until_complete(stop_tasks(*leftovers, seconds=cleanup))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def received_until_quiet(
    communicator, quiet: float, *, first: float | None = None, limit: float = 10.0
) -> list:
    """Every JSON message a Channels WebsocketCommunicator receives until none arrives for
    `quiet` seconds (for the first one: `first`, if given). A documented quiet period, and
    bounded: messages still arriving after `limit` seconds fail the test."""
    messages, wait = [], quiet if first is None else first
    deadline = time.monotonic() + limit
    while not await communicator.receive_nothing(timeout=wait):
        assert time.monotonic() < deadline, (
            f"still receiving after {limit:.0f} s ({len(messages)} messages): {messages[-3:]}"
        )
        messages.append(await communicator.receive_json_from(timeout=1))
        wait = quiet
    return messages
