"""The doxxing guard through the emulator (issue 16): personal information in
comments and confessions under each rule (flag, redact, reject), found from
Telegram's entities and from patterns; channel posts without link previews
unless the community turns them on; the word filter on comments."""

from __future__ import annotations

from typing import Any

from tests.support.moderation import (
    admin_press,
    admin_says,
    card,
    chat,
    confess,
    number_of,
    shown,
    wait_for,
)
from tests.support.outbox import bot_calls
from tests.support.outbox import wait_for as wait_until
from tests.support.threads import (
    button,
    open_thread,
    publish,
    replica_caught_up,
    reply,
    write_comment,
)
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig

DOX = "call me at +44 7700 900123 or ask @misty_heron"


async def _flagged_card(community: World.Community, text: str) -> dict[str, Any]:
    messages = await wait_for(
        lambda: chat(community, community.admin_chat_id),
        lambda ms: any(shown(m).startswith("🚩") and text in shown(m) for m in ms),
        "no flagged-comment card",
    )
    return next(m for m in messages if shown(m).startswith("🚩") and text in shown(m))


async def test_a_comment_with_a_phone_number_and_a_mention_in_each_mode(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "doxxing guard")
    writer = community.member()

    # flag (default): shown as written; the admins get a card saying what it holds.
    thread = await write_comment(writer, await open_thread(writer, number), DOX)
    assert "+44 7700 900123" in shown(thread)
    flagged = await _flagged_card(community, "+44 7700 900123")
    assert "⚠️ contains a phone number and an @mention" in shown(flagged)
    assert str(writer.user_id) not in str(flagged)
    deleted = await admin_press(community, 1, flagged, button(flagged, "🗑 Delete"))
    assert deleted["answer"]["text"] == "🗑 Deleted"
    await replica_caught_up(infra_config)
    assert "+44 7700 900123" not in shown(await open_thread(community.member(), number))

    # redact: nobody ever sees the number or the handle. (A member per mode: members
    # are rate limited in the suite.)
    await admin_says(community, 1, "/settings pii redact")
    writer = community.member()
    thread = await write_comment(
        writer, await open_thread(writer, number), "text +44 7700 900124, @other_handle knows"
    )
    assert "text [removed], [removed] knows" in shown(thread)
    assert "900124" not in shown(thread) and "other_handle" not in shown(thread)

    # reject: told what to remove; still writing, the corrected text is stored.
    await admin_says(community, 1, "/settings pii reject")
    writer = community.member()
    view = await open_thread(writer, number)
    await writer.press(view["message_id"], button(view, "➕ Comment"))
    await writer.send("mail me at bob@example.com or +44 7700 900125")
    refused = await reply(writer)
    assert "contains an e-mail address and a phone number" in shown(refused)
    assert "Please remove it" in shown(refused)
    # A link only Telegram's entity marks (no pattern looks for links).
    await writer.send("my page: example.com/me")
    assert "contains a link" in shown(await reply(writer))
    await writer.send("nothing personal in this one")
    stored = await reply(writer)
    assert "nothing personal in this one" in shown(stored)
    assert "bob@example.com" not in shown(stored)


async def test_the_word_filter_applies_to_comments_with_its_own_switch(
    community: World.Community, infra_config: InfraConfig
) -> None:
    await admin_says(community, 1, "/settings words add durian")
    await admin_says(community, 1, "/settings filter reject")
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "fruit talk")
    writer = community.member()
    view = await open_thread(writer, number)
    await writer.press(view["message_id"], button(view, "➕ Comment"))
    await writer.send("Durian is the best")
    assert "contains “durian”" in shown(await reply(writer))
    await writer.send("/cancel")
    # The community turns the filter off for comments: the same text goes through.
    assert "commentfilter: off" in shown(
        await admin_says(community, 1, "/settings commentfilter off")
    )
    thread = await write_comment(writer, await open_thread(writer, number), "Durian is the best")
    assert "Durian is the best" in shown(thread)
    # flag marks a card instead.
    writer = community.member()
    await admin_says(community, 1, "/settings commentfilter on")
    await admin_says(community, 1, "/settings filter flag")
    await write_comment(writer, await open_thread(writer, number), "more durian please")
    flagged = await _flagged_card(community, "more durian please")
    assert "⚠️ Flagged: contains “durian”" in shown(flagged)
    kept = await admin_press(community, 1, flagged, button(flagged, "Keep"))
    assert kept["answer"]["text"] == "✔️ Kept"


async def test_confessions_with_personal_information_in_each_mode(
    community: World.Community,
) -> None:
    member = community.member()
    number = number_of(await confess(member, "my neighbour is +44 7700 900126, call him"))
    assert "⚠️ contains a phone number" in shown(await card(community, number))

    await admin_says(community, 1, "/settings pii redact")
    number = number_of(await confess(member, "write to jane.doe@example.org about it"))
    redacted = await card(community, number)
    assert "write to [removed] about it" in shown(redacted)
    assert "jane.doe" not in shown(redacted)

    await admin_says(community, 1, "/settings pii reject")
    await member.send("✍️ New confession")
    await member.send("ask @someone_real about me")
    preview = await member.last()
    pressed = await member.press(preview["message_id"], button(preview, "Send"))
    assert "contains an @mention" in pressed["answer"]["text"]
    assert pressed["answer"]["show_alert"]
    # The draft stays: ✏️ Edit is still offered under the preview.
    assert "Edit" in str((await member.last())["reply_markup"])


async def test_channel_posts_have_link_previews_off_unless_turned_on(
    world: World, community: World.Community
) -> None:
    async def published_with_previews(text: str) -> str:
        number = number_of(await confess(community.member(), text))
        pending = await card(community, number)
        await admin_press(community, 1, pending, button(pending, "Approve"))

        # What reached Telegram: the channel post as the emulator got it.
        async def posts() -> list[dict[str, Any]]:
            return [
                call["params"]
                for call in await bot_calls(world, community.bot_id, "sendMessage")
                if call["params"].get("chat_id") == community.channel_id
                and text in str(call["params"].get("text", ""))
            ]

        post = (await wait_until(posts, bool, within=30))[-1]
        return str(post.get("link_preview_options", {}).get("is_disabled", False)).lower()

    assert await published_with_previews("read https://example.com/a first") == "true"
    assert "previews: on" in shown(await admin_says(community, 1, "/settings previews on"))
    assert await published_with_previews("read https://example.com/b too") == "false"
