"""The Bot API method table and its dispatcher, with Telegram's validation and answers.

Each method takes the emulator, the calling bot and its parameters and
returns the ``result`` Telegram would, or raises ``BotApiError``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

from tools.telegram_emulator.chats import get_chat, get_chat_administrators, get_chat_member
from tools.telegram_emulator.commands import delete_my_commands, get_my_commands, set_my_commands
from tools.telegram_emulator.connection import (
    delete_webhook,
    get_me,
    get_updates,
    get_webhook_info,
    set_webhook,
)
from tools.telegram_emulator.editing import (
    delete_message,
    edit_message_caption,
    edit_message_reply_markup,
    edit_message_text,
)
from tools.telegram_emulator.errors import BotApiError, bad_request, not_found
from tools.telegram_emulator.faults import Disconnect
from tools.telegram_emulator.html_text import utf16_len
from tools.telegram_emulator.model import BotState, error_of
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.sending import (
    MEDIA_KINDS,
    Method,
    copy_message,
    forward_message,
    send_media,
    send_message,
    writable_chat,
)
from tools.telegram_emulator.state import Emulator
from tools.telegram_emulator.webapp import get_chat_menu_button, set_chat_menu_button

MAX_CALLBACK_ANSWER = 200


def answer_callback_query(em: Emulator, bot: BotState, params: Params) -> bool:
    """answerCallbackQuery: once per query, and only while it is fresh."""
    query = bot.callbacks.get(params.text("callback_query_id") or "")
    if query is None or query.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.text("text") or ""
    if utf16_len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {
        "text": text or None,
        "show_alert": params.flag("show_alert"),
        "url": params.text("url"),
        "cache_time": params.integer("cache_time", 0),
    }
    return True


def send_chat_action(em: Emulator, bot: BotState, params: Params) -> bool:
    """sendChatAction."""
    writable_chat(bot, params)
    return True


def ok(em: Emulator, bot: BotState, params: Params) -> bool:
    """Methods that only need to succeed here (descriptions, names)."""
    return True


METHODS: dict[str, Method] = {
    "getme": get_me,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "getupdates": get_updates,
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "copymessage": copy_message,
    "forwardmessage": forward_message,
    "answercallbackquery": answer_callback_query,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "getchat": get_chat,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "sendchataction": send_chat_action,
    "setmydescription": ok,
    "setmyshortdescription": ok,
    "setmyname": ok,
    "setchatmenubutton": set_chat_menu_button,
    "getchatmenubutton": get_chat_menu_button,
    **{f"send{kind}": send_media(kind) for kind in MEDIA_KINDS},
}


async def call(em: Emulator, bot: BotState, method: str, params: Params) -> Any:
    """Run one Bot API call, count it and record it in the bot's call log."""
    name = method.lower()
    handler = METHODS.get(name)
    record: dict[str, Any] = {"method": method, "params": params.public(), "time": time.time()}
    bot.calls.append(record)
    em.stats["calls"] += 1
    em.stats[f"method:{method}"] += 1
    try:
        if handler is None:
            raise not_found()
        lost = em.faults.check(name, bot.id, params.raw("chat_id"))
        result = handler(em, bot, params)
        if inspect.isawaitable(result):
            result = await result
        if lost is not None and lost.delay:
            record["answer_delayed"] = lost.hold_seconds
            await asyncio.sleep(lost.hold_seconds)
        elif lost is not None:
            # Done, but the client never hears of it.
            record |= {"ok": True, "answer_lost": True}
            await asyncio.sleep(lost.hold_seconds)
            raise Disconnect(method)
    except BotApiError as error:
        record |= {"ok": False, **error_of(error)}
        em.stats[f"error:{error.error_code}"] += 1
        raise
    except Disconnect:
        record.setdefault("ok", False)
        record["disconnected"] = True
        em.stats["disconnects"] += 1
        raise
    record["ok"] = True
    return result
