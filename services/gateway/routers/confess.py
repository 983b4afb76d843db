"""Writing a confession: ask → preview (Send / Edit / Cancel) → stored as pending."""

from __future__ import annotations

import uuid

import grpc
from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from services.gateway import texts
from services.gateway.clients import ServiceClients
from services.gateway.entities import as_proto, trimmed_entities
from services.gateway.filters import HasMedia, HasText, PrivateChat, TextIs
from services.gateway.keyboards import (
    MAIN_MENU,
    DraftAction,
    cancel_keyboard,
    preview_keyboard,
)
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_message, send_media
from services.gateway.routers.context import actor
from veil.core.grpc_errors import member_refusal
from veil.core.telegram_text import utf16_len
from veil.v1 import confessions_pb2

router = Router(name="confess")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())

MAX_LENGTH = 4000
# Telegram allows 1,024 characters in a caption; the card and the post frame it.
MAX_CAPTION = 900


class Draft(StatesGroup):
    """A confession being written."""

    writing = State()
    previewing = State()


@router.message(Command("confess"))
@router.message(TextIs(texts.NEW_CONFESSION))
async def begin(
    message: Message, state: FSMContext, community: CommunityEntry, services: ServiceClients
) -> None:
    """Start a new draft; its id becomes the idempotency key of the submission."""
    assert message.from_user is not None
    member = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=actor(community, message.from_user))
    )
    if member.standing.banned:
        # Told before they write, not after.
        await message.answer(texts.BANNED, reply_markup=MAIN_MENU)
        return
    draft = uuid.uuid4().hex[:16]
    await state.set_state(Draft.writing)
    await state.set_data({"draft": draft})
    await message.answer(texts.ASK_TEXT, reply_markup=cancel_keyboard(draft))


@router.message(Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    """Drop whatever is in progress."""
    had_state = await state.get_state() is not None
    await state.clear()
    await message.answer(
        texts.CANCELLED if had_state else texts.NOTHING_TO_CANCEL, reply_markup=MAIN_MENU
    )


@router.message(StateFilter(Draft.writing), HasText())
async def write(message: Message, state: FSMContext) -> None:
    """Keep the text and show the preview."""
    text = (message.text or "").strip()
    # Characters as Telegram counts them: an emoji is often two.
    if utf16_len(text) > MAX_LENGTH:
        await message.answer(texts.too_long(utf16_len(text), MAX_LENGTH))
        return
    # Telegram's entities go with the draft: the doxxing guard reads them at Send.
    entities = trimmed_entities(message.text or "", message.entities)
    data = await state.update_data(text=text, media_kind=None, file_id=None, entities=entities)
    # State moves on only after the member saw the preview: if the answer
    # fails, the redelivered text finds the draft still being written.
    await message.answer(texts.preview(text), reply_markup=preview_keyboard(data["draft"]))
    await state.set_state(Draft.previewing)


@router.message(StateFilter(Draft.writing), HasMedia())
async def write_media(message: Message, state: FSMContext, media_kind: str, file_id: str) -> None:
    """A photo, voice note or video (its caption the text): previewed by file_id."""
    caption = (message.caption or "").strip()
    if utf16_len(caption) > MAX_CAPTION:
        await message.answer(texts.too_long(utf16_len(caption), MAX_CAPTION))
        return
    entities = trimmed_entities(message.caption or "", message.caption_entities)
    data = await state.update_data(
        text=caption, media_kind=media_kind, file_id=file_id, entities=entities
    )
    # Re-sent by file_id, never forwarded: a forward would carry the author.
    await send_media(
        message,
        media_kind,
        file_id,
        texts.preview(caption),
        preview_keyboard(data["draft"]),
    )
    await state.set_state(Draft.previewing)


@router.message(StateFilter(Draft.writing))
async def write_other(message: Message) -> None:
    """Stickers, documents and the like are not confessions."""
    await message.answer(texts.ONLY_TEXT)


@router.callback_query(DraftAction.filter())
async def draft_action(
    query: CallbackQuery,
    callback_data: DraftAction,
    state: FSMContext,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """Send, edit or cancel the draft under the pressed preview."""
    data = await state.get_data()
    current = await state.get_state()
    message = query.message if isinstance(query.message, Message) else None
    if data.get("draft") != callback_data.draft:
        await answer_query(query, texts.DRAFT_GONE, alert=True)
        return
    # In every branch the member-visible effect comes before the state
    # change, so a redelivery after a failure finds the draft as it was.
    if callback_data.action == "cancel":
        await answer_query(query)
        if message is not None:
            await edit_message(message, texts.CANCELLED, None)
        await state.clear()
        return
    if current != Draft.previewing.state or "text" not in data:
        await answer_query(query, texts.DRAFT_GONE, alert=True)
        return
    if callback_data.action == "edit":
        await answer_query(query)
        if message is not None:
            await message.answer(texts.EDIT_TEXT, reply_markup=cancel_keyboard(data["draft"]))
        await state.set_state(Draft.writing)
        return
    # The same draft always submits with the same key: a redelivered Send
    # gets the confession stored the first time.
    try:
        response = await services.confessions.SubmitConfession(
            confessions_pb2.SubmitConfessionRequest(
                actor=actor(community, query.from_user),
                text=data["text"],
                idempotency_key=f"draft:{data['draft']}",
                media=confessions_pb2.Media(
                    kind=data.get("media_kind") or "", file_id=data.get("file_id") or ""
                ),
                entities=as_proto(data.get("entities") or ()),
            )
        )
    except grpc.aio.AioRpcError as error:
        # Only a MemberRefusal's text is for the member; any other failure is
        # answered with a generic text by the error handler.
        refusal = member_refusal(error)
        if refusal is None:
            raise
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            # Too long, a filtered word or personal information the community
            # refuses: the draft stays, ✏️ Edit fixes it.
            await answer_query(query, refusal, alert=True)
            return
        # Banned, cooling down or over the daily cap: the draft is dropped.
        await answer_query(query)
        if message is not None:
            await edit_message(message, texts.refused(refusal), None)
        await state.clear()
        return
    await answer_query(query)
    if message is not None:
        await edit_message(message, texts.received(response.confession.number), None)
    await state.clear()
