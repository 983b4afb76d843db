"""Bans by confession and by pseudonym, with durations; /bans and /unban; refused attempts."""

from __future__ import annotations

import re

import grpc

from tests.support.moderation import (
    admin_press,
    admin_says,
    card,
    confess,
    current,
    number_of,
    shown,
    wait_for,
)
from tests.support.threads import button, open_thread, publish, write_comment
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.stack import Stack
from veil.v1 import confessions_pb2, confessions_pb2_grpc


async def test_ban_author_from_the_card_then_attempts_are_refused(
    community: World.Community, infra_config: InfraConfig, stack: Stack
) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "I am about to get banned"))
    pending = await card(community, number)
    pressed = await admin_press(community, 1, pending, button(pending, "Ban author"), "Dora")
    assert pressed["answer"]["text"] == "🚫 Rejected and author banned by Dora"
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("🚫 Rejected and author banned by Dora")
    # A press that lost the race learns the decision that stands: the ban.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.confessions}") as channel:
        late = await confessions_pb2_grpc.ConfessionsServiceStub(channel).ModerateConfession(
            confessions_pb2.ModerateConfessionRequest(
                community_id=community.id,
                confession_id=int(button(pending, "Approve").split(":")[2]),
                action=confessions_pb2.MODERATION_ACTION_APPROVE,
                moderator="Late",
            )
        )
    assert not late.won and late.moderator == "Dora"
    assert late.action == confessions_pb2.MODERATION_ACTION_BAN
    # Told once, through the notifier.
    await wait_for(author.bot_messages, lambda ms: any("banned you" in shown(m) for m in ms), "")
    await author.send("✍️ New confession")
    assert "banned in this community" in shown(await author.last())
    # Comments are refused too.
    other = community.member()
    await other.start()
    published = await publish(other, infra_config, "a thread to comment on")
    thread = await open_thread(author, published)
    pressed = await author.press(thread["message_id"], button(thread, "➕ Comment"))
    assert "banned" in pressed["answer"]["text"]
    notices = [m for m in await author.bot_messages() if "banned you" in shown(m)]
    assert len(notices) == 1

    listed = await admin_says(community, 1, "/bans")
    assert f"confession #{number}" in shown(listed) and "permanent" in shown(listed)
    unbanned = await admin_says(community, 1, f"/unban #{number}")
    assert shown(unbanned) == f"✅ Unbanned confession #{number}."
    assert shown(await admin_says(community, 1, "/bans")) == "Nobody is banned."
    await author.send("✍️ New confession")
    assert "Write your confession" in shown(await author.last())


async def test_ban_by_number_with_a_duration_and_by_pseudonym(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author, commenter = community.member(), community.member()
    await author.start()
    number = number_of(await confess(author, "ban me for a week"))
    banned = await admin_says(community, 1, f"/ban #{number} 7d spamming the queue")
    assert re.match(rf"🚫 Banned confession #{number} · until \d\d \w+ \d{{4}}", shown(banned))
    assert "spamming the queue" in shown(banned)
    await author.send("✍️ New confession")
    assert "banned" in shown(await author.last())

    host = community.member()
    await host.start()
    thread_number = await publish(host, infra_config, "a thread")
    await commenter.start()
    written = await write_comment(commenter, await open_thread(commenter, thread_number), "hi")
    name = re.search(r"1\. (\w+ \w+ \d+) ·", shown(written))
    assert name is not None
    pseudonym = name.group(1)
    banned = await admin_says(community, 1, f"/ban {pseudonym} 12h")
    assert shown(banned).startswith(f"🚫 Banned {pseudonym} · until ")
    listed = shown(await admin_says(community, 1, "/bans"))
    assert f"confession #{number}" in listed and pseudonym in listed
    assert str(commenter.user_id) not in listed and str(author.user_id) not in listed
    thread = await open_thread(commenter, thread_number)
    pressed = await commenter.press(thread["message_id"], button(thread, "➕ Comment"))
    assert "banned" in pressed["answer"]["text"]
    # Bad input is explained, nobody is banned by mistake.
    assert "Use " in shown(await admin_says(community, 1, "/ban 12345"))
    assert "Nobody found for #999" in shown(await admin_says(community, 1, "/ban #999"))
    unknown = await admin_says(community, 1, "/ban Nobody Here 1")
    assert "Nobody found" in shown(unknown)
