"""The notifier's worker delivers queued Bot API calls, in order per chat."""

from __future__ import annotations

import secrets
from typing import Any

from tests.support.outbox import wait_for
from tests.support.world import World
from veil.core.outbox import Outbox, OutgoingCall, Priority


async def test_queued_messages_are_delivered_in_order(
    community: World.Community, outbox: Outbox
) -> None:
    member = community.member()
    await member.start()
    before = len(await member.bot_messages())
    run = secrets.token_hex(4)
    calls = [
        OutgoingCall(
            community_id=community.id,
            method="sendMessage",
            chat_id=chat_id,
            params={"chat_id": chat_id, "text": f"note {i}"},
            idempotency_key=f"test:{run}:{chat_id}:{i}",
            priority=Priority.NOTIFICATION,
        )
        for chat_id in (member.user_id, community.channel_id)
        for i in range(3)
    ]
    ids = await outbox.send(calls)
    assert len(set(ids)) == 6

    async def channel_texts() -> list[str]:
        messages = await community.world.chat_messages(community.bot_id, community.channel_id)
        return [str(m.get("text")) for m in messages if str(m.get("text", "")).startswith("note")]

    async def member_texts() -> list[str]:
        messages: list[dict[str, Any]] = (await member.bot_messages())[before:]
        return [str(m.get("text")) for m in messages]

    expected = ["note 0", "note 1", "note 2"]
    assert await wait_for(channel_texts, lambda t: len(t) >= 3) == expected
    assert await wait_for(member_texts, lambda t: len(t) >= 3) == expected
