"""One Bot API call per update can ride in the webhook response instead of its own request.

Telegram executes a method given in the body of the webhook's 200 answer. It
gives the bot no result, so only calls whose result nobody reads go there: the
answer to a button press (``answerCallbackQuery``, whose result is ``True``) and
a handler's last message when no message id is needed. The call leaves with the
200, that is only once the update was handled: a failed update answers non-2xx
without it, and Telegram's redelivery makes it again.

``in_reply(method)`` puts the method in the update's reply slot when the slot is
free, and makes the call at once otherwise (outside a webhook update too).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

import orjson
from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiohttp import web


@dataclass
class ReplySlot:
    """The one call the webhook answer may carry."""

    method: TelegramMethod[Any] | None = None
    open: bool = True


# The slot of the update being handled in this task (contextvars follow the task).
_slot: contextvars.ContextVar[ReplySlot | None] = contextvars.ContextVar(
    "veil_reply_slot", default=None
)


def opening(slot: ReplySlot) -> contextvars.Token[ReplySlot | None]:
    """Let this task's ``in_reply`` calls use ``slot``."""
    return _slot.set(slot)


def closing(token: contextvars.Token[ReplySlot | None]) -> None:
    """Stop filling the slot (tasks a handler left behind call the API themselves)."""
    slot = _slot.get()
    if slot is not None:
        slot.open = False
    _slot.reset(token)


async def in_reply(method: TelegramMethod[Any]) -> None:
    """Send ``method`` in the webhook answer if the slot is free, else call it now."""
    slot = _slot.get()
    if slot is not None and slot.open and slot.method is None:
        slot.method = method
        return
    await method


def reply_body(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    """The JSON webhook answer carrying ``method``; None if it cannot (files to upload)."""
    files: dict[str, Any] = {}
    params = bot.session.prepare_value(
        method.model_dump(warnings=False), bot=bot, files=files, _dumps_json=False
    )
    if files:
        return None
    return orjson.dumps({"method": method.__api_method__, **params})


async def answer_with(bot: Bot, slot: ReplySlot) -> web.Response:
    """The 200 answer to Telegram, with the slot's method when there is one."""
    if slot.method is None:
        return web.Response(status=200)
    body = reply_body(bot, slot.method)
    if body is None:
        await bot(slot.method)
        return web.Response(status=200)
    return web.Response(status=200, body=body, content_type="application/json")
