"""Shadow bans: the member's new comments are shown to them only, nobody is told,
and their confessions reach the queue marked. Plus the ⚠️ Warn of a hidden
comment's card, which warns its writer under the thread's pseudonym."""

from __future__ import annotations

import asyncio

from tests.support.moderation import admin_says, card, confess, number_of, shown, wait_for
from tests.support.threads import (
    admin_press,
    button,
    hidden_comment,
    notices,
    open_thread,
    publish,
    replica_caught_up,
    write_comment,
)
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig


async def test_a_shadow_banned_member_sees_their_comment_and_nobody_else_does(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author, shadowed, other = community.member(), community.member(), community.member()
    # The shadowed member makes 10 updates in all (the gateway's burst): no /start.
    for member in (author, other):
        await member.start()
    thread_number = await publish(author, infra_config, "a thread everyone reads")
    mine = number_of(await confess(shadowed, "the confession that names me for the ban"))

    answer = shown(await admin_says(community, 1, f"/shadowban #{mine} spam rings"))
    assert answer.startswith(f"👻 Shadow-banned confession #{mine} · permanent")
    listed = shown(await admin_says(community, 1, "/bans"))
    assert "👻 " in listed and f"confession #{mine}" in listed

    # The shadow-banned member comments as usual and sees their comment.
    own_view = await write_comment(shadowed, await open_thread(shadowed, thread_number), "psst")
    assert "psst" in own_view["text"], own_view["text"]
    # Another member comments after it; once the replica has both, readers see
    # theirs and never the shadowed one.
    await write_comment(other, await open_thread(other, thread_number), "a visible comment")
    await replica_caught_up(infra_config)
    for reader in (author, other, community.member()):
        page = await open_thread(reader, thread_number)
        assert "a visible comment" in page["text"], page["text"]
        assert "psst" not in page["text"], page["text"]
        assert "💬 1 comment" in page["text"], page["text"]
    again = await open_thread(shadowed, thread_number)
    assert "psst" in again["text"] and "a visible comment" in again["text"]

    # Their new confession reaches the queue, marked; their receipt is as usual.
    received = await confess(shadowed, "another one from the shadows")
    assert "waiting for review" in shown(received)
    marked = await card(community, number_of(received))
    assert "👻 Shadow-banned author" in shown(marked)
    # Nobody is told: the thread's author hears of the visible comment only, and
    # the shadow-banned member never hears of their ban.
    await wait_for(
        lambda: notices(author),
        lambda ms: bool(ms),
        "the author was not told of the visible comment",
    )
    await asyncio.sleep(1)
    assert len(await notices(author)) == 1
    assert not [m for m in await shadowed.bot_messages() if "banned" in shown(m)]


async def test_the_hidden_comment_card_warns_its_writer_by_pseudonym(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    number, _, writer, hidden = await hidden_comment(world, community, infra_config, "rude remark")
    pressed = await admin_press(community, hidden, button(hidden, "Warn"))
    pseudonym = hidden["text"].split("\n\n", 1)[1].split(":", 1)[0]
    assert pressed["answer"]["text"] == f"⚠️ Warned {pseudonym}.", pressed
    await wait_for(
        writer.bot_messages,
        lambda ms: any("warned you" in shown(m) for m in ms),
        "the writer was not told of the warn",
    )
    listed = shown(await admin_says(community, 1, "/bans"))
    assert f"⚠️ {pseudonym}" in listed and str(writer.user_id) not in listed
    assert number > 0
