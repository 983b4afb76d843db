"""Lengths as Telegram counts them: UTF-16 code units of the text after HTML parsing."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from tests.support.emulator import Emulator, Receiver, started_member

USER = 4_300_000_001
# One code point, two UTF-16 code units (outside the Basic Multilingual Plane).
EMOJI = "😀"


async def test_text_limit_counts_utf16_units_after_parsing(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    exactly = EMOJI * 2048  # 2,048 characters, 4,096 units
    sent = await bot.send_message(USER, exactly)
    assert sent.text == exactly
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(USER, exactly + "x")  # 4,097 units, 2,049 characters
    assert caught.value.message == "Bad Request: message is too long"
    # Tags count nothing and "&amp;" counts one unit: at the limit once parsed.
    html = "<b>" + EMOJI * 2047 + "</b>&amp;x"
    parsed = await bot.send_message(USER, html, parse_mode="HTML")
    assert parsed.text == EMOJI * 2047 + "&x"
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, html + "&lt;", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.edit_message_text(exactly + "y", chat_id=USER, message_id=sent.message_id)


async def test_caption_limit_counts_utf16_units(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    photo = BufferedInputFile(b"\x89PNG fake image bytes", filename="cat.png")
    caption = "<i>" + EMOJI * 511 + "</i>&amp;&gt;"  # 1,024 units once parsed
    sent = await bot.send_photo(USER, photo, caption=caption, parse_mode="HTML")
    assert sent.caption == EMOJI * 511 + "&>" and sent.photo
    file_id = sent.photo[-1].file_id
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_photo(USER, file_id, caption=EMOJI * 513)  # 513 characters
    assert caught.value.message == "Bad Request: message caption is too long"
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.edit_message_caption(
            chat_id=USER, message_id=sent.message_id, caption=caption + "!", parse_mode="HTML"
        )


async def test_callback_answer_at_most_200_units_shown_as_written(
    emulator: Emulator, receiver: Receiver
) -> None:
    bot = emulator.bot()
    assert await bot.set_webhook(receiver.url)
    await started_member(emulator, bot, USER)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
    )
    sent = await bot.send_message(USER, "Press", reply_markup=keyboard)
    refusals: list[str] = []

    async def answer(update: dict[str, Any]) -> int:
        query_id = update["callback_query"]["id"]
        try:
            await bot.answer_callback_query(query_id, text=EMOJI * 100 + "!")  # 201 units
        except TelegramBadRequest as error:
            refusals.append(error.message)
        # Plain text: an entity is shown literally, exactly 200 units is fine.
        await bot.answer_callback_query(query_id, text="A &amp; B " + EMOJI * 95)
        return 200

    receiver.handler = answer
    press = f"/bots/{bot.id}/users/{USER}/press"
    result = await emulator.act(press, {"message_id": sent.message_id, "data": "go"})
    assert refusals == ["Bad Request: MESSAGE_TOO_LONG"]
    assert result["answer"]["text"] == "A &amp; B " + EMOJI * 95
