"""The moderation Mini App's entry points, and ``/stats``.

Telegram allows ``web_app`` inline buttons only in private chats with the bot,
and a ``web_app`` menu button only per private chat (``setChatMenuButton``)
or as every chat's default. So:

- ``/panel`` (or ``/queue``) in the admin chat answers with the queue's size
  and a URL button to ``t.me/<bot>?start=panel``, which opens the admin's
  private chat with the bot;
- there, ``/start panel`` or ``/panel`` checks the admin-chat membership and
  answers with a ``web_app`` button "🗂 Open moderation", and sets that admin's
  menu button (their private chat only) to the Mini App;
- ``/stats`` in the admin chat shows the community's figures.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Message,
    WebAppInfo,
)

from services.gateway.admins import ONLY_ADMINS, AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.config import GatewaySettings
from services.gateway.filters import InAdminChat, PrivateChat
from services.gateway.miniapp.figures import figures
from services.gateway.registry import CommunityEntry
from veil.v1 import confessions_pb2

router = Router(name="panel")

PANEL_PAYLOAD = "panel"
OPEN = "🗂 Open moderation"
MENU_TEXT = "Moderation"


def miniapp_url(settings: GatewaySettings, community: CommunityEntry) -> str:
    """Where the gateway serves this community's Mini App."""
    return f"{settings.public_url.rstrip('/')}/miniapp/{community.id}/"


async def _is_admin(message: Message, community: CommunityEntry, admins: AdminCheck) -> bool:
    return message.from_user is not None and await admins(
        community.bot, community.admin_chat_id, message.from_user.id
    )


@router.message(InAdminChat(), Command("panel", "queue"))
async def panel_in_admin_chat(
    message: Message, community: CommunityEntry, services: ServiceClients, admins: AdminCheck
) -> None:
    """The queue's size and a link to the Mini App through the bot's private chat."""
    if not await _is_admin(message, community, admins):
        await message.answer(ONLY_ADMINS)
        return
    pending = await services.confessions.ListPending(
        confessions_pb2.ListPendingRequest(community_id=community.id, limit=1)
    )
    link = f"https://t.me/{community.bot_username}?start={PANEL_PAYLOAD}"
    await message.answer(
        f"🗂 <b>{pending.total}</b> confession(s) waiting for review.\n"
        "The moderation app opens in your private chat with me (Telegram allows "
        "Mini App buttons only there).",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=OPEN, url=link)]]
        ),
    )


@router.message(PrivateChat(), CommandStart(deep_link=True, magic=F.args == PANEL_PAYLOAD))
@router.message(PrivateChat(), Command("panel"))
async def panel_in_private(
    message: Message, community: CommunityEntry, admins: AdminCheck, settings: GatewaySettings
) -> None:
    """An admin's private chat: the web_app button and their menu button."""
    assert message.from_user is not None
    if not await _is_admin(message, community, admins):
        await message.answer(ONLY_ADMINS)
        return
    url = miniapp_url(settings, community)
    await community.bot.set_chat_menu_button(
        chat_id=message.from_user.id,
        menu_button=MenuButtonWebApp(text=MENU_TEXT, web_app=WebAppInfo(url=url)),
    )
    await message.answer(
        "🗂 The moderation app: the queue oldest first, decisions, figures. "
        "It is also under the menu button of this chat.",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=OPEN, web_app=WebAppInfo(url=url))]]
        ),
    )


@router.message(InAdminChat(), Command("stats"))
async def stats(
    message: Message, community: CommunityEntry, services: ServiceClients, admins: AdminCheck
) -> None:
    """The community's figures, numbers only."""
    if not await _is_admin(message, community, admins):
        await message.answer(ONLY_ADMINS)
        return
    await message.answer((await figures(services, community.id)).to_html())
