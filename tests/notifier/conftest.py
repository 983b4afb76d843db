"""Fixtures of the notifier tests: an outbox client to the test stack's notifier."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest

from tools.devstack.stack import Stack
from veil.core.outbox import Outbox

T = TypeVar("T")


@pytest.fixture(scope="module")
async def outbox(stack: Stack) -> AsyncIterator[Outbox]:
    """The shared client every service uses, pointed at the test stack's notifier."""
    client, channel = Outbox.connect(f"127.0.0.1:{stack.ports.notifier}")
    yield client
    await channel.close()


async def wait_for(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    within: float = 20.0,
    interval: float = 0.1,
) -> T:
    """Poll ``probe`` until ``done`` holds for its result; fail with the last one."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last value: {value!r}")
        await asyncio.sleep(interval)
