"""Helpers of the tests that go through the notifier's outbox: rows, waits, calls, metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from services.notifier.models import outbox as outbox_table
from tests.support.world import Member, World
from veil.core.db import Database
from veil.core.outbox import OutgoingCall, Priority

T = TypeVar("T")


# Telegram's limits, as the emulator enforces them when flood control is on.
TELEGRAM_LIMITS = {
    "per_bot_per_second": 30,
    "per_private_chat_per_second": 1,
    "per_group_per_minute": 20,
}


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


async def bot_calls(world: World, bot_id: int, method: str = "") -> list[dict[str, Any]]:
    """Every Bot API call a bot made (the emulator's log), oldest first."""
    query = f"?method={method}" if method else ""
    return list((await world.control("GET", f"/bots/{bot_id}/calls{query}"))["calls"])


async def rows(db: Database, ids: Sequence[int]) -> list[Any]:
    """The outbox rows of ``ids``, in that order."""
    async with db.read_own() as conn:
        found = {
            r.id: r
            for r in await conn.execute(select(outbox_table).where(outbox_table.c.id.in_(ids)))
        }
    return [found[i] for i in ids]


async def settled(db: Database, ids: Sequence[int], within: float = 20.0) -> list[Any]:
    """The rows of ``ids`` once none of them is queued or sending any more."""
    return await wait_for(
        lambda: rows(db, ids),
        lambda found: all(r.status not in ("queued", "sending") for r in found),
        within=within,
        interval=0.2,
    )


async def started_members(community: World.Community, n: int) -> list[Member]:
    """``n`` members who opened the bot (so that it may write to them)."""
    members = [community.member() for _ in range(n)]
    gate = asyncio.Semaphore(20)

    async def start(member: Member) -> None:
        async with gate:
            await member.start()

    await asyncio.gather(*(start(m) for m in members))
    return members


def text_call(
    community: World.Community,
    chat_id: int,
    text: str,
    key: str,
    *,
    priority: Priority = Priority.NOTIFICATION,
    **extra: Any,
) -> OutgoingCall:
    """A sendMessage through the notifier."""
    return OutgoingCall(
        community_id=community.id,
        method="sendMessage",
        chat_id=chat_id,
        params={"chat_id": chat_id, "text": text},
        idempotency_key=key,
        priority=priority,
        **extra,
    )


def labels_key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A hashable form of a sample's labels."""
    return tuple(sorted(labels.items()))


async def scrape(
    http: aiohttp.ClientSession, port: int
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A worker's /metrics page as {(sample name, labels): value}."""
    async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        page = await response.text()
    return {
        (sample.name, labels_key(sample.labels)): float(sample.value)
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }
