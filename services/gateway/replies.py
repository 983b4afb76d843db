"""Bot API calls that stay correct when Telegram redelivers the update.

A handler whose update failed half-way runs again from the start: the
callback query it answered cannot be answered twice, and the message it
edited is already edited. Those two refusals mean "done before", not errors.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from services.gateway.webhook_reply import in_reply
from veil.core.telegram_text import alert_text, split_html

_ANSWERED = "query is too old"
_UNCHANGED = "message is not modified"


async def answer_query(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False, url: str | None = None
) -> None:
    """Answer a button press; an already answered (or expired) query is fine.

    ``text`` is plain text (Telegram shows it as written: never escape it), cut
    to the 200 characters an answer may have. ``url`` may be a
    ``t.me/<bot>?start=…`` link: the client opens the bot with it. The answer
    rides in the webhook's 200 when it can (its result is only ``True``).
    """
    try:
        await in_reply(
            query.answer(None if text is None else alert_text(text), show_alert=alert, url=url)
        )
    except TelegramBadRequest as error:
        if _ANSWERED not in error.message:
            raise


async def answer_long(message: Message, html: str) -> None:
    """Answer with ``html`` (HTML), in as many messages as Telegram's limit needs."""
    for chunk in split_html(html):
        await message.answer(chunk)


async def edit_text(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace a bot message's text; an edit that already happened is fine."""
    try:
        await message.edit_text(text, reply_markup=reply_markup)
    except TelegramBadRequest as error:
        if _UNCHANGED not in error.message:
            raise


async def edit_card(
    bot: Bot,
    chat_id: int,
    message_id: int,
    *,
    html: str | None,
    markup: InlineKeyboardMarkup | None,
    caption: bool,
) -> None:
    """Edit a bot message by id: its text (its caption for media; None keeps it) and buttons.

    ``markup`` None removes the buttons. An edit that already happened is fine.
    """
    try:
        if html is None:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        elif caption:
            await bot.edit_message_caption(
                chat_id=chat_id, message_id=message_id, caption=html, reply_markup=markup
            )
        else:
            await bot.edit_message_text(
                text=html, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
    except TelegramBadRequest as error:
        if _UNCHANGED not in error.message:
            raise


async def edit_message(
    message: Message, html: str | None, markup: InlineKeyboardMarkup | None
) -> None:
    """:func:`edit_card` on a message the update carried (a pressed card)."""
    assert message.bot is not None
    await edit_card(
        message.bot,
        message.chat.id,
        message.message_id,
        html=html,
        markup=markup,
        caption=message.caption is not None,
    )


async def send_media(
    message: Message, kind: str, file_id: str, caption: str, markup: InlineKeyboardMarkup
) -> None:
    """Answer with a photo, voice note or video by ``file_id`` (never a forward)."""
    if kind == "photo":
        await message.answer_photo(file_id, caption=caption, reply_markup=markup)
    elif kind == "voice":
        await message.answer_voice(file_id, caption=caption, reply_markup=markup)
    else:
        await message.answer_video(file_id, caption=caption, reply_markup=markup)
