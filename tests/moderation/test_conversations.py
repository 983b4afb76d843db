"""Writing to the admins: a conversation's round trip under a per-conversation
label, closing from either side, blocking, and no trace of the member in the
admin chat; /deleteme takes what the member wrote there out of it."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.moderation import admin_press, admin_says, chat, erase, shown, wait_for
from tests.support.threads import button, reply
from tests.support.world import Member, World
from tools.devstack.infra.config import InfraConfig


async def _from_member(community: World.Community, text: str) -> dict[str, Any]:
    """The admin chat's message carrying ``text`` from a member, once delivered."""
    messages = await wait_for(
        lambda: chat(community, community.admin_chat_id),
        lambda ms: any(text in shown(m) and shown(m).startswith("✉️ Guest") for m in ms),
        f"{text!r} never reached the admin chat",
    )
    return next(m for m in messages if text in shown(m) and shown(m).startswith("✉️ Guest"))


async def test_a_conversation_with_the_admins_round_trip(
    community: World.Community, infra_config: InfraConfig
) -> None:
    """A member writes to the admins, they answer, the member closes and writes again.

    One test because each step continues the same conversation.
    """
    member = community.member(first_name="Ophelianne")
    await member.start()
    await member.send("✉️ Write to the admins")
    assert "never your name" in shown(await reply(member))
    await member.send("Why was my confession #3 rejected?")
    assert shown(await reply(member)).startswith("✉️ Sent to the admins.")

    first = await _from_member(community, "Why was my confession #3 rejected?")
    label = re.match(r"✉️ (Guest \d+) · new conversation", shown(first))
    assert label is not None, shown(first)
    guest = label.group(1)

    # An admin answers by replying to the bot's message.
    answered = await admin_says(community, 1, "It named a classmate.", reply_to=first["message_id"])
    assert shown(answered) == f"✅ Sent to {guest}."
    messages = await wait_for(
        member.bot_messages,
        lambda ms: any("It named a classmate." in shown(m) for m in ms),
        "the answer never reached the member",
    )
    answer = next(m for m in messages if "It named a classmate." in shown(m))
    assert shown(answer).startswith("✉️ The admins answered:")

    # The member replies in the same conversation (same label, not a new one).
    await member.press(answer["message_id"], button(answer, "Reply"))
    await member.send("Understood, thank you")
    second = await _from_member(community, "Understood, thank you")
    assert shown(second).startswith(f"✉️ {guest}\n"), shown(second)

    # The member closes; the admins are told, and an answer no longer goes out.
    closed = await member.press(answer["message_id"], button(answer, "Close"))
    assert closed["answer"]["text"] == "✖️ Conversation closed."
    await wait_for(
        lambda: chat(community, community.admin_chat_id),
        lambda ms: any(shown(m) == f"✖️ {guest} closed the conversation." for m in ms),
        "the admins were not told of the close",
    )
    late = await admin_says(community, 1, "One more thing", reply_to=second["message_id"])
    assert shown(late) == f"{guest}'s conversation is closed: nothing was sent."

    # Writing again opens a fresh conversation under a fresh label; the deep link
    # of a rejection or ban notice starts the same flow.
    await member.start("write")
    assert "never your name" in shown(await reply(member))
    await member.send("A new question")
    third = await _from_member(community, "A new question")
    new_label = re.match(r"✉️ (Guest \d+) · new conversation", shown(third))
    assert new_label is not None and new_label.group(1) != guest

    # Nothing in the admin chat, in the calls made there, or in any log names the member.
    needles = {str(member.user_id), f"u{member.user_id}", "Ophelianne"}
    seen = [
        json.dumps(m, ensure_ascii=False) for m in await chat(community, community.admin_chat_id)
    ]
    calls = (await community.world.control("GET", f"/bots/{community.bot_id}/calls"))["calls"]
    seen += [
        json.dumps(c, ensure_ascii=False)
        for c in calls
        if str(c.get("params", {}).get("chat_id")) != str(member.user_id)
    ]
    assert len(seen) > 8
    leaked = [s for s in seen if any(n in s for n in needles)]
    assert not leaked, leaked[:3]
    for name in ("gateway", "confessions", "social", "notifier", "notifier-worker"):
        text = (infra_config.root / "logs" / f"{name}.log").read_text(errors="replace")
        assert not [n for n in needles if n in text], name


async def test_admins_block_a_conversation_without_learning_who(
    community: World.Community,
) -> None:
    member = community.member()
    await member.start()
    await member.send("/write")
    await member.send("I keep insulting you")
    first = await _from_member(community, "I keep insulting you")
    guest = re.match(r"✉️ (Guest \d+)", shown(first))
    assert guest is not None
    pressed = await admin_press(community, 1, first, button(first, "Block"))
    assert pressed["answer"]["text"] == "Done."
    again = await admin_press(community, 1, first, button(first, "Block"))
    assert again["answer"]["text"] == "Already done."
    await member.send("✉️ Write to the admins")
    await member.send("Let me write anyway")
    assert "do not take messages" in shown(await reply(member))
    unblocked = await admin_says(community, 1, f"/unblock {guest.group(1)}")
    assert shown(unblocked) == f"✅ {guest.group(1)} may write again."
    assert shown(await admin_says(community, 1, f"/unblock {guest.group(1)}")) == (
        f"{guest.group(1)} is not blocked."
    )


async def test_writing_to_the_admins_is_rate_limited(community: World.Community) -> None:
    """The test stack allows 3 messages an hour (VEIL_ADMIN_MESSAGES_PER_HOUR)."""
    member = community.member()
    await member.start()
    for index in range(3):
        await member.send("/write")
        await member.send(f"message {index}")
        assert shown(await reply(member)).startswith("✉️ Sent"), index
    await member.send("/write")
    await member.send("one too many")
    assert "often this hour" in shown(await reply(member))


async def test_deleteme_deletes_what_the_member_wrote_to_the_admins(
    community: World.Community,
) -> None:
    async def writes(member: Member, *texts: str) -> None:
        await member.start()
        for text in texts:
            await member.send("/write")  # one message per /write
            await member.send(text)
            await _from_member(community, text)

    member = community.member()
    await writes(member, "Please take down my confession", "It names my sister")
    other = community.member()  # another member's conversation stays
    await writes(other, "A question of mine")

    await erase(member)

    def theirs(ms: list[dict[str, Any]]) -> list[str]:
        return [shown(m) for m in ms if "my confession" in shown(m) or "my sister" in shown(m)]

    left = await wait_for(
        lambda: chat(community, community.admin_chat_id),
        lambda ms: not theirs(ms),
        "the member's messages to the admins stayed in the admin chat",
    )
    assert any("A question of mine" in shown(m) for m in left)
