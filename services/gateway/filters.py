"""Async filters: they run on the event loop (aiogram runs sync filters in threads)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message


class TextIs(Filter):
    """Matches a message whose text is one of ``options`` (reply-keyboard buttons)."""

    def __init__(self, *options: str) -> None:
        self._options = frozenset(options)

    async def __call__(self, message: Message) -> bool:
        return message.text in self._options


class HasText(Filter):
    """Matches a message with text (not a command)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not (message.text or "").startswith("/")


class PrivateChat(Filter):
    """Matches a message, or a press under a message, in a private chat with the bot.

    Member-only commands (/me, /settings, /deleteme) answer there only: the
    admin chat has its own /settings.
    """

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return isinstance(message, Message) and message.chat.type == "private"
