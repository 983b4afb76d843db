"""Bot API methods that change or delete a message the bot can see."""

from __future__ import annotations

from typing import Any

from tools.telegram_emulator.errors import bad_request
from tools.telegram_emulator.model import BotState, Message, now
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.sending import caption_param, markup_param, text_param
from tools.telegram_emulator.state import Emulator


def _own_message(bot: BotState, params: Params, missing: str) -> Message:
    if params.has("inline_message_id"):
        raise bad_request(missing)
    chat = bot.chat(params.required("chat_id"))
    if chat.type == "private" and chat.blocked:
        chat.require_writable(bot)
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    return chat.find(message_id, missing)


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def _edit(em: Emulator, bot: BotState, params: Params, *, caption: bool) -> dict[str, Any]:
    """editMessageText and editMessageCaption: the same checks on another field."""
    message = _own_message(bot, params, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    if caption:
        if message.media is None:
            raise bad_request("there is no caption in the message to edit")
        shown, raw, entities = caption_param(params)
        current = (message.caption, message.caption_entities)
    else:
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        shown, raw, entities = text_param(params)
        current = (message.text, message.entities)
    entities = bot.with_users(entities)
    markup = markup_param(params)
    if (shown, entities, markup) == (*current, message.reply_markup):
        raise bad_request(_NOT_MODIFIED)
    em.flood.admit(bot.id, message.chat.id, message.chat.type)
    if caption:
        message.caption, message.caption_entities = shown, entities
    else:
        message.text, message.entities = shown, entities
    message.html, message.reply_markup, message.edit_date = raw, markup, now()
    return message.to_api()


def edit_message_text(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """editMessageText."""
    return _edit(em, bot, params, caption=False)


def edit_message_caption(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """editMessageCaption."""
    return _edit(em, bot, params, caption=True)


def edit_message_reply_markup(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """editMessageReplyMarkup."""
    message = _own_message(bot, params, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    markup = markup_param(params)
    if markup == message.reply_markup or (not markup and not message.reply_markup):
        raise bad_request(_NOT_MODIFIED)
    em.flood.admit(bot.id, message.chat.id, message.chat.type)
    message.reply_markup, message.edit_date = markup, now()
    return message.to_api()


def delete_message(em: Emulator, bot: BotState, params: Params) -> bool:
    """deleteMessage."""
    message = _own_message(bot, params, "message to delete not found")
    chat = message.chat
    if not message.from_bot and chat.type != "private" and not chat.bot_is_admin:
        raise bad_request("message can't be deleted")
    message.deleted = True
    return True
