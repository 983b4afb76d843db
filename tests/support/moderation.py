"""Drive moderation through the emulator: confess, find the card, press as an admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.support.outbox import wait_for as notifier_wait_for
from tests.support.threads import button
from tests.support.world import Member, World

T = TypeVar("T")


async def wait_for(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str, within: float = 30
) -> T:
    """Poll ``probe`` until ``done`` holds for its result (``what`` names it on failure)."""
    try:
        return await notifier_wait_for(probe, done, within=within)
    except AssertionError as error:
        raise AssertionError(f"{what}: {error}") from None


async def confess(member: Member, text: str) -> dict[str, Any]:
    """✍️ New confession → text → ✅ Send; returns the bot's last message after Send."""
    await member.send("✍️ New confession")
    await member.send(text)
    preview = await member.last()
    await member.press(preview["message_id"], button(preview, "Send"))
    return await member.last()


def number_of(received: dict[str, Any]) -> int:
    """N of "Received — confession #N is waiting for review."."""
    return int(str(received["text"]).split("#")[1].split()[0])


async def add_to_admin_chat(community: World.Community, user_ids: list[int]) -> None:
    """Make ``user_ids`` members of the community's admin chat (with admin 1)."""
    await community.world.control(
        "POST",
        "/chats",
        {
            "bot_id": community.bot_id,
            "chat_id": community.admin_chat_id,
            "type": "supergroup",
            "title": "admins",
            "admins": [1],
            "members": [1, *user_ids],
            "bot_is_admin": True,
        },
    )


async def chat(community: World.Community, chat_id: int) -> list[dict[str, Any]]:
    """The chat's messages (current state after edits)."""
    return await community.world.chat_messages(community.bot_id, chat_id)


def shown(message: dict[str, Any]) -> str:
    """A message's text or caption as shown."""
    return str(message.get("text") or message.get("caption") or "")


async def card(community: World.Community, number: int) -> dict[str, Any]:
    """Confession #number's card in the admin chat, once the notifier delivered it."""
    messages = await wait_for(
        lambda: chat(community, community.admin_chat_id),
        lambda ms: any(shown(m).startswith(f"🆕 #{number}") for m in ms),
        f"no card for #{number}",
    )
    return next(m for m in messages if shown(m).startswith(f"🆕 #{number}"))


async def current(community: World.Community, chat_id: int, message_id: int) -> dict[str, Any]:
    """A message as it is now."""
    return next(m for m in await chat(community, chat_id) if m["message_id"] == message_id)


async def card_decided(
    community: World.Community, card_message: dict[str, Any], outcome: str
) -> dict[str, Any]:
    """The card once edited to end with ``outcome`` (an edit the notifier sends, for
    a decision taken away from the card)."""
    return await wait_for(
        lambda: current(community, community.admin_chat_id, card_message["message_id"]),
        lambda m: shown(m).endswith(outcome),
        f"the card never read {outcome!r}",
    )


async def admin_press(
    community: World.Community,
    user_id: int,
    message: dict[str, Any],
    data: str,
    first_name: str = "Ann",
) -> dict[str, Any]:
    """``user_id`` presses a button of a message in the admin chat; returns the answer."""
    return dict(
        await community.world.control(
            "POST",
            f"/bots/{community.bot_id}/users/{user_id}/press",
            {
                "message_id": message["message_id"],
                "data": data,
                "chat_id": community.admin_chat_id,
                "first_name": first_name,
            },
        )
    )


async def admin_says(
    community: World.Community,
    user_id: int,
    text: str,
    first_name: str = "Ann",
    reply_to: int | None = None,
) -> dict[str, Any]:
    """``user_id`` writes ``text`` in the admin chat (as a reply to message ``reply_to``);
    returns the bot's answer there.

    The answer is the bot's first message after ``text`` that is not a card
    (cards arrive through the notifier whenever they do).
    """
    sent = await community.world.control(
        "POST",
        f"/bots/{community.bot_id}/users/{user_id}/messages",
        {
            "text": text,
            "chat_id": community.admin_chat_id,
            "first_name": first_name,
            "reply_to_message_id": reply_to,
        },
    )
    return next(
        m
        for m in await chat(community, community.admin_chat_id)
        if m.get("from_bot")
        and m["message_id"] > sent["message_id"]
        and not shown(m).startswith("🆕")
    )


async def type_reason(
    community: World.Community, user_id: int, text: str, first_name: str = "Ann"
) -> dict[str, Any]:
    """``user_id`` answers the bot's latest "type the reason" prompt with a reply (the
    only way a reason reaches a bot under privacy mode); returns the bot's answer."""
    prompt = [
        m
        for m in await chat(community, community.admin_chat_id)
        if m.get("from_bot") and "type the reason" in shown(m)
    ][-1]
    return await admin_says(community, user_id, text, first_name, reply_to=prompt["message_id"])


async def erase(member: Member) -> None:
    """/deleteme → "Erase everything", checked on the confirmation message itself
    (a batched notice may land in the chat at any moment, so "the last message"
    is not necessarily the bot's answer)."""
    await member.send("/deleteme")
    ask = [m for m in await member.bot_messages() if "Erase all your data" in m["text"]][-1]
    await member.press(ask["message_id"], button(ask, "Erase everything"))
    done = next(m for m in await member.bot_messages() if m["message_id"] == ask["message_id"])
    assert done["text"].startswith("🗑 Done."), done["text"]


async def set_report_threshold(community: World.Community, value: str) -> None:
    """An admin sets the weighted reports that hide a comment (``/settings reports``)."""
    answer = await admin_says(community, 1, f"/settings reports {value}")
    assert f"reports: {value} " in shown(answer), shown(answer)
