"""Groups as Telegram runs them: privacy mode, restricted members, command scopes."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    ChatMemberRestricted,
)

from tests.support.emulator import Emulator, Receiver

GROUP = -1_000_300
USERS = (4_200_000_001, 4_200_000_002)


async def _group(emulator: Emulator, bot_id: int, *, bot_is_admin: bool) -> None:
    await emulator.act(
        "/chats",
        {
            "bot_id": bot_id,
            "chat_id": GROUP,
            "type": "supergroup",
            "members": list(USERS),
            "bot_is_admin": bot_is_admin,
        },
    )


async def _says(
    emulator: Emulator, bot_id: int, text: str, reply_to: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text, "chat_id": GROUP}
    if reply_to is not None:
        body["reply_to_message_id"] = reply_to
    return await emulator.act(f"/bots/{bot_id}/users/{USERS[0]}/messages", body)


async def test_privacy_mode_filters_what_a_non_admin_bot_hears(
    emulator: Emulator, receiver: Receiver
) -> None:
    bot = emulator.bot()
    await bot.set_webhook(receiver.url)
    await _group(emulator, bot.id, bot_is_admin=False)
    me = await bot.get_me()
    assert me.can_read_all_group_messages is False
    prompt = await bot.send_message(GROUP, "Type the reason")
    chatter = await _says(emulator, bot.id, "just chatting")
    heard = {
        "plain": chatter,
        "command": await _says(emulator, bot.id, "/bans"),
        "addressed": await _says(emulator, bot.id, f"/bans@{me.username}"),
        "other bot's": await _says(emulator, bot.id, "/bans@some_other_bot"),
        "reply to bot": await _says(emulator, bot.id, "a reason", prompt.message_id),
        "reply to member": await _says(emulator, bot.id, "me too", int(chatter["message_id"])),
        "mention": await _says(emulator, bot.id, f"hey @{me.username} help"),
    }
    delivered = {name for name, result in heard.items() if result["delivered"]}
    assert delivered == {"command", "addressed", "reply to bot", "mention"}
    texts = [u["message"]["text"] for u in receiver.updates]
    assert texts == ["/bans", f"/bans@{me.username}", "a reason", f"hey @{me.username} help"]
    # Every message is in the group all the same.
    stored = await emulator.messages(bot.id, GROUP)
    assert sum(not m["from_bot"] for m in stored) == len(heard)

    # Made an admin, the bot hears everything.
    await emulator.act(f"/bots/{bot.id}/chats/{GROUP}/bot", {"is_admin": True})
    assert (await _says(emulator, bot.id, "more chatter"))["delivered"] is True
    assert (await bot.get_chat_member(GROUP, bot.id)).status == "administrator"
    # Demoted again but with privacy mode off (BotFather's /setprivacy), too.
    await emulator.act(f"/bots/{bot.id}/chats/{GROUP}/bot", {"is_admin": False})
    assert (await _says(emulator, bot.id, "unheard"))["delivered"] is False
    await emulator.act(f"/bots/{bot.id}/privacy", {"enabled": False})
    assert (await _says(emulator, bot.id, "heard"))["delivered"] is True
    assert (await bot.get_me()).can_read_all_group_messages is True
    assert [u["message"]["text"] for u in receiver.updates][-2:] == ["more chatter", "heard"]


async def test_a_restricted_user_who_left(emulator: Emulator) -> None:
    bot = emulator.bot()
    await _group(emulator, bot.id, bot_is_admin=True)
    member_path = f"/bots/{bot.id}/chats/{GROUP}/members"
    await emulator.act(f"{member_path}/{USERS[0]}", {"status": "restricted", "is_member": True})
    await emulator.act(f"{member_path}/{USERS[1]}", {"status": "restricted", "is_member": False})
    stayed = await bot.get_chat_member(GROUP, USERS[0])
    left = await bot.get_chat_member(GROUP, USERS[1])
    assert isinstance(stayed, ChatMemberRestricted) and stayed.is_member is True
    assert isinstance(left, ChatMemberRestricted) and left.is_member is False
    assert left.can_send_messages is False
    await emulator.act(f"{member_path}/{USERS[1]}", {"status": "left"})
    assert (await bot.get_chat_member(GROUP, USERS[1])).status == "left"
    await emulator.act(f"{member_path}/{USERS[1]}", {"status": "member"})
    assert (await bot.get_chat_member(GROUP, USERS[1])).status == "member"
    status, answer = await emulator.control("POST", f"{member_path}/{USERS[1]}", {"status": "x"})
    assert status == 400 and "status must be one of" in answer["error"]


async def _listed(
    bot: Bot, scope: BotCommandScopeAllPrivateChats | BotCommandScopeChat
) -> list[tuple[str, str]]:
    return [(c.command, c.description) for c in await bot.get_my_commands(scope=scope)]


async def test_commands_are_kept_per_scope(emulator: Emulator) -> None:
    bot = emulator.bot()
    await _group(emulator, bot.id, bot_is_admin=True)
    members = [BotCommand(command="my", description="Your confessions")]
    admins = [BotCommand(command="bans", description="Bans in force")]
    private, group = BotCommandScopeAllPrivateChats(), BotCommandScopeChat(chat_id=GROUP)
    assert await bot.set_my_commands(members, scope=private)
    assert await bot.set_my_commands(admins, scope=group)
    assert await _listed(bot, private) == [("my", "Your confessions")]
    assert await _listed(bot, group) == [("bans", "Bans in force")]
    assert await bot.get_my_commands() == []
    assert await bot.get_my_commands(scope=BotCommandScopeDefault()) == []
    assert await bot.get_my_commands(scope=private, language_code="de") == []
    assert await bot.delete_my_commands(scope=group)
    assert await bot.get_my_commands(scope=group) == []
    assert await _listed(bot, private) == [("my", "Your confessions")]
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(admins, scope=BotCommandScopeChat(chat_id=-1_999_999))
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand(command="x", description="d" * 257)])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="d")])


async def test_a_text_mention_carries_the_whole_user(emulator: Emulator) -> None:
    bot = emulator.bot()
    await _group(emulator, bot.id, bot_is_admin=True)
    await _says(emulator, bot.id, "hello")  # the bot now knows the user's name
    sent = await bot.send_message(
        GROUP, f'<a href="tg://user?id={USERS[0]}">Ann</a>, reply please', parse_mode="HTML"
    )
    assert sent.entities is not None
    mention = sent.entities[0]
    assert mention.type == "text_mention" and mention.user is not None
    assert (mention.user.id, mention.user.is_bot) == (USERS[0], False)
    edited = await bot.edit_message_text(
        f'<a href="tg://user?id={USERS[0]}">Ann</a>, reply now',
        chat_id=GROUP,
        message_id=sent.message_id,
        parse_mode="HTML",
    )
    assert not isinstance(edited, bool) and edited.entities is not None
    assert edited.entities[0].user is not None and edited.entities[0].user.id == USERS[0]
