"""The FSM records of an update: read by the claim, written with "done", on the real cluster."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram.fsm.storage.base import StorageKey
from redis.asyncio.cluster import RedisCluster

from services.gateway.fsm import UpdateFsm, VeilStorage, done_handling, handling
from services.gateway.guard import UpdateGuard, Verdict
from tools.devstack.infra.config import InfraConfig
from veil.core.redis import connect_redis_cluster

BOT, USER = 7_000_000_001, 7_123_450_001


@pytest.fixture
async def redis(infra_config: InfraConfig) -> AsyncIterator[RedisCluster]:
    client = await connect_redis_cluster(infra_config.redis_nodes())
    yield client
    await client.aclose()


def _pair(redis: RedisCluster) -> tuple[UpdateGuard, VeilStorage]:
    id_key = secrets.token_bytes(16)
    guard = UpdateGuard(redis, id_key=id_key, burst=5, per_minute=60, done_ttl_seconds=60)
    return guard, VeilStorage(redis, id_key, ttl_seconds=60)


def _member(redis: RedisCluster) -> tuple[UpdateGuard, VeilStorage, StorageKey, list[str]]:
    """The guard and storage, the member's key and the FSM records the claim reads."""
    guard, storage = _pair(redis)
    key = StorageKey(bot_id=BOT, chat_id=USER, user_id=USER)
    return guard, storage, key, list(storage.keys(key))


async def test_fsm_keys_share_the_claims_slot_and_hide_ids(redis: RedisCluster) -> None:
    guard, storage = _pair(redis)
    key = StorageKey(bot_id=BOT, chat_id=USER, user_id=USER)
    state_key, data_key = storage.keys(key)
    claim_key = f"g:{{{guard.tag(BOT, USER)}}}:u:1"
    slots = {redis.keyslot(k) for k in (state_key, data_key, claim_key)}
    assert len(slots) == 1
    assert not any(str(USER) in k or str(BOT) in k for k in (state_key, data_key))


async def test_writes_wait_for_done_and_reads_see_them(redis: RedisCluster) -> None:
    guard, storage, key, reads = _member(redis)
    verdict, _, values = await guard.claim_and_read(BOT, 1, USER, reads)
    assert verdict is Verdict.PROCESS and values == [None, None]
    update_fsm = UpdateFsm(guard.tag(BOT, USER), dict(zip(reads, values, strict=True)))
    token = handling(update_fsm)
    try:
        await storage.set_state(key, "Draft:writing")
        await storage.update_data(key, {"draft": "abc"})
        # Read-your-writes inside the update, nothing in Redis before "done".
        assert await storage.get_state(key) == "Draft:writing"
        assert await storage.get_data(key) == {"draft": "abc"}
        assert await redis.get(reads[0]) is None and await redis.get(reads[1]) is None
    finally:
        done_handling(token)
    await guard.done(BOT, 1, USER, update_fsm.writes)
    assert (await guard.claim(BOT, 1, USER))[0] is Verdict.DUPLICATE
    # The next update's claim reads what the first one wrote, in the same round trip.
    verdict, _, values = await guard.claim_and_read(BOT, 2, USER, reads)
    assert verdict is Verdict.PROCESS
    assert values == [b"Draft:writing", b'{"draft":"abc"}']
    assert 0 < await redis.ttl(reads[0]) <= 60
    # Clearing deletes the records (with "done" again).
    update_fsm = UpdateFsm(guard.tag(BOT, USER), dict(zip(reads, values, strict=True)))
    token = handling(update_fsm)
    try:
        await storage.set_state(key, None)
        await storage.set_data(key, {})
    finally:
        done_handling(token)
    await guard.done(BOT, 2, USER, update_fsm.writes)
    assert await redis.exists(*reads) == 0


async def test_a_failed_update_changes_nothing(redis: RedisCluster) -> None:
    guard, storage, key, reads = _member(redis)
    await storage.set_state(key, "Before")  # outside an update: written at once
    verdict, _, values = await guard.claim_and_read(BOT, 3, USER, reads)
    assert verdict is Verdict.PROCESS and values[0] == b"Before"
    token = handling(UpdateFsm(guard.tag(BOT, USER), dict(zip(reads, values, strict=True))))
    try:
        await storage.set_state(key, "After")
    finally:
        done_handling(token)
    await guard.release(BOT, 3, USER)  # the handler raised: Telegram redelivers
    assert await storage.get_state(key) == "Before"
    assert (await guard.claim_and_read(BOT, 3, USER, reads))[2][0] == b"Before"


async def _handled(
    guard: UpdateGuard, update_id: int, reads: list[str], change: Callable[[], Awaitable[None]]
) -> UpdateFsm:
    """Claim update ``update_id``, run ``change`` as its handler."""
    verdict, _, values = await guard.claim_and_read(BOT, update_id, USER, reads)
    assert verdict is Verdict.PROCESS
    update_fsm = UpdateFsm(
        guard.tag(BOT, USER), dict(zip(reads, values, strict=True)), together=tuple(reads)
    )
    token = handling(update_fsm)
    try:
        await change()
    finally:
        done_handling(token)
    return update_fsm


async def _previewing(
    redis: RedisCluster, ttl: int
) -> tuple[UpdateGuard, VeilStorage, StorageKey, list[str]]:
    """A member whose draft is previewed, its records expiring in ``ttl`` s."""
    guard, storage, key, reads = _member(redis)
    await redis.set(reads[0], b"Draft:previewing", ex=ttl)
    await redis.set(reads[1], b'{"draft":"abc","text":"hi"}', ex=ttl)
    return guard, storage, key, reads


async def test_a_state_written_alone_keeps_its_data_for_as_long(redis: RedisCluster) -> None:
    """✏️ Edit moves the state back to writing and keeps the draft: the data,
    written long before, must not expire before the state that needs it."""
    guard, storage, key, reads = await _previewing(redis, ttl=5)

    async def edit() -> None:
        await storage.set_state(key, "Draft:writing")

    update_fsm = await _handled(guard, 10, reads, edit)
    await guard.done(BOT, 10, USER, update_fsm.to_write())
    assert await redis.get(reads[0]) == b"Draft:writing"
    assert await redis.get(reads[1]) == b'{"draft":"abc","text":"hi"}'
    assert 55 < await redis.ttl(reads[1]) <= 60 and 55 < await redis.ttl(reads[0]) <= 60


async def test_of_two_updates_at_once_the_state_and_data_are_one_updates(
    redis: RedisCluster,
) -> None:
    """Two updates of one member handled at once (an impatient client, a
    redelivery): the last to finish writes the whole pair, never its state
    beside the other's data."""
    guard, storage, key, reads = await _previewing(redis, ttl=60)

    async def compose() -> None:
        await storage.set_state(key, "Comment:writing")
        await storage.set_data(key, {"n": 5})

    async def edit() -> None:
        await storage.set_state(key, "Draft:writing")

    # Both claimed before either is done: each read the preview.
    first = await _handled(guard, 20, reads, compose)
    second = await _handled(guard, 21, reads, edit)
    await guard.done(BOT, 20, USER, first.to_write())
    await guard.done(BOT, 21, USER, second.to_write())
    assert await redis.get(reads[0]) == b"Draft:writing"
    assert await redis.get(reads[1]) == b'{"draft":"abc","text":"hi"}'


async def test_an_update_that_changes_neither_writes_neither(redis: RedisCluster) -> None:
    guard, storage, key, reads = _member(redis)

    async def look() -> None:
        assert await storage.get_state(key) is None

    assert (await _handled(guard, 30, reads, look)).to_write() == {}
