"""The member's own /settings in the private chat: notifications on or off.

The admin chat's /settings (community rules) is another router's; this one
answers private chats only.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from services.gateway import texts
from services.gateway.clients import ServiceClients
from services.gateway.filters import PrivateChat
from services.gateway.keyboards import NotificationsChoice, notifications_keyboard
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text
from services.gateway.routers.context import actor
from veil.v1 import confessions_pb2

router = Router(name="settings")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(Command("settings"))
async def show(message: Message, community: CommunityEntry, services: ServiceClients) -> None:
    """The current setting with a button for the other value."""
    assert message.from_user is not None
    response = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=actor(community, message.from_user))
    )
    enabled = response.standing.notifications_enabled
    await message.answer(texts.settings(enabled), reply_markup=notifications_keyboard(enabled))


@router.callback_query(NotificationsChoice.filter())
async def choose(
    query: CallbackQuery,
    callback_data: NotificationsChoice,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """Store the pressed value (a set, so a redelivered press is harmless) and show it."""
    standing = await services.members.SetNotifications(
        confessions_pb2.SetNotificationsRequest(
            actor=actor(community, query.from_user), enabled=bool(callback_data.on)
        )
    )
    enabled = standing.notifications_enabled
    await answer_query(query, texts.NOTIFICATIONS_ON if enabled else texts.NOTIFICATIONS_OFF)
    if isinstance(query.message, Message):
        await edit_text(query.message, texts.settings(enabled), notifications_keyboard(enabled))
