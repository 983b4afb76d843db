"""The reply slot: the update's last call rides in the 200, the calls before it go out in order.

Pure: no stack. A call is a recording awaitable standing in for an aiogram
method bound to a bot (the slot only awaits it or hands it to the 200).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from services.gateway.views.buttons import press
from services.gateway.webhook_reply import (
    ReplySlot,
    closing,
    drop_held,
    in_reply,
    json_params,
    opening,
    send_held,
)


class Call:
    """An awaitable Bot API call that records when it is made (and may be refused)."""

    def __init__(self, name: str, made: list[str], refusal: str | None = None) -> None:
        self.name, self._made, self._refusal = name, made, refusal

    def __await__(self) -> Generator[Any, None, None]:
        self._made.append(self.name)
        if self._refusal is not None:
            raise TelegramBadRequest(AnswerCallbackQuery(callback_query_id="q"), self._refusal)
        yield from asyncio.sleep(0).__await__()


def _run(body: Any) -> Any:
    return asyncio.run(body())


def test_calls_before_the_last_go_out_in_order_and_the_last_is_held() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        await in_reply(Call("answer", made))  # type: ignore[arg-type]
        await in_reply(Call("edit", made))  # type: ignore[arg-type]
        await send_held()  # a direct call is about to go out
        made.append("direct")
        await in_reply(Call("last", made))  # type: ignore[arg-type]
        closing(token)

    _run(update)
    assert made == ["answer", "edit", "direct"]
    assert slot.method.name == "last"  # type: ignore[union-attr]


def test_a_closed_slot_is_never_sent_again_and_later_calls_go_at_once() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        await in_reply(Call("last", made))  # type: ignore[arg-type]
        closing(token)
        # A task the handler left behind keeps the update's context.
        opening(slot)
        await send_held()
        await in_reply(Call("later", made))  # type: ignore[arg-type]

    _run(update)
    assert made == ["later"]
    assert slot.method.name == "last"  # type: ignore[union-attr]


def test_a_dropped_call_is_not_made_and_a_fine_refusal_is_no_error() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        await in_reply(Call("answer", made))  # type: ignore[arg-type]
        drop_held()
        await in_reply(Call("old query", made, "query is too old"), fine=("query is too old",))  # type: ignore[arg-type]
        await in_reply(Call("edit", made))  # type: ignore[arg-type]
        closing(token)

    _run(update)
    assert made == ["old query"]
    assert slot.method.name == "edit"  # type: ignore[union-attr]


def test_a_refusal_that_is_not_fine_fails_the_next_call() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        try:
            await in_reply(Call("edit", made, "message to edit not found"))  # type: ignore[arg-type]
            await in_reply(Call("next", made))  # type: ignore[arg-type]
        finally:
            closing(token)

    with pytest.raises(TelegramBadRequest):
        _run(update)
    assert made == ["edit"]


def _aiogram_params(bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
    """The parameters as aiogram itself prepares them (every field dumped)."""
    prepared: dict[str, Any] = bot.session.prepare_value(
        method.model_dump(warnings=False), bot=bot, files={}, _dumps_json=False
    )
    return prepared


@pytest.mark.parametrize(
    "defaults",
    [
        DefaultBotProperties(),
        DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    ],
)
def test_the_answers_parameters_are_aiograms_own(defaults: DefaultBotProperties) -> None:
    """json_params leaves unset fields out before aiogram's walk (the cheaper path)
    and gets what aiogram gets: defaults resolved, every None dropped."""
    bot = Bot("42:" + "x" * 35, default=defaults)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="👍 3", callback_data="cm:up:1:2:0:0:1")],
            [InlineKeyboardButton(text="site", url="https://example.org")],
        ]
    )
    # Buttons that only send callback data are written as JSON directly; any
    # other keyboard (a link, a field more, no keyboard at all) goes aiogram's way.
    pressable = InlineKeyboardMarkup(
        inline_keyboard=[
            [press("👍 3", "cm:up:1:2:0:0:1"), press("↩️", "cc:7:1")],
            [InlineKeyboardButton(text="⬅️", callback_data="tv:7:0:0")],
        ]
    )
    extra = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="b", spare=1)]]
    )
    methods: list[TelegramMethod[Any]] = [
        EditMessageText(chat_id=1, message_id=2, text="<b>#7</b>", reply_markup=markup),
        SendMessage(chat_id=1, text="hi", reply_markup=markup, parse_mode=None),
        AnswerCallbackQuery(callback_query_id="q", text="Thanks", show_alert=False),
        EditMessageReplyMarkup(chat_id=1, message_id=2, reply_markup=markup),
        EditMessageText(chat_id=1, message_id=2, text="<b>#7</b>", reply_markup=pressable),
        SendMessage(chat_id=1, text="hi", reply_markup=pressable),
        EditMessageReplyMarkup(chat_id=1, message_id=2, reply_markup=pressable),
        EditMessageReplyMarkup(
            chat_id=1, message_id=2, reply_markup=InlineKeyboardMarkup(inline_keyboard=[])
        ),
        SendMessage(chat_id=1, text="hi", reply_markup=extra),
    ]
    for method in methods:
        params = json_params(bot, method)
        assert params == _aiogram_params(bot, method)
        assert params is not None and None not in params.values()
    button = json_params(bot, methods[0])["reply_markup"]["inline_keyboard"][0][0]  # type: ignore[index]
    assert button == {"text": "👍 3", "callback_data": "cm:up:1:2:0:0:1"}
    assert json_params(bot, methods[4])["reply_markup"] == {  # type: ignore[index]
        "inline_keyboard": [
            [
                {"text": "👍 3", "callback_data": "cm:up:1:2:0:0:1"},
                {"text": "↩️", "callback_data": "cc:7:1"},
            ],
            [{"text": "⬅️", "callback_data": "tv:7:0:0"}],
        ]
    }
    assert json_params(bot, methods[-1])["reply_markup"]["inline_keyboard"][0][0]["spare"] == 1  # type: ignore[index]


def test_a_method_with_a_file_to_upload_has_no_json_params() -> None:
    bot = Bot("42:" + "x" * 35)
    photo = SendPhoto(chat_id=1, photo=BufferedInputFile(b"\x89PNG", filename="p.png"))
    assert json_params(bot, photo) is None
