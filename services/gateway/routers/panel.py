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

from aiogram import F
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Message,
    WebAppInfo,
)

from services.gateway.clients import ServiceClients
from services.gateway.config import GatewaySettings
from services.gateway.filters import FromAdmin, InAdminChat, PrivateChat
from services.gateway.miniapp.figures import figures
from services.gateway.registry import CommunityEntry
from services.gateway.replies import reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import admin_texts

router = FeatureRouter(name="panel")

PANEL_PAYLOAD = "panel"


def miniapp_url(settings: GatewaySettings, community: CommunityEntry) -> str:
    """Where the gateway serves this community's Mini App."""
    return f"{settings.public_url.rstrip('/')}/miniapp/{community.id}/"


@router.message(InAdminChat(), Command("panel", "queue"), FromAdmin())
async def panel_in_admin_chat(
    message: Message, community: CommunityEntry, services: ServiceClients
) -> None:
    """The queue's size and a link to the Mini App through the bot's private chat."""
    pending = await services.pending(community, limit=1)
    link = f"https://t.me/{community.bot_username}?start={PANEL_PAYLOAD}"
    await reply(
        message,
        admin_texts.queue_size(pending.total),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=admin_texts.OPEN_MODERATION, url=link)]]
        ),
    )


@router.message(
    PrivateChat(), CommandStart(deep_link=True, magic=F.args == PANEL_PAYLOAD), FromAdmin()
)
@router.message(PrivateChat(), Command("panel"), FromAdmin())
async def panel_in_private(
    message: Message, community: CommunityEntry, settings: GatewaySettings
) -> None:
    """An admin's private chat: the web_app button and their menu button."""
    assert message.from_user is not None
    url = miniapp_url(settings, community)
    await community.bot.set_chat_menu_button(
        chat_id=message.from_user.id,
        menu_button=MenuButtonWebApp(text=admin_texts.MODERATION_MENU, web_app=WebAppInfo(url=url)),
    )
    await reply(
        message,
        admin_texts.MODERATION_APP,
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=admin_texts.OPEN_MODERATION, web_app=WebAppInfo(url=url)
                    )
                ]
            ]
        ),
    )


@router.message(InAdminChat(), Command("stats"), FromAdmin())
async def stats(message: Message, community: CommunityEntry, services: ServiceClients) -> None:
    """The community's figures, numbers only."""
    await reply(message, (await figures(services, community.id)).to_html())


@router.message(InAdminChat(), Command("panel", "queue", "stats"))
@router.message(PrivateChat(), CommandStart(deep_link=True, magic=F.args == PANEL_PAYLOAD))
@router.message(PrivateChat(), Command("panel"))
async def not_admin(message: Message) -> None:
    """The moderation entry points, asked by someone not in the admin chat."""
    await reply(message, admin_texts.ONLY_ADMINS)
