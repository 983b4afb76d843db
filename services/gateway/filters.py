"""Async filters: they run on the event loop (aiogram runs sync filters in threads)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

from services.gateway.registry import CommunityEntry


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


class InAdminChat(Filter):
    """Matches a message in the community's admin chat (admin commands live there)."""

    async def __call__(self, message: Message, community: CommunityEntry) -> bool:
        return message.chat.id == community.admin_chat_id


class HasMedia(Filter):
    """Matches a photo, voice note or video; passes ``media_kind`` and ``file_id``."""

    async def __call__(self, message: Message) -> bool | dict[str, str]:
        if message.photo:
            # The largest size comes last.
            return {"media_kind": "photo", "file_id": message.photo[-1].file_id}
        if message.voice is not None:
            return {"media_kind": "voice", "file_id": message.voice.file_id}
        if message.video is not None:
            return {"media_kind": "video", "file_id": message.video.file_id}
        return False


def _in_private(event: Message | CallbackQuery) -> bool:
    message = event.message if isinstance(event, CallbackQuery) else event
    return isinstance(message, Message) and message.chat.type == "private"


class PrivateChat(Filter):
    """Matches a message, or a press under a message, in a private chat with the bot.

    Every member flow runs there only: in a group it would show a member's
    data to the group, and the admin chat has its own /settings.
    """

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        return _in_private(event)


class OutsidePrivateChat(Filter):
    """Matches a message, or a press, anywhere but a private chat (groups, the admin chat).

    A press under an inaccessible message counts as outside: nothing shows
    that it sits in a private chat.
    """

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        return not _in_private(event)
