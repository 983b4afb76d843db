"""``GET …/chats/{id}/messages?last=N`` and ``…/buttons``: a driver reads the newest
messages only, or only their buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.support.emulator import Emulator, started_member

USER = 4_000_000_031


async def test_last_gives_the_newest_messages_oldest_first(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    sent = [(await bot.send_message(USER, f"number {i}")).message_id for i in range(4)]
    await bot.delete_message(USER, sent[-1])
    status, answer = await emulator.control("GET", f"/bots/{bot.id}/chats/{USER}/messages?last=2")
    assert status == 200
    assert [m["message_id"] for m in answer["messages"]] == sent[1:3]
    everything = await emulator.messages(bot.id, USER)
    assert len(everything) > 2 and everything[-2:] == answer["messages"]


async def test_buttons_gives_the_newest_messages_with_a_button_of_a_prefix(
    emulator: Emulator,
) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)

    def keyboard(*data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]]
        )

    first = await bot.send_message(USER, "page 1", reply_markup=keyboard("tv:1:0:0", "cc:1:0"))
    await bot.send_message(USER, "no buttons")
    other = await bot.send_message(USER, "a card", reply_markup=keyboard("mod:approve:3"))
    second = await bot.send_message(USER, "page 2", reply_markup=keyboard("tv:1:1:0"))
    gone = await bot.send_message(USER, "page 3", reply_markup=keyboard("tv:1:2:0"))
    await bot.delete_message(USER, gone.message_id)

    path = f"/bots/{bot.id}/chats/{USER}/buttons?prefix=tv:"
    status, answer = await emulator.control("GET", path)
    assert status == 200
    # The newest four shown messages hold two pages; every button of each is given.
    assert answer["messages"] == [
        {"message_id": first.message_id, "buttons": ["tv:1:0:0", "cc:1:0"]},
        {"message_id": second.message_id, "buttons": ["tv:1:1:0"]},
    ]
    _, newest = await emulator.control("GET", path + "&last=1")
    assert [m["message_id"] for m in newest["messages"]] == [second.message_id]
    _, cards = await emulator.control("GET", f"/bots/{bot.id}/chats/{USER}/buttons?prefix=mod:")
    assert [m["message_id"] for m in cards["messages"]] == [other.message_id]
