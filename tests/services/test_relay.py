"""The relay (veil/core/relay.py) on a real Postgres: calls written beside a
change, sent on in batches, never lost, never sent by two replicas, and taken
back by an erasure while they wait.

The confessions schema of a scratch database (no service drains it) holds the
table, as migration 0011 creates it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import grpc
import pytest
from alembic import command
from prometheus_client import CollectorRegistry

from services.confessions import registration, submission
from services.confessions.members_repository import MembersRepository
from services.confessions.models import relay as relay_table
from services.confessions.rows import Erasure
from tests.services.test_migrations import SEAL, _dsn, _migrate, _sql, scratch
from tests.support.communities import new_community
from tools.devstack.infra.config import InfraConfig
from veil.core import migrations
from veil.core.db import Database
from veil.core.grpc_errors import refused_as_sent
from veil.core.outbox import card_key
from veil.core.relay import Relay, RelayMetrics
from veil.core.settings import DatabaseSettings

__all__ = ["scratch"]


@pytest.fixture
async def confessions_db(infra_config: InfraConfig, scratch: Database) -> AsyncIterator[Database]:
    """The scratch database's confessions schema at head."""
    await _migrate(infra_config, "confessions", "head")
    db = Database.from_settings(
        DatabaseSettings(db_primary_dsn=_dsn(infra_config)),  # type: ignore[arg-type]
        "confessions",
    )
    yield db
    await db.dispose()


class Receiver:
    """The other side: records each batch; fails or refuses when told to."""

    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []
        self.failing = False
        self.refusing: set[bytes] = set()

    async def send(self, payloads: list[bytes]) -> None:
        if self.failing:
            raise ConnectionError("the receiver is away")
        if self.refusing & set(payloads):
            raise ValueError("refused")
        self.batches.append(payloads)

    @property
    def sent(self) -> list[bytes]:
        return [p for batch in self.batches for p in batch]


def _relay(db: Database, receiver: Receiver, **kwargs: object) -> Relay:
    return Relay(
        db,
        relay_table,
        receiver.send,
        name="test",
        refused=lambda error: isinstance(error, ValueError),
        **kwargs,  # type: ignore[arg-type]
    )


async def _waiting(infra_config: InfraConfig) -> str:
    return await _sql(infra_config, "SELECT count(*) FROM confessions.relay")


async def test_calls_of_several_requests_go_in_one_send_oldest_first(
    confessions_db: Database, infra_config: InfraConfig
) -> None:
    receiver = Receiver()
    relay = _relay(confessions_db, receiver)
    await relay.add(["k1"], [b"first"])
    await relay.add(["k2", "k3"], [b"second", b"third"])
    assert await relay.drain() == 3
    assert receiver.batches == [[b"first", b"second", b"third"]]
    assert await relay.drain() == 0
    assert await _waiting(infra_config) == "0"


async def test_a_send_that_fails_keeps_its_rows_for_the_next_turn(
    confessions_db: Database, infra_config: InfraConfig
) -> None:
    receiver = Receiver()
    relay = _relay(confessions_db, receiver)
    await relay.add(["k1", "k2"], [b"one", b"two"])
    receiver.failing = True
    with pytest.raises(ConnectionError):
        await relay.drain()
    assert await _waiting(infra_config) == "2"
    receiver.failing = False
    assert await relay.drain() == 2
    assert receiver.sent == [b"one", b"two"]


async def test_a_refused_call_is_dropped_and_the_others_still_go(
    confessions_db: Database, infra_config: InfraConfig
) -> None:
    receiver = Receiver()
    receiver.refusing = {b"poison"}
    registry = CollectorRegistry()
    relay = _relay(confessions_db, receiver, metrics=RelayMetrics(registry))
    await relay.add(["k1", "k2", "k3"], [b"before", b"poison", b"after"])
    assert await relay.drain() == 3
    assert receiver.sent == [b"before", b"after"]
    assert await _waiting(infra_config) == "0"
    # The dropped call is counted as dropped, not as relayed.
    labels = {"relay": "test"}
    assert registry.get_sample_value("veil_relay_relayed_total", labels) == 2
    assert registry.get_sample_value("veil_relay_dropped_total", labels) == 1


async def test_two_replicas_never_send_the_same_call(
    confessions_db: Database, infra_config: InfraConfig
) -> None:
    held = asyncio.Event()
    release = asyncio.Event()
    first: list[list[bytes]] = []

    async def slow(payloads: list[bytes]) -> None:
        first.append(payloads)
        held.set()
        await release.wait()

    receiver = Receiver()
    one = Relay(confessions_db, relay_table, slow, name="one")
    other = _relay(confessions_db, receiver)
    await one.add(["k1", "k2"], [b"a", b"b"])
    draining = asyncio.ensure_future(one.drain())
    await held.wait()
    # The rows being sent are locked: the other replica skips them.
    assert await other.drain() == 0
    await other.add(["k3"], [b"c"])
    assert await other.drain() == 1
    release.set()
    assert await draining == 2
    assert first == [[b"a", b"b"]] and receiver.sent == [b"c"]
    assert await _waiting(infra_config) == "0"


async def test_running_relay_sends_what_is_added_and_drains_when_stopped(
    confessions_db: Database, infra_config: InfraConfig
) -> None:
    receiver = Receiver()
    sent = asyncio.Event()

    async def send(payloads: list[bytes]) -> None:
        await receiver.send(payloads)
        sent.set()

    relay = Relay(confessions_db, relay_table, send, name="run", linger=0.01, sweep=60)
    async with AsyncExitStack() as closing:
        relay.start(closing)
        await relay.add(["k1"], [b"soon"])
        await asyncio.wait_for(sent.wait(), 30)
        assert receiver.sent == [b"soon"]
        # Stopping sends what waits once more (here: a call added just now).
        await relay.add(["k2"], [b"at the end"])
    assert receiver.sent == [b"soon", b"at the end"]
    assert await _waiting(infra_config) == "0"


async def test_an_erasure_takes_back_the_members_waiting_cards(
    confessions_db: Database, infra_config: InfraConfig
) -> None:
    community = await new_community(confessions_db, SEAL, "relayed")
    member, _ = await registration.register_member(
        confessions_db, SEAL, community.id, 4747, "subject-4747"
    )
    stored = await submission.store(confessions_db, community.id, member.id, "erase me", "r:1")
    receiver = Receiver()
    relay = _relay(confessions_db, receiver)
    mine = card_key(stored.confession.id)
    await relay.add([mine, "card:someone-else"], [b"my card", b"their card"])

    async def queue_edits(erasure: Erasure) -> None:
        # Where the service erases the notifier's queue (nothing here).
        assert [card.confession_id for card in erasure.cards] == [stored.confession.id]

    erased = await MembersRepository(confessions_db, SEAL).erase_member(
        community.id, 4747, "subject-4747", queue_edits
    )
    assert erased is not None
    assert await _waiting(infra_config) == "1"
    assert await relay.drain() == 1
    assert receiver.sent == [b"their card"]


def test_a_refusal_is_what_no_retry_changes() -> None:
    def failed(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
        return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata())

    assert refused_as_sent(failed(grpc.StatusCode.INVALID_ARGUMENT))
    assert not refused_as_sent(failed(grpc.StatusCode.UNAVAILABLE))
    assert not refused_as_sent(ConnectionError())


async def test_the_migration_will_not_drop_calls_still_waiting(
    confessions_db: Database, infra_config: InfraConfig
) -> None:
    relay = _relay(confessions_db, Receiver())
    await relay.add(["k1"], [b"waiting"])
    config = migrations.alembic_config("confessions", _dsn(infra_config))
    with pytest.raises(RuntimeError, match="1 calls wait"):
        await asyncio.to_thread(command.downgrade, config, "0010")
    assert await _waiting(infra_config) == "1"
    assert await relay.drain() == 1
    await asyncio.to_thread(command.downgrade, config, "0010")
    assert await _sql(infra_config, "SELECT to_regclass('confessions.relay') IS NULL") == "t"
    await _migrate(infra_config, "confessions", "head")
    assert await _waiting(infra_config) == "0"
