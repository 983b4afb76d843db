"""Fixtures of the notifier tests: an outbox client, the schema, flood limits, more workers."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from services.notifier.models import outbox as outbox_table
from tests.e2e.world import Member, World
from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from tools.devstack.stack import Stack
from veil.core.db import Database
from veil.core.grpc_client import create_channel, service_name
from veil.core.outbox import Outbox, OutgoingCall, Priority
from veil.core.settings import DatabaseSettings
from veil.v1 import notifier_pb2, notifier_pb2_grpc

T = TypeVar("T")

# Telegram's limits, as the emulator enforces them when flood control is on.
TELEGRAM_LIMITS = {
    "per_bot_per_second": 30,
    "per_private_chat_per_second": 1,
    "per_group_per_minute": 20,
}


@pytest.fixture(scope="module")
async def outbox(stack: Stack) -> AsyncIterator[Outbox]:
    """The shared client every service uses, pointed at the test stack's notifier."""
    client, channel = Outbox.connect(f"127.0.0.1:{stack.ports.notifier}")
    yield client
    await channel.close()


@pytest.fixture(scope="module")
async def notifier(stack: Stack) -> AsyncIterator[notifier_pb2_grpc.NotifierServiceStub]:
    """The notifier's gRPC API (for what the outbox client does not wrap)."""
    channel = create_channel(
        f"127.0.0.1:{stack.ports.notifier}",
        [service_name(notifier_pb2.DESCRIPTOR, "NotifierService")],
    )
    yield notifier_pb2_grpc.NotifierServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="module")
async def notifier_db(infra_config: InfraConfig) -> AsyncIterator[Database]:
    """The notifier schema on the primary, to read what became of each message."""
    dsn = infra_config.pg_dsn(SERVICE_ROLES["notifier"])
    db = Database.from_settings(DatabaseSettings(db_primary_dsn=dsn), "notifier")  # type: ignore[arg-type]
    yield db
    await db.dispose()


@pytest.fixture
async def flood(world: World) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """Switch the emulator's flood control on (Telegram's limits unless given).

    Off again after the test. Members are set up before it is switched on, so
    that the gateway's own answers to them do not meet it.
    """

    async def enable(**limits: int) -> None:
        await world.control("POST", "/flood", {"enabled": True, **TELEGRAM_LIMITS, **limits})

    yield enable
    await world.control("POST", "/flood", {"enabled": False, **TELEGRAM_LIMITS})


@pytest.fixture
def more_workers(stack: Stack) -> Iterator[Callable[[int], list[tuple[str, int, int]]]]:
    """Start n more notifier worker processes beside the stack's own one.

    Returns (instance name, pid, metrics port) each; they are stopped after the test.
    """
    started: list[str] = []

    def start(n: int) -> list[tuple[str, int, int]]:
        result = []
        for _ in range(n):
            name = f"notifier-worker-{secrets.token_hex(3)}"
            process, port = stack.start_worker(name)
            started.append(name)
            result.append((name, process.pid, port))
        return result

    yield start
    for name in started:
        stack.stop_process(name)  # a no-op for one the test killed
        if name in stack.extra_workers:
            stack.extra_workers.remove(name)


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
