"""Buttons copied from one validated button are the buttons aiogram would build."""

from __future__ import annotations

from aiogram import Bot
from aiogram.methods import EditMessageText
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.gateway.views.buttons import press
from services.gateway.webhook_reply import json_params


def test_a_pressable_button_is_the_one_aiogram_builds_and_sends_the_same_json() -> None:
    labels = [("1. ✅👍 3", "cm:up:9223372036854775807:1:2:0:0"), ("🗑", "cm:rm:5:1:0:0:0")]
    copied = [press(text, data) for text, data in labels]
    built = [InlineKeyboardButton(text=text, callback_data=data) for text, data in labels]
    assert copied == built
    # Only the two fields are set: nothing else reaches Telegram.
    assert [b.model_fields_set for b in copied] == [{"text", "callback_data"}] * 2
    bot = Bot("42:" + "x" * 35)

    def sent(buttons: list[InlineKeyboardButton]) -> object:
        method = EditMessageText(
            chat_id=1,
            message_id=2,
            text="x",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons]),
        )
        return json_params(bot, method)

    assert sent(copied) == sent(built)
    assert sent(copied)["reply_markup"] == {  # type: ignore[index]
        "inline_keyboard": [[{"text": t, "callback_data": d} for t, d in labels]]
    }
