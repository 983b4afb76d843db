"""The update guard's Lua script on the real Redis Cluster."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster

from services.gateway.guard import UpdateGuard, Verdict
from tools.devstack.infra.config import InfraConfig
from veil.core.redis import connect_redis_cluster


@pytest.fixture
async def redis(infra_config: InfraConfig) -> AsyncIterator[RedisCluster]:
    client = await connect_redis_cluster(infra_config.redis_nodes())
    yield client
    await client.aclose()


def _guard(redis: RedisCluster, burst: int = 3, per_minute: int = 60) -> UpdateGuard:
    return UpdateGuard(
        redis,
        id_key=secrets.token_bytes(16),
        burst=burst,
        per_minute=per_minute,
        done_ttl_seconds=60,
    )


async def test_claim_lifecycle(redis: RedisCluster) -> None:
    guard = _guard(redis)
    assert (await guard.claim(1, 100, 5))[0] is Verdict.PROCESS
    assert (await guard.claim(1, 100, 5))[0] is Verdict.IN_FLIGHT
    await guard.release(1, 100, 5)
    assert (await guard.claim(1, 100, 5))[0] is Verdict.PROCESS
    await guard.done(1, 100, 5)
    assert (await guard.claim(1, 100, 5))[0] is Verdict.DUPLICATE
    # The same update id of another bot is another update.
    assert (await guard.claim(2, 100, 5))[0] is Verdict.PROCESS


async def test_concurrent_claims_exactly_one_wins(redis: RedisCluster) -> None:
    guard = _guard(redis, burst=100)
    verdicts = await asyncio.gather(*[guard.claim(1, 555, 9) for _ in range(50)])
    assert sum(v is Verdict.PROCESS for v, _ in verdicts) == 1


async def test_token_bucket_answers_once_then_silently(redis: RedisCluster) -> None:
    guard = _guard(redis, burst=3, per_minute=60)
    verdicts = [(await guard.claim(1, 1000 + i, 7))[0] for i in range(6)]
    assert (
        verdicts == [Verdict.PROCESS] * 3 + [Verdict.LIMITED_ANSWER] + [Verdict.LIMITED_SILENT] * 2
    )
    _, wait_ms = await guard.claim(1, 2000, 7)
    assert 0 < wait_ms <= 1000
    # Another member of the same bot is unaffected.
    assert (await guard.claim(1, 3000, 8))[0] is Verdict.PROCESS
    await asyncio.sleep(1.1)  # one token refills at 1/s
    assert (await guard.claim(1, 4000, 7))[0] is Verdict.PROCESS


async def test_keys_hide_telegram_ids(redis: RedisCluster) -> None:
    guard = _guard(redis)
    await guard.claim(1, 77, 7_123_456_789)
    keys = [k async for k in redis.scan_iter(match="g:*", count=1000)]
    assert keys and not any(b"7123456789" in k for k in keys)
