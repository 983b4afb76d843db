"""gRPC channels straight to the services of the test stack, and the confessions
schema straight, its statements counted, for tests of its repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from services.confessions.sealed import MemberSeal
from tests.support.statements import CountedDatabase
from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from tools.devstack.stack import Stack
from veil.core.db import Database
from veil.core.sealing import Keyring
from veil.core.settings import DatabaseSettings

# Process → the gRPC services it serves.
SERVICE_NAMES = {
    "confessions": (
        "veil.v1.CommunitiesService",
        "veil.v1.MembersService",
        "veil.v1.ConfessionsService",
    ),
    "social": ("veil.v1.SocialService",),
    "notifier": ("veil.v1.NotifierService",),
}


@pytest.fixture(scope="module")
async def channels(stack: Stack) -> AsyncIterator[dict[str, grpc.aio.Channel]]:
    """One channel per service, closed with the module."""
    opened = {
        name: grpc.aio.insecure_channel(f"127.0.0.1:{getattr(stack.ports, name)}")
        for name in SERVICE_NAMES
    }
    yield opened
    for channel in opened.values():
        await channel.close()


@pytest.fixture
async def counted(infra_config: InfraConfig, stack: Any) -> AsyncIterator[CountedDatabase]:
    """The confessions schema on the primary and the replica, its statements counted."""
    role = SERVICE_ROLES["confessions"]
    settings = DatabaseSettings(
        db_primary_dsn=infra_config.pg_dsn(role),  # type: ignore[arg-type]
        db_replica_dsn=infra_config.pg_dsn(role, replica=True),  # type: ignore[arg-type]
    )
    counted = CountedDatabase(settings, "confessions")
    yield counted
    await counted.db.dispose()


@pytest.fixture
def database(counted: CountedDatabase) -> Database:
    """The counted database itself."""
    return counted.db


@pytest.fixture
def seal(seal_keys: Keyring) -> MemberSeal:
    """Members and tokens sealed under the stack's keys, as its services seal them."""
    return MemberSeal(seal_keys)
