"""The last Bot API call of an update rides in the webhook response instead of its own request.

Telegram executes a method given in the body of the webhook's 200 answer. It
gives the bot no result, so only calls whose result nobody reads go there
(``in_reply``): answers to button presses, edits, and messages whose id nobody
keeps. Such a call is *held* in the update's reply slot; when the handler makes
another call, the held one goes out first, so Telegram sees every call of the
update in the order the handler made it and only the last rides in the 200.
The held call leaves with the 200, that is only once the update was handled: a
failed update answers non-2xx without it, and Telegram's redelivery makes it
again.

A refusal that only means "done before" (a query answered already, a message
already edited) is no error for a held call either: ``in_reply`` takes the
texts of such refusals and a held call that gets one is fine.

``in_reply(method)`` outside a webhook update (a task the handler left behind,
the Mini App) calls the method at once.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiohttp import web
from opentelemetry.trace import SpanKind

from services.gateway.views.buttons import pressable_rows
from veil.core.telemetry import tracer


@dataclass
class ReplySlot:
    """The call the webhook answer may carry, and the refusals it may meet harmlessly."""

    method: TelegramMethod[Any] | None = None
    fine: tuple[str, ...] = ()
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


async def call(method: TelegramMethod[Any], fine: Iterable[str] = ()) -> None:
    """Make ``method`` now; a refusal whose text contains one of ``fine`` is no error."""
    try:
        await method
    except TelegramBadRequest as error:
        if not any(text in error.message for text in fine):
            raise


async def in_reply(method: TelegramMethod[Any], fine: Iterable[str] = ()) -> None:
    """Hold ``method`` for the webhook answer (sending a call held before it first).

    Outside a webhook update the method is made at once. ``fine``: refusals
    that mean the call's effect is already there (see :func:`call`).
    """
    slot = _slot.get()
    if slot is None or not slot.open:
        await call(method, fine)
        return
    await send_held()
    slot.method, slot.fine = method, tuple(fine)


async def send_held() -> None:
    """Send the held call now: another call is about to go out and must come after it."""
    slot = _slot.get()
    # A closed slot's call already left with the 200 (or its update failed):
    # a task the handler left behind must not make it again.
    if slot is not None and slot.open and slot.method is not None:
        held, fine = slot.method, slot.fine
        slot.method, slot.fine = None, ()
        await call(held, fine)


def drop_held() -> None:
    """Forget the held call: the update failed after it, and the member is told so instead."""
    slot = _slot.get()
    if slot is not None and slot.open:
        slot.method, slot.fine = None, ()


def json_params(bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any] | None:
    """``method``'s parameters as Telegram takes them in JSON; None when it uploads files."""
    files: dict[str, Any] = {}
    # A keyboard of buttons that only send callback data is written as JSON
    # directly; the rest of the method goes the usual way.
    keyboard = pressable_rows(getattr(method, "reply_markup", None))
    # aiogram drops every None after preparing; leaving them out of the dump
    # already spares its walk the unset fields (the same parameters).
    params: dict[str, Any] = bot.session.prepare_value(
        method.model_dump(
            warnings=False,
            exclude_none=True,
            exclude={"reply_markup"} if keyboard is not None else None,
        ),
        bot=bot,
        files=files,
        _dumps_json=False,
    )
    if keyboard is not None:
        params["reply_markup"] = {"inline_keyboard": keyboard}
    return None if files else params


def reply_body(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    """The JSON webhook answer carrying ``method``; None if it cannot (files to upload)."""
    params = json_params(bot, method)
    if params is None:
        return None
    return orjson.dumps({"method": method.__api_method__, **params})


async def answer_with(bot: Bot, slot: ReplySlot) -> web.Response:
    """The 200 answer to Telegram, with the slot's method when there is one."""
    if slot.method is None:
        return web.Response(status=200)
    body = reply_body(bot, slot.method)
    if body is None:
        await call(slot.method, slot.fine)
        return web.Response(status=200)
    name = slot.method.__api_method__
    # The trace shows the call that answered the update, though Telegram makes it.
    with tracer().start_as_current_span(
        f"webhook answer {name}",
        kind=SpanKind.PRODUCER,
        attributes={"telegram.method": name, "veil.answer": "webhook response"},
    ):
        return web.Response(status=200, body=body, content_type="application/json")
