"""Member cards on the real Redis Cluster: kept with "done", read by the next
claim, never written over a tombstone (veil/contracts/cards.py)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster

from services.gateway.cards import MemberCardSlot, member_card
from services.gateway.guard import UpdateGuard, Verdict
from tools.devstack.infra.config import InfraConfig
from veil.contracts.cards import MEMBER_CARD_SECONDS, TOMBSTONE, member_card_key
from veil.core.redis import connect_redis_cluster
from veil.v1 import common_pb2, confessions_pb2

BOT = 41


@pytest.fixture
async def redis(infra_config: InfraConfig) -> AsyncIterator[RedisCluster]:
    client = await connect_redis_cluster(infra_config.redis_nodes())
    yield client
    await client.aclose()


def _guard(redis: RedisCluster) -> UpdateGuard:
    return UpdateGuard(
        redis, id_key=secrets.token_bytes(16), burst=50, per_minute=600, done_ttl_seconds=60
    )


def _answer(
    *, banned: bool = False, shadowed: bool = False
) -> confessions_pb2.RegisterMemberResponse:
    return confessions_pb2.RegisterMemberResponse(
        member=confessions_pb2.Member(id=9, community_id=3, subject="s", confessions_approved=2),
        created=True,
        standing=confessions_pb2.MemberStanding(
            notifications_enabled=True, banned=banned, shadowed=shadowed
        ),
        thread=confessions_pb2.GetConfessionResponse(author_member_id=9),
        comment_rules=common_pb2.CommentRules(report_threshold_hundredths=300),
    )


async def _update(guard: UpdateGuard, update_id: int, user: int) -> MemberCardSlot:
    key = member_card_key(guard.tag(BOT, user))
    verdict, _, values = await guard.claim_and_read(BOT, update_id, user, [key])
    assert verdict is Verdict.PROCESS
    return MemberCardSlot(key, values[0])


async def _done(guard: UpdateGuard, update_id: int, user: int, slot: MemberCardSlot) -> None:
    creates = {slot.key: (slot.new, MEMBER_CARD_SECONDS)} if slot.new else None
    await guard.done(BOT, update_id, user, None, creates)


async def test_a_card_kept_with_done_is_read_by_the_next_claim(redis: RedisCluster) -> None:
    guard = _guard(redis)
    first = await _update(guard, 1, 7)
    assert first.member() is None
    first.keep(_answer())
    await _done(guard, 1, 7, first)

    card = (await _update(guard, 2, 7)).member()
    # The member and their standing; no thread, no rules, not "created" again,
    # no counter that changes without retiring the card.
    assert card is not None
    assert card.member.id == 9 and card.member.subject == "s"
    assert card.member.confessions_approved == 0
    assert card.standing.notifications_enabled and not card.created
    assert not card.HasField("thread") and not card.HasField("comment_rules")
    # Another member of the same bot has no card.
    assert (await _update(guard, 3, 8)).member() is None


async def test_a_tombstone_is_never_written_over(redis: RedisCluster) -> None:
    guard = _guard(redis)
    # The update read no card and asked the service; meanwhile a change
    # committed and retired the card: the answer it got is not kept.
    slot = await _update(guard, 1, 7)
    await redis.set(slot.key, TOMBSTONE, ex=60)
    slot.keep(_answer())
    await _done(guard, 1, 7, slot)
    assert await redis.get(slot.key) == TOMBSTONE

    # Updates meanwhile find no card and keep none.
    later = await _update(guard, 2, 7)
    assert later.member() is None
    later.keep(_answer())
    assert later.new is None
    assert await redis.get(slot.key) == TOMBSTONE


async def test_done_writes_the_fsm_and_creates_the_card_in_one_script(
    redis: RedisCluster,
) -> None:
    guard = _guard(redis)
    slot = await _update(guard, 1, 7)
    slot.keep(_answer())
    state = f"fsm:{{{guard.tag(BOT, 7)}}}:x:state"
    assert slot.new is not None
    await guard.done(BOT, 1, 7, {state: (b"writing", 60)}, {slot.key: (slot.new, 60)})
    assert await redis.get(state) == b"writing"
    assert await redis.get(slot.key) == slot.new
    assert (await guard.claim(BOT, 1, 7))[0] is Verdict.DUPLICATE


def test_banned_and_shadow_banned_members_get_no_card() -> None:
    assert member_card(_answer()) is not None
    assert member_card(_answer(banned=True)) is None
    assert member_card(_answer(shadowed=True)) is None
