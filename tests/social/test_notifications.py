"""Issue 7's deliveries end to end: notifications to the author and to a replied-to
commenter, batched per member and thread; opting out in /settings; the channel
post's "💬 Comments (n)" counter edited at most once per interval.

The notifier worker really sends everything to the emulator; the suite's stack
paces both at ``PACE_SECONDS``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.sealed import chat_key_sql
from tests.support.services import Services
from tests.support.threads import (
    button,
    notices,
    open_thread,
    publish,
    replica_caught_up,
    reply,
    until,
    write_comment,
)
from tests.support.world import PACE_SECONDS, World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.sealing import Keyring


async def _post(world: World, community: World.Community) -> dict[str, Any]:
    messages = await world.chat_messages(community.bot_id, community.channel_id)
    assert len(messages) == 1
    return messages[0]


async def _counter_edits(world: World, community: World.Community) -> list[dict[str, Any]]:
    result = await world.control(
        "GET", f"/bots/{community.bot_id}/calls?method=editMessageReplyMarkup"
    )
    return [c for c in result["calls"] if c["params"].get("chat_id") == community.channel_id]


def _label(markup: Any) -> str:
    return str(markup["inline_keyboard"][0][0]["text"])


async def test_a_busy_thread_notifies_the_author_once_per_interval_and_paces_the_counter(
    world: World,
    community: World.Community,
    infra_config: InfraConfig,
    services: Services,
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "busy", channel_post=True)
    thread = await services.thread(community, number)
    assert thread.channel_message_id and thread.author_member_id
    commenters = [await services.member_id(community, community.member().user_id) for _ in "abc"]
    # A burst of three comments, well inside one interval.
    for i, member_id in enumerate(commenters):
        await services.comment(thread, member_id, f"burst {i}")

    async def all_told() -> bool:
        return "2 new comments" in "".join(m["text"] for m in await notices(author))

    await until(all_told, "the batched notification never arrived", seconds=6 * PACE_SECONDS)
    told = [m["text"] for m in await notices(author)]
    # The first leaves at once, the other two as one, at the end of the interval.
    assert len(told) == 2, told
    assert told[0].startswith(f"💬 New comment on confession #{number}")
    assert told[1].startswith(f"💬 2 new comments on confession #{number}")
    assert all("Open the thread" in text for text in told)

    async def counted() -> bool:
        return _label((await _post(world, community))["reply_markup"]) == "💬 Comments (3)"

    await until(counted, "the post's counter never reached 3", seconds=6 * PACE_SECONDS)
    edits = await _counter_edits(world, community)
    labels = [_label(e["params"]["reply_markup"]) for e in edits]
    # The first edit leaves at once, the next waits for the end of the interval
    # with the newest count; when the worker was slower than the burst, the
    # newest count even replaced the first edit before it left.
    assert labels in (["💬 Comments (1)", "💬 Comments (3)"], ["💬 Comments (3)"]), labels
    if len(edits) == 2:
        # The second waited for its slot (the first left a little after its
        # comment opened the interval: hence the slack).
        assert edits[1]["time"] - edits[0]["time"] >= PACE_SECONDS - 1
    post = await _post(world, community)
    assert post["reply_markup"]["inline_keyboard"][0][0]["url"].endswith(f"?start=c_{number}")


async def test_a_reply_notifies_the_commenter_and_the_counter_follows_the_bot(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "reply to me", channel_post=True)
    commenter, replier = community.member(), community.member()
    await write_comment(commenter, await open_thread(commenter, number), "first!")
    await replica_caught_up(infra_config)
    await write_comment(replier, await open_thread(replier, number), "no, me", reply_to=1)

    async def commenter_told() -> bool:
        return any(
            m["text"].startswith(f"💬 New reply on confession #{number}")
            for m in await notices(commenter)
        )

    await until(commenter_told, "the replied-to commenter was never told")
    assert f'?start=c_{number}">Open the thread</a>' in (await notices(commenter))[0]["html"]

    async def author_told() -> bool:
        return len(await notices(author)) >= 1

    await until(author_told, "the author was never told", seconds=6 * PACE_SECONDS)
    # Comments through the bot carry the post from GetConfession: the counter moves.

    async def counted() -> bool:
        return _label((await _post(world, community))["reply_markup"]) == "💬 Comments (2)"

    await until(counted, "the post's counter never reached 2", seconds=6 * PACE_SECONDS)


async def test_opting_out_in_settings_stops_comment_notifications(
    world: World, community: World.Community, infra_config: InfraConfig, seal_keys: Keyring
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "leave me alone")
    await author.send("/settings")
    settings = await reply(author)
    assert "<b>on 🔔</b>" in settings["html"]
    off = await author.press(settings["message_id"], button(settings, "Turn notifications off"))
    assert off["answer"]["text"] == "🔕 Notifications are off."
    settings = await reply(author)
    assert "<b>off 🔕</b>" in settings["html"]
    assert button(settings, "Turn notifications on")

    reader = community.member()
    await write_comment(reader, await open_thread(reader, number), "hello?")
    # The comment's notices are queued (or skipped) before the webhook answered.
    queued = await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT count(*) FROM notifier.outbox "
        f"WHERE community_id = {community.id} "
        f"AND chat_key = {chat_key_sql(seal_keys, community.id, author.user_id)}",
    )
    assert queued == "0"

    # The member's card went with the change: /settings reads it afresh.
    await author.send("/settings")
    settings = await reply(author)
    assert "<b>off 🔕</b>" in settings["html"]
    on = await author.press(settings["message_id"], button(settings, "Turn notifications on"))
    assert on["answer"]["text"] == "🔔 Notifications are on."
    await replica_caught_up(infra_config)
    await write_comment(reader, await open_thread(reader, number), "anyone?")

    async def told() -> bool:
        return len(await notices(author)) == 1

    await until(told, "the author never heard after opting in", seconds=6 * PACE_SECONDS)
    assert f"confession #{number}" in (await notices(author))[0]["text"]
