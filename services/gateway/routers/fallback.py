"""Anything no other router took."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from services.gateway.replies import answer_query, reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts
from services.gateway.views.keyboards import MAIN_MENU

router = FeatureRouter(name="fallback")


@router.message()
async def unknown_message(message: Message) -> None:
    """Point the member back to the menu (private chats only)."""
    if message.chat.type == "private":
        await reply(message, texts.UNKNOWN, reply_markup=MAIN_MENU)


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    """A button from an old message: say so instead of spinning forever."""
    await answer_query(query, texts.DRAFT_GONE)
