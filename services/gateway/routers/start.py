"""/start (with or without a deep-link payload) and /help."""

from __future__ import annotations

from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from services.gateway.filters import PrivateChat, TextIs
from services.gateway.member import MemberLookup
from services.gateway.registry import CommunityEntry
from services.gateway.replies import reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts
from services.gateway.views.keyboards import MAIN_MENU

router = FeatureRouter(name="start")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(CommandStart())
async def start(message: Message, community: CommunityEntry, member: MemberLookup) -> None:
    """Register the member and greet them with the main menu."""
    response = await member()
    await reply(message, texts.welcome(community.title, response.created), reply_markup=MAIN_MENU)


@router.message(Command("help"))
@router.message(TextIs(texts.HELP))
async def help_(message: Message) -> None:
    """How Veil works."""
    await reply(message, texts.HELP_TEXT, reply_markup=MAIN_MENU)
