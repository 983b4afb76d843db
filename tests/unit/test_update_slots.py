"""The gateway's bound on updates in flight: the rest wait in arrival order, and
the metrics read how many are in flight and waiting when Prometheus scrapes."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import generate_latest

from services.gateway.metrics import GatewayMetrics
from services.gateway.slots import UpdateSlots


def _series(metrics: GatewayMetrics) -> dict[str, float]:
    lines = generate_latest(metrics.registry).decode().splitlines()
    wanted = ("veil_gateway_updates_in_flight ", "veil_gateway_updates_waiting ")
    return {
        name.strip(): float(value)
        for line in lines
        if line.startswith(wanted)
        for name, value in [line.rsplit(" ", 1)]
    }


async def test_past_the_bound_updates_wait_in_arrival_order_and_are_counted() -> None:
    slots = UpdateSlots(2)
    metrics = GatewayMetrics()
    metrics.watch(slots)
    release = asyncio.Event()
    entered: list[int] = []

    async def update(n: int) -> None:
        async with slots:
            entered.append(n)
            await release.wait()

    tasks = [asyncio.create_task(update(n)) for n in range(5)]
    await asyncio.sleep(0)
    assert entered == [0, 1]
    assert _series(metrics) == {
        "veil_gateway_updates_in_flight": 2.0,
        "veil_gateway_updates_waiting": 3.0,
    }
    release.set()
    await asyncio.gather(*tasks)
    assert entered == [0, 1, 2, 3, 4]
    assert _series(metrics) == {
        "veil_gateway_updates_in_flight": 0.0,
        "veil_gateway_updates_waiting": 0.0,
    }


async def test_a_failed_update_frees_its_slot() -> None:
    slots = UpdateSlots(1)

    async def failing() -> None:
        async with slots:
            raise RuntimeError("handler failed")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            await failing()
    # The slot came back each time: another update enters at once.
    async with asyncio.timeout(1):
        async with slots:
            assert (slots.busy, slots.waiting) == (1, 0)
