"""notifications.fanout's own loops: they must stop when their task is cancelled.

The layer here is a stand-in for one behaviour of channels-redis that the real suite hit only
now and then (a CI run hung on it): when several receivers are cancelled at once, its
receive() can raise AssertionError instead of CancelledError."""

import asyncio

from notifications.fanout import ProcessFanout

from .waiting import run_bounded


class LayerTurningCancellationIntoAnError:
    async def new_channel(self):
        return "specific.test!fanout"

    async def group_add(self, group, channel):
        pass

    async def group_discard(self, group, channel):
        pass

    async def receive(self, channel):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise AssertionError("receive lock still held") from None


class Dashboard:
    async def deliver(self, texts):
        pass

    async def layer_lost(self):
        pass


def test_the_reader_stops_when_cancelled_whatever_the_layer_raises():
    async def scenario():
        fanout, dashboard = ProcessFanout(LayerTurningCancellationIntoAnError()), Dashboard()
        await fanout.join(dashboard, ["agency.dishub"])
        await asyncio.sleep(0)  # the reader is waiting in receive()
        reader = fanout._tasks[0]
        reader.cancel()
        done, _ = await asyncio.wait([reader], timeout=3)
        fanout.leave(dashboard)  # stops the rest
        await asyncio.sleep(0.1)
        return reader in done

    # Not asyncio.run(): its shutdown cancels leftover tasks and waits for them for ever,
    # which is exactly what hung when the reader took the cancellation for an outage and
    # retried. run_bounded gives up on them after a bound.
    assert run_bounded(scenario())


class LayerLosingTheCancellation(LayerTurningCancellationIntoAnError):
    """Worse: the cancellation comes out as a timeout and the task is no longer cancelling
    (as when asyncio.timeout inside a client library takes it for its own)."""

    async def receive(self, channel):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()
            raise TimeoutError("read timed out") from None


def test_the_reader_stops_once_the_fanout_is_given_up_even_if_a_cancellation_is_lost():
    async def scenario():
        fanout, dashboard = ProcessFanout(LayerLosingTheCancellation()), Dashboard()
        await fanout.join(dashboard, ["agency.dishub"])
        await asyncio.sleep(0)
        reader = fanout._tasks[0]
        reader.cancel()  # lost: the reader takes it for an outage and retries
        await asyncio.sleep(0.1)
        fanout.leave(dashboard)  # the last dashboard left: the fan-out stops
        done, _ = await asyncio.wait([reader], timeout=3)
        return reader in done

    assert run_bounded(scenario())
