"""The admin chat as Telegram runs it: privacy mode, ForceReply prompts, who counts as an admin."""

from __future__ import annotations

from typing import Any

from tests.support.moderation import (
    add_to_admin_chat,
    admin_press,
    admin_says,
    card,
    chat,
    confess,
    current,
    number_of,
    shown,
    wait_for,
)
from tests.support.threads import button, rows
from tests.support.world import World, new_user_id


async def _set_bot_admin(community: World.Community, is_admin: bool) -> None:
    await community.world.control(
        "POST",
        f"/bots/{community.bot_id}/chats/{community.admin_chat_id}/bot",
        {"is_admin": is_admin},
    )


async def _ask_typed_reason(community: World.Community, text: str) -> tuple[int, dict[str, Any]]:
    """A pending confession, and the prompt after admin 1 (Cleo) chose ✍️ Type a reason."""
    author = community.member()
    await author.start()
    number = number_of(await confess(author, text))
    pending = await card(community, number)
    await admin_press(community, 1, pending, button(pending, "Reject with reason"))
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    await admin_press(community, 1, picking, button(picking, "Type a reason"), "Cleo")
    prompt = [m for m in await chat(community, community.admin_chat_id) if m["from_bot"]][-1]
    # Sent as a forced reply that only the admin who pressed is asked for (mentioned),
    # under the card it is about.
    assert "Cleo, type the reason" in shown(prompt)
    assert prompt["reply_markup"]["force_reply"] is True
    assert prompt["reply_markup"]["selective"] is True
    assert prompt["reply_to_message_id"] == pending["message_id"]
    mentioned = [e for e in prompt["entities"] if e["type"] == "text_mention"]
    assert [e["user"]["id"] for e in mentioned] == [1]
    return number, prompt


async def _says_plainly(community: World.Community, text: str) -> dict[str, Any]:
    """Admin 1 writes in the admin chat without replying to anything."""
    return dict(
        await community.world.control(
            "POST",
            f"/bots/{community.bot_id}/users/1/messages",
            {"text": text, "chat_id": community.admin_chat_id, "first_name": "Cleo"},
        )
    )


async def _rejected_by_reply(
    community: World.Community, number: int, prompt: dict[str, Any], reason: str
) -> None:
    answer = await admin_says(community, 1, reason, "Cleo", reply_to=prompt["message_id"])
    assert shown(answer) == f"❌ Rejected #{number}: the author is told why."
    cards = [m for m in await chat(community, community.admin_chat_id) if m["from_bot"]]
    decided = next(m for m in cards if shown(m).startswith(f"🆕 #{number}"))
    assert shown(decided).endswith(f"❌ Rejected by Cleo: {reason}")
    assert not rows(decided)


async def test_typed_reason_reaches_a_bot_that_is_not_an_admin(
    community: World.Community,
) -> None:
    await _set_bot_admin(community, False)
    number, prompt = await _ask_typed_reason(community, "privacy mode on")
    # Privacy mode: a plain message in the admin chat never reaches the bot...
    assert (await _says_plainly(community, "hm, what do we say"))["delivered"] is False
    # ...a reply to the prompt does; one too long is asked again, as a reply to the admin.
    too_long = await admin_says(community, 1, "x" * 101, "Cleo", reply_to=prompt["message_id"])
    assert "Please keep the reason under 100 characters" in shown(too_long)
    assert too_long["reply_markup"]["force_reply"] is True
    assert too_long["reply_markup"]["selective"] is True
    assert too_long["reply_to_message_id"] is not None
    await _rejected_by_reply(community, number, too_long, "Names a teacher")


async def test_admin_chatter_is_never_taken_for_the_reason(community: World.Community) -> None:
    # The bot is an admin here and hears everything said in the admin chat.
    number, prompt = await _ask_typed_reason(community, "bot hears all")
    heard = await _says_plainly(community, "lol this one is wild")
    assert heard["delivered"] is True and heard["status"] == 200
    still = await current(community, community.admin_chat_id, prompt["reply_to_message_id"])
    assert rows(still) and "Rejected" not in shown(still)
    latest = [m for m in await chat(community, community.admin_chat_id) if m["from_bot"]][-1]
    assert latest["message_id"] == prompt["message_id"], "the bot answered the chatter"
    await _rejected_by_reply(community, number, prompt, "Too specific")


async def test_a_restricted_user_who_left_the_admin_chat_is_no_admin(
    community: World.Community,
) -> None:
    stayed, left = new_user_id(), new_user_id()
    await add_to_admin_chat(community, [stayed, left])
    members = f"/bots/{community.bot_id}/chats/{community.admin_chat_id}/members"
    await community.world.control("POST", f"{members}/{stayed}", {"status": "restricted"})
    await community.world.control(
        "POST", f"{members}/{left}", {"status": "restricted", "is_member": False}
    )
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "who may decide"))
    pending = await card(community, number)
    refused = await admin_press(community, left, pending, button(pending, "Approve"))
    assert refused["answer"]["text"] == "Only the community's admins can do this."
    asked = await community.world.control(
        "POST",
        f"/bots/{community.bot_id}/users/{left}/messages",
        {"text": "/bans", "chat_id": community.admin_chat_id},
    )
    answers = await chat(community, community.admin_chat_id)
    assert not [m for m in answers if m["from_bot"] and m["message_id"] > asked["message_id"]]
    unchanged = await current(community, community.admin_chat_id, pending["message_id"])
    assert rows(unchanged) == rows(pending)
    # Restricted but still in the chat: still one of the admins.
    approved = await admin_press(community, stayed, pending, button(pending, "Approve"))
    assert "Approved" in approved["answer"]["text"]
    await wait_for(
        lambda: current(community, community.admin_chat_id, pending["message_id"]),
        lambda m: not rows(m),
        "the card never showed the decision",
    )
