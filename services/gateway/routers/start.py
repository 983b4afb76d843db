"""/start (with or without a deep-link payload) and /help."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from services.gateway import texts
from services.gateway.clients import ServiceClients
from services.gateway.filters import PrivateChat, TextIs
from services.gateway.keyboards import MAIN_MENU
from services.gateway.registry import CommunityEntry
from services.gateway.routers.context import actor
from veil.v1 import confessions_pb2

router = Router(name="start")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(CommandStart())
async def start(message: Message, community: CommunityEntry, services: ServiceClients) -> None:
    """Register the member and greet them with the main menu."""
    assert message.from_user is not None
    response = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=actor(community, message.from_user))
    )
    await message.answer(texts.welcome(community.title, response.created), reply_markup=MAIN_MENU)


@router.message(Command("help"))
@router.message(TextIs(texts.HELP))
async def help_(message: Message) -> None:
    """How Veil works."""
    await message.answer(texts.HELP_TEXT, reply_markup=MAIN_MENU)
