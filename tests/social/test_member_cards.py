"""The gateway's cards (veil/contracts/cards.py) on the running stack: kept
after the service answered, retired by every change they would otherwise hide.

A ban retiring the member's card is proved by tests/social/test_banned_everywhere.py
(the member opened and commented on the thread before the ban), notifications
turned off by tests/social/test_notifications.py, an erasure by the /deleteme
tests; the no-Telegram-id scan of Redis (tests/e2e/test_sealed_at_rest.py)
covers what cards hold.
"""

from __future__ import annotations

import asyncio

from redis.asyncio.cluster import RedisCluster

from tests.support.moderation import admin_says, shown
from tests.support.services import Services
from tests.support.threads import button, open_thread, press, publish, reply, write_comment
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.stack import Stack
from veil.contracts.cards import (
    MEMBER_CARD,
    RULES_CARD,
    THREAD_CARD,
    TOMBSTONE,
    member_card_key,
    member_tag,
    rules_card_key,
    thread_card_key,
)
from veil.core.redis import connect_redis_cluster
from veil.v1 import confessions_pb2


async def _value(infra_config: InfraConfig, key: str) -> bytes | None:
    client: RedisCluster = await connect_redis_cluster(infra_config.redis_nodes())
    try:
        value = await client.get(key)
    finally:
        await client.aclose()
    return value.encode() if isinstance(value, str) else value


def _member_key(stack: Stack, community: World.Community, user_id: int) -> str:
    id_key = stack.secrets()["id_hash_key"].encode()
    return member_card_key(member_tag(id_key, community.bot_id, user_id))


async def test_a_taken_down_thread_is_unavailable_at_once(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    member = community.member()
    await member.start()
    # Only a thread with its channel post is kept on a card.
    number = await publish(
        member, infra_config, "kept on a card, then taken down", channel_post=True
    )
    shown = await open_thread(member, number)
    assert "kept on a card" in shown["text"]
    key = thread_card_key(community.id, number)
    card = await _value(infra_config, key)
    assert card is not None and card.startswith(THREAD_CARD), card

    taken = await services.confessions.TakeDownConfession(
        confessions_pb2.TakeDownConfessionRequest(community_id=community.id, number=number)
    )
    assert taken.taken_down

    assert await _value(infra_config, key) == TOMBSTONE
    await member.start(f"c_{number}")
    assert (await reply(member))["text"] == f"Confession #{number} is not available."


async def test_a_member_found_unreachable_is_reachable_again_when_they_write(
    stack: Stack, community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    member = community.member()
    await member.start()
    key = _member_key(stack, community, member.user_id)
    card = await _value(infra_config, key)
    assert card is not None and card.startswith(MEMBER_CARD), card
    member_id = await services.member_id(community, member.user_id)

    def unreachable() -> str:
        return psql(
            infra_config,
            f"SELECT unreachable_since IS NOT NULL FROM confessions.members WHERE id = {member_id}",
        )

    await services.members.MarkUnreachable(
        confessions_pb2.MarkUnreachableRequest(
            community_id=community.id, telegram_user_id=member.user_id
        )
    )
    assert await asyncio.to_thread(unreachable) == "t"
    assert await _value(infra_config, key) == TOMBSTONE

    # Their next update asks the service (the card is retired), which clears the mark.
    await member.start()
    await reply(member)
    assert await asyncio.to_thread(unreachable) == "f"


async def test_an_erasure_retires_the_members_card_and_their_threads(
    stack: Stack, community: World.Community, infra_config: InfraConfig
) -> None:
    author, reader = community.member(), community.member()
    await author.start()
    number = await publish(author, infra_config, "erased with its card", channel_post=True)
    await open_thread(reader, number)
    member_key = _member_key(stack, community, author.user_id)
    thread_key = thread_card_key(community.id, number)
    for key, kind in ((member_key, MEMBER_CARD), (thread_key, THREAD_CARD)):
        card = await _value(infra_config, key)
        assert card is not None and card.startswith(kind), (key, card)

    await author.send("/deleteme")
    ask = await reply(author)
    erased = await press(author, ask, button(ask, "Erase everything"))
    assert erased["text"].startswith("🗑 Done.")

    assert await _value(infra_config, member_key) == TOMBSTONE
    assert await _value(infra_config, thread_key) == TOMBSTONE
    await reader.start(f"c_{number}")
    assert (await reply(reader))["text"] == f"Confession #{number} is not available."
    # Coming back, they are a new member (not the erased one, from a card).
    await author.start()
    assert (await reply(author))["text"].startswith("👋 Welcome to")


async def test_a_rules_change_holds_the_next_comment_at_once(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author, writer = community.member(), community.member()
    await author.start()
    number = await publish(author, infra_config, "rules on a card", channel_post=True)
    thread = await write_comment(writer, await open_thread(writer, number), "durian, before")
    assert "durian, before" in shown(thread)
    key = rules_card_key(community.id)
    card = await _value(infra_config, key)
    assert card is not None and card.startswith(RULES_CARD), card

    # Each change of the rules retires their card before and after it.
    await admin_says(community, 1, "/settings words add durian")
    assert await _value(infra_config, key) == TOMBSTONE
    await admin_says(community, 1, "/settings filter reject")

    # The member and the thread still come from their cards; the rules cannot.
    view = await open_thread(writer, number)
    await writer.press(view["message_id"], button(view, "➕ Comment"))
    await writer.send("durian, after")
    assert "contains “durian”" in shown(await reply(writer))
