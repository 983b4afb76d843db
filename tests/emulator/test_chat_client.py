"""``make chat``'s rendering and input, on messages the emulator really stored."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from tests.support.emulator import Emulator, Receiver, started_member
from tools.chat import (
    Chat,
    Press,
    Problem,
    Quit,
    Send,
    Start,
    describe_error,
    interpret,
    keyboard_button,
    press_button,
    render,
)

USER = 4_300_000_001


def _inline(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
    )


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
        reply_markup=_inline(("✅ Send", "send"), ("✖️ Cancel", "cancel")),
    )
    messages = await emulator.messages(bot.id, USER)
    assert not messages[0]["from_bot"]  # the member's /start
    assert render(messages[1]) == "bot: Welcome\n     to the bot\n     (a) ✍️ New  (b) ❓ Help"
    assert render(messages[2]) == "bot: Preview x\n     [1] ✅ Send  [2] ✖️ Cancel"

    assert interpret("!2", messages) == Press(preview.message_id, "cancel")
    assert interpret("2", messages) == Press(preview.message_id, "cancel")
    assert interpret("#2", messages) == Send("❓ Help")
    assert interpret("b", messages) == Send("❓ Help")
    assert interpret("'2", messages) == Send("2")
    assert interpret("hello there", messages) == Send("hello there")
    assert interpret("/start c_9", messages) == Start("c_9")
    assert interpret("/start", messages) == Start(None)
    assert interpret("/quit", messages) == Quit()
    assert interpret("   ", messages) is None
    assert press_button(3, messages) == Problem("choose a button from 1 to 2")
    assert press_button(0, messages) == Problem("choose a button from 1 to 2")
    assert keyboard_button(3, messages) == Problem("choose a keyboard button from 1 to 2")
    assert isinstance(interpret("z", messages), Problem)
    assert isinstance(interpret("#9", messages), Problem)

    await bot.edit_message_text(text="Sent", chat_id=USER, message_id=preview.message_id)
    after = await emulator.messages(bot.id, USER)
    assert render(after[2]) == "bot (edited): Sent"
    assert interpret("!1", after) == Problem("no message with buttons to press")


async def test_buttons_of_the_latest_message_with_buttons(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await bot.send_message(USER, "old", reply_markup=_inline(("Old", "old")))
    newer = await bot.send_message(USER, "new", reply_markup=_inline(("A", "a"), ("B", "b")))
    await bot.send_message(USER, "no buttons here")
    messages = await emulator.messages(bot.id, USER)
    assert press_button(2, messages) == Press(newer.message_id, "b")
    assert keyboard_button(1, messages) == Problem("no keyboard buttons to choose from")


def test_describe_error() -> None:
    assert describe_error(404, '{"error": "no chat -5 for bot 1"}') == (
        "emulator refused (404): no chat -5 for bot 1"
    )
    assert describe_error(502, "") == "emulator answered 502: (empty)"
    assert describe_error(500, "<html>oops</html>") == "emulator answered 500: <html>oops</html>"


async def test_chat_client_against_the_emulator(emulator: Emulator, receiver: Receiver) -> None:
    """The client's own HTTP calls (blocking urllib, hence a thread) drive a real exchange."""
    bot = emulator.bot()
    await bot.set_webhook(receiver.url)

    async def handle(update: dict[str, Any]) -> dict[str, Any]:
        if "callback_query" in update:
            query = update["callback_query"]
            return {
                "method": "answerCallbackQuery",
                "callback_query_id": query["id"],
                "text": f"pressed {query['data']}",
            }
        message = update["message"]
        return {
            "method": "sendMessage",
            "chat_id": message["chat"]["id"],
            "text": f"you said: {message['text']}",
            "reply_markup": {"inline_keyboard": [[{"text": "✅ Send", "callback_data": "ok"}]]},
        }

    receiver.handler = handle
    chat = Chat(emulator.url, bot.id, USER, "Alice")

    started = await asyncio.to_thread(chat.act, Start("c_7"))
    assert started["status"] == 200
    assert receiver.updates[-1]["message"]["text"] == "/start c_7"
    assert receiver.updates[-1]["message"]["from"]["first_name"] == "Alice"
    sent = await asyncio.to_thread(chat.act, Send("hello"))
    assert sent["status"] == 200

    messages = await asyncio.to_thread(chat.messages)
    shown = chat.show_new(messages)
    assert shown == [
        "bot: you said: /start c_7\n     [1] ✅ Send",
        "bot: you said: hello\n     [1] ✅ Send",
    ]
    assert chat.show_new(messages) == []  # nothing new, nothing shown again

    action = interpret("!1", messages)
    assert isinstance(action, Press) and action.message_id == messages[-1]["message_id"]
    pressed = await asyncio.to_thread(chat.act, action)
    assert pressed["answer"]["text"] == "pressed ok"

    with pytest.raises(RuntimeError, match=r"emulator refused \(400\): .*no button"):
        await asyncio.to_thread(chat.act, Press(action.message_id, "not-on-the-message"))
