"""``make chat``'s rendering and input, on messages the emulator really stored."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from tests.emulator.conftest import Emulator, started_member
from tools.chat import Press, Problem, Quit, Send, Start, interpret, render

USER = 4_300_000_001


async def test_render_and_interpret(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    menu = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="✍️ New")], [KeyboardButton(text="❓ Help")]]
    )
    await bot.send_message(USER, "Welcome\nto the bot", reply_markup=menu)
    preview = await bot.send_message(
        USER,
        "Preview <b>x</b>",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="✅ Send", callback_data="send"),
                    InlineKeyboardButton(text="✖️ Cancel", callback_data="cancel"),
                ]
            ]
        ),
    )
    messages = await emulator.messages(bot.id, USER)
    assert render(messages[1]) == "bot: Welcome\n     to the bot\n     (a) ✍️ New  (b) ❓ Help"
    assert render(messages[2]) == "bot: Preview x\n     [1] ✅ Send  [2] ✖️ Cancel"

    assert interpret("2", messages) == Press(preview.message_id, "cancel")
    assert interpret("b", messages) == Send("❓ Help")
    assert interpret("'2", messages) == Send("2")
    assert interpret("hello there", messages) == Send("hello there")
    assert interpret("/start c_9", messages) == Start("c_9")
    assert interpret("/start", messages) == Start(None)
    assert interpret("/quit", messages) == Quit()
    assert interpret("   ", messages) is None
    assert isinstance(interpret("3", messages), Problem)
    assert isinstance(interpret("z", messages), Problem)

    await bot.edit_message_text(text="Sent", chat_id=USER, message_id=preview.message_id)
    edited = (await emulator.messages(bot.id, USER))[2]
    assert render(edited) == "bot (edited): Sent"
    assert isinstance(interpret("1", await emulator.messages(bot.id, USER)), Problem)
