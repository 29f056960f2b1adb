"""Channel-layer reads can always be stopped (issue 16 §1: the suite's hang). On the Redis
layer a cancellation that lands as a reply arrives can be lost inside channels-redis, and the
read then never ends; notifications.layer.stoppable_receive cancels again until it has."""

import asyncio
import random

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from notifications.layer import stoppable_receive

from .waiting import run_bounded, stop_tasks

# The layer under test is the configured one: in CI's second pass, channels-redis.
pytestmark = pytest.mark.services

CANCELLATIONS = 200


async def cancel_at_random(receive, layer) -> list[asyncio.Task]:
    """Starts and cancels CANCELLATIONS reads, each at a random moment; returns the ones
    still running one second after their cancellation."""
    stuck = []
    for _ in range(CANCELLATIONS):
        channel = await layer.new_channel()
        task = asyncio.ensure_future(receive(layer, channel))
        await asyncio.sleep(random.uniform(0, 0.02))
        task.cancel()
        await asyncio.wait([task], timeout=1)
        if not task.done():
            stuck.append(task)
    return stuck


def test_a_cancelled_read_always_ends():
    layer = get_channel_layer()

    async def scenario():
        stuck = await cancel_at_random(stoppable_receive, layer)
        await stop_tasks(*stuck)  # a failing run does not leave them reading
        assert stuck == []

    run_bounded(scenario())


def test_a_stoppable_read_still_receives():
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "hello"})
        assert await asyncio.wait_for(stoppable_receive(layer, channel), 5) == {"type": "hello"}

    run_bounded(scenario())


def test_the_raw_redis_read_is_what_loses_cancellations():
    """Documents why stoppable_receive exists: channels-redis's own receive, cancelled the
    same way, is sometimes still running (skipped if this run happened not to hit it)."""
    if not settings.REDIS_URL:
        pytest.skip("the lost cancellation is channels-redis's: run with REDIS_URL set")
    layer = get_channel_layer()

    async def raw(layer, channel):
        return await layer.receive(channel)

    async def scenario():
        stuck = await cancel_at_random(raw, layer)
        # End them, as stoppable_receive would (cancelled again until done, bounded).
        still_running = await stop_tasks(*stuck)
        assert still_running == [], f"{len(still_running)} raw reads could not be stopped"
        return len(stuck)

    if run_bounded(scenario()) == 0:
        pytest.skip(f"no lost cancellation in {CANCELLATIONS} this time")
