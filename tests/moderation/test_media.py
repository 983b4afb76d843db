"""Media confessions: stored by file_id, and the card and the post re-send it (no forward)."""

from __future__ import annotations

from typing import Any

from tests.support.moderation import admin_press, card, chat, current, shown, wait_for
from tests.support.threads import button
from tests.support.world import World


def _file_id(message: dict[str, Any]) -> str:
    media = message["media"]
    obj = media["object"]
    return str((obj[-1] if isinstance(obj, list) else obj)["file_id"])


async def test_photo_confession_is_re_sent_by_file_id(community: World.Community) -> None:
    author = community.member()
    await author.start()
    await author.send("✍️ New confession")
    sent = await community.world.control(
        "POST",
        f"/bots/{community.bot_id}/users/{author.user_id}/messages",
        {"media": "photo", "caption": "my desk at 3 am", "first_name": author.first_name},
    )
    file_id = sent["file_id"]
    preview = await author.last()
    assert preview["media"]["type"] == "photo" and _file_id(preview) == file_id
    assert "my desk at 3 am" in str(preview["caption"])
    await author.press(preview["message_id"], button(preview, "Send"))
    received = await author.last()
    assert "waiting for review" in shown(received)
    number = int(shown(received).split("#")[1].split()[0])

    pending = await card(community, number)
    assert pending["media"]["type"] == "photo" and _file_id(pending) == file_id
    assert "my desk at 3 am" in shown(pending) and pending["forward_origin"] is None
    await admin_press(community, 1, pending, button(pending, "Approve"))
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("✅ Approved by Ann")

    posts = await wait_for(
        lambda: chat(community, community.channel_id),
        lambda ms: any(shown(m).startswith(f"#{number}") for m in ms),
        "the photo never reached the channel",
    )
    post = next(m for m in posts if shown(m).startswith(f"#{number}"))
    assert post["media"]["type"] == "photo" and _file_id(post) == file_id
    assert post["forward_origin"] is None
    assert button(post, "💬 Comments").endswith(f"?start=c_{number}")

    # Erasing the author takes the photo post down: an edited caption would
    # leave the photo itself in the channel.
    await author.send("/deleteme")
    ask = await author.last()
    await author.press(ask["message_id"], button(ask, "Erase everything"))
    await wait_for(
        lambda: chat(community, community.channel_id),
        lambda ms: all(m["message_id"] != post["message_id"] for m in ms),
        "the erased author's photo post stayed in the channel",
    )
