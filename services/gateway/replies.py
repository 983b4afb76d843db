"""Bot API calls that stay correct when Telegram redelivers the update.

A handler whose update failed half-way runs again from the start: the
callback query it answered cannot be answered twice, and the message it
edited is already edited. Those two refusals mean "done before", not errors.

None of these calls has a result anyone reads, so each is held for the webhook
answer (services/gateway/webhook_reply.py): the last call of an update rides
in the 200 instead of a request of its own.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
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
    await in_reply(
        query.answer(None if text is None else alert_text(text), show_alert=alert, url=url),
        fine=(_ANSWERED,),
    )


async def reply(message: Message, html: str, **options: Any) -> None:
    """Answer ``message`` in its chat with ``html``; nobody needs the new message's id."""
    await in_reply(message.answer(html, **options))


async def answer_long(message: Message, html: str) -> None:
    """Answer with ``html`` (HTML), in as many messages as Telegram's limit needs."""
    for chunk in split_html(html):
        await reply(message, chunk)


async def edit_text(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace a bot message's text; an edit that already happened is fine."""
    await in_reply(message.edit_text(text, reply_markup=reply_markup), fine=(_UNCHANGED,))


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
    edit: TelegramMethod[Any]
    if html is None:
        edit = EditMessageReplyMarkup(chat_id=chat_id, message_id=message_id, reply_markup=markup)
    elif caption:
        edit = EditMessageCaption(
            chat_id=chat_id, message_id=message_id, caption=html, reply_markup=markup
        )
    else:
        edit = EditMessageText(
            text=html, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    await in_reply(edit.as_(bot), fine=(_UNCHANGED,))


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
        await in_reply(message.answer_photo(file_id, caption=caption, reply_markup=markup))
    elif kind == "voice":
        await in_reply(message.answer_voice(file_id, caption=caption, reply_markup=markup))
    else:
        await in_reply(message.answer_video(file_id, caption=caption, reply_markup=markup))
