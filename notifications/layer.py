"""Reading from the channel layer so that a reader can always be stopped.

On Python 3.11 a cancellation can be lost: `asyncio.wait_for` returns its result instead of
raising CancelledError when the cancel lands in the same loop step as the awaited task ends
(CPython bpo-42130 / gh-86296, fixed in 3.12). redis-py sends every command through
`wait_for` when `socket_timeout` is set (ours is, see settings), so a task cancelled while
`layer.receive()` reconnects or sends lives on, and channels-redis's `receive_single` keeps
issuing BZPOPMIN every 5 s for a channel nobody will write to again, for ever. Nothing
awaiting that task finishes: a consumer that disconnected stays alive (a stuck worker in
production), and an event loop's shutdown (`asyncio.run`, a test's `async_to_sync`) hangs.
This was the suite's intermittent hang; tests/test_layer.py reproduces it.

`stoppable_receive()` runs the layer's receive in a task of its own and, when cancelled,
cancels that task again until it has really ended (bounded), then re-raises"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)

# A lost cancellation is lost once: the next one lands in BZPOPMIN and ends the read.
RECANCEL_EVERY = 0.2
RECANCEL_FOR = 10.0


async def stoppable_receive(layer, channel: str) -> dict:
    """`layer.receive(channel)` that, cancelled, returns only once the read has stopped."""
    reading = asyncio.ensure_future(layer.receive(channel))
    try:
        return await asyncio.shield(reading)
    except asyncio.CancelledError:
        await stop(reading)
        raise


async def stop(task: asyncio.Task) -> None:
    """Cancels `task` until it is done, for at most RECANCEL_FOR seconds."""
    deadline = asyncio.get_running_loop().time() + RECANCEL_FOR
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=RECANCEL_EVERY)
        if asyncio.get_running_loop().time() > deadline and not task.done():
            logger.error("A channel-layer read could not be stopped: %r", task)
            return
    if not task.cancelled() and task.exception() is not None:
        logger.debug("Channel-layer read ended with %r", task.exception())


async def stop_other_tasks() -> None:
    """Stops every task of the running loop but the caller's, each with `stop` (an event
    loop's own shutdown cancels only once, and waits for ever on a task that lost it)."""
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    await asyncio.gather(*(stop(task) for task in others), return_exceptions=True)
