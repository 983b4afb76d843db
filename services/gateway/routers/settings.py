"""The member's own /settings in the private chat: notifications on or off.

The admin chat's /settings (community rules) is another router's; this one
answers private chats only.
"""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import Pressed, PrivateChat
from services.gateway.member import MemberLookup
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text, reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts
from services.gateway.views.keyboards import notifications_keyboard
from veil.contracts.callbacks import NotificationsChoice

router = FeatureRouter(name="settings")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(Command("settings"))
async def show(message: Message, member: MemberLookup) -> None:
    """The current setting with a button for the other value."""
    enabled = (await member()).standing.notifications_enabled
    await reply(message, texts.settings(enabled), reply_markup=notifications_keyboard(enabled))


@router.callback_query(Pressed(NotificationsChoice))
async def choose(
    query: CallbackQuery,
    callback_data: NotificationsChoice,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """Store the pressed value (a set, so a redelivered press is harmless) and show it."""
    standing = await services.set_notifications(
        community, query.from_user.id, bool(callback_data.on)
    )
    enabled = standing.notifications_enabled
    await answer_query(query, texts.NOTIFICATIONS_ON if enabled else texts.NOTIFICATIONS_OFF)
    if isinstance(query.message, Message):
        await edit_text(query.message, texts.settings(enabled), notifications_keyboard(enabled))
