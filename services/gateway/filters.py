"""Async filters: they run on the event loop (aiogram runs sync filters in threads)."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from magic_filter import MagicFilter

from services.gateway.admins import AdminCheck
from services.gateway.registry import CommunityEntry
from services.gateway.routing import Keys
from services.gateway.views.keyboards import MENU_TEXTS
from veil.contracts.callback_packing import Callback


class TextIs(Filter):
    """Matches a message whose text is one of ``options`` (reply-keyboard buttons)."""

    def __init__(self, *options: str) -> None:
        self._options = frozenset(options)

    def update_keys(self) -> Keys:
        """Only these texts (services/gateway/routing.py)."""
        return frozenset(("text", option) for option in self._options)

    async def __call__(self, message: Message) -> bool:
        return message.text in self._options


class HasText(Filter):
    """Matches a message with text (not a command)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not (message.text or "").startswith("/")


class Typed(HasText):
    """Matches text a member typed: not a command, nor a menu button's text.

    What a member is writing (a confession, a comment, a message to the
    admins) takes typed text only: a menu button pressed meanwhile does what
    it says rather than being sent as the text.
    """

    async def __call__(self, message: Message) -> bool:
        return await super().__call__(message) and message.text not in MENU_TEXTS


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


class Pressed(Filter):
    """A press of a ``kind`` button (veil/contracts/callbacks.py) matching ``rule``.

    Passes the unpacked button as ``callback_data``; data of another kind, or
    malformed, does not match. ``Pressed(ModAction, F.action == CardButton.BAN)``
    is aiogram's ``CallbackData.filter`` for the contract's own classes.
    """

    def __init__(self, kind: type[Callback], rule: MagicFilter | None = None) -> None:
        self._kind = kind
        self._rule = rule

    def update_keys(self) -> Keys:
        """Only presses of this kind's buttons (services/gateway/routing.py)."""
        return frozenset({("callback", self._kind.prefix)})

    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        if not query.data:
            return False
        try:
            data = self._kind.unpack(query.data)
        except ValueError:
            return False
        if self._rule is not None and not self._rule.resolve(data):
            return False
        return {"callback_data": data}


class FromAdmin(Filter):
    """A message, or a press under a message in the admin chat, by an admin of it.

    For a press it passes the pressed message as ``card``. Place it after the
    cheaper filters of a handler: its answer may cost a Redis read (and, once
    per admin per interval, a ``getChatMember``).
    """

    async def __call__(
        self, event: Message | CallbackQuery, community: CommunityEntry, admins: AdminCheck
    ) -> bool | dict[str, Any]:
        if isinstance(event, Message):
            user = event.from_user
            return user is not None and await admins(
                community.bot, community.admin_chat_id, user.id
            )
        card = event.message if isinstance(event.message, Message) else None
        if card is None or card.chat.id != community.admin_chat_id:
            return False
        if not await admins(community.bot, community.admin_chat_id, event.from_user.id):
            return False
        return {"card": card}
