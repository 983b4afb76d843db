"""/deleteme: after a confirmation, erase the member in every service. Irreversible."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from services.gateway import texts
from services.gateway.clients import ServiceClients
from services.gateway.filters import PrivateChat
from services.gateway.keyboards import EraseChoice, erase_keyboard
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text
from services.gateway.routers.context import actor
from veil.v1 import confessions_pb2, social_pb2

router = Router(name="deleteme")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(Command("deleteme"))
async def ask(message: Message) -> None:
    """Say what goes, and ask once more."""
    await message.answer(texts.ERASE_CONFIRM, reply_markup=erase_keyboard())


@router.callback_query(EraseChoice.filter())
async def choose(
    query: CallbackQuery,
    callback_data: EraseChoice,
    community: CommunityEntry,
    services: ServiceClients,
    state: FSMContext,
) -> None:
    """Erase (social first, then confessions) or keep everything."""
    message = query.message if isinstance(query.message, Message) else None
    if callback_data.action != "erase":
        await answer_query(query)
        if message is not None:
            await edit_text(message, texts.ERASE_KEPT)
        return
    member = actor(community, query.from_user)
    # Social first: it knows the member only by the internal id, which the
    # confessions erasure deletes. A failure in between is redone by the
    # redelivered press (both erasures are idempotent).
    registered = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=member)
    )
    await services.social.EraseMember(
        social_pb2.EraseSocialMemberRequest(
            community_id=community.id,
            member_id=registered.member.id,
            subject=registered.member.subject,
        )
    )
    await services.members.EraseMember(confessions_pb2.EraseMemberRequest(actor=member))
    await answer_query(query, "Erased.")
    if message is not None:
        await edit_text(message, texts.ERASED)
    # Drafts and read-your-writes marks in Redis go too.
    await state.clear()
