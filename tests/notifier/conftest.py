"""Fixtures of the notifier tests: an outbox client, the schema, flood limits, more workers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from tests.support.outbox import TELEGRAM_LIMITS
from tests.support.world import World
from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from tools.devstack.stack import Stack
from veil.core.db import Database
from veil.core.grpc_client import create_channel, service_name
from veil.core.outbox import Outbox
from veil.core.settings import DatabaseSettings
from veil.v1 import notifier_pb2, notifier_pb2_grpc


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
