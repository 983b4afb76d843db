"""/deleteme: after a confirmation, erase the member in every service. Irreversible."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import Pressed, PrivateChat
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text, reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts
from services.gateway.views.keyboards import erase_keyboard
from veil.contracts.callbacks import EraseButton, EraseChoice

router = FeatureRouter(name="deleteme")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(Command("deleteme"))
async def ask(message: Message) -> None:
    """Say what goes, and ask once more."""
    await reply(message, texts.ERASE_CONFIRM, reply_markup=erase_keyboard())


@router.callback_query(Pressed(EraseChoice, F.action == EraseButton.KEEP))
async def keep(query: CallbackQuery) -> None:
    """✖️ Keep my data: nothing changes."""
    await answer_query(query)
    if isinstance(query.message, Message):
        await edit_text(query.message, texts.ERASE_KEPT)


@router.callback_query(Pressed(EraseChoice, F.action == EraseButton.ERASE))
async def erase(
    query: CallbackQuery, community: CommunityEntry, services: ServiceClients, state: FSMContext
) -> None:
    """🗑 Erase everything, in every service."""
    await services.erase(community, query.from_user.id)
    await answer_query(query, texts.ERASED_ALERT)
    if isinstance(query.message, Message):
        await edit_text(query.message, texts.ERASED)
    # Drafts and read-your-writes marks in Redis go too.
    await state.clear()
