"""Writing a confession: ask → preview (Send / Edit / Cancel) → stored as pending."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.entities import trimmed_entities
from services.gateway.filters import HasMedia, Pressed, PrivateChat, TextIs, Typed
from services.gateway.member import MemberLookup
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_message, reply, send_media
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts
from services.gateway.views.keyboards import MAIN_MENU, cancel_keyboard, preview_keyboard
from veil.contracts.callbacks import DraftAction, DraftButton
from veil.contracts.lengths import CAPTION_MAX_LENGTH, CONFESSION_MAX_LENGTH
from veil.core.grpc_errors import member_refusal
from veil.core.telegram_text import utf16_len

# Two routers, because aiogram's dispatch costs about 17 µs for every router an
# update passes on its way (and a third of all updates are confessions being
# written): ``router`` holds what no other router could take (the draft's
# text or photo, its buttons, "✍️ New confession") and sits early in the
# chain; ``rest_router`` holds what must yield to the routers before it
# (/cancel, which a conversation cancels first, and anything else sent while
# writing, which may be another feature's command) and keeps the place the
# whole router had.
router = FeatureRouter(name="confess")
rest_router = FeatureRouter(name="confess-rest")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
for _router in (router, rest_router):
    _router.message.filter(PrivateChat())
    _router.callback_query.filter(PrivateChat())


class Draft(StatesGroup):
    """A confession being written."""

    writing = State()
    previewing = State()


@router.message(Command("confess"))
@router.message(TextIs(texts.NEW_CONFESSION))
async def begin(message: Message, state: FSMContext, member: MemberLookup) -> None:
    """Start a new draft; its id becomes the idempotency key of the submission."""
    if (await member()).standing.banned:
        # Told before they write, not after.
        await reply(message, texts.BANNED, reply_markup=MAIN_MENU)
        return
    draft = _new_draft()
    await state.set_state(Draft.writing)
    await state.set_data({"draft": draft})
    await reply(message, texts.ASK_TEXT, reply_markup=cancel_keyboard(draft))


def _new_draft() -> str:
    """A draft's id: the idempotency key of its submission."""
    return uuid.uuid4().hex[:16]


@rest_router.message(Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    """Drop whatever is in progress."""
    had_state = await state.get_state() is not None
    await state.clear()
    await reply(
        message, texts.CANCELLED if had_state else texts.NOTHING_TO_CANCEL, reply_markup=MAIN_MENU
    )


# A menu button's text goes to its feature (routers after this one).
@router.message(StateFilter(Draft.writing), Typed())
async def write(message: Message, state: FSMContext) -> None:
    """Keep the text and show the preview."""
    text = (message.text or "").strip()
    # Characters as Telegram counts them: an emoji is often two.
    if utf16_len(text) > CONFESSION_MAX_LENGTH:
        await reply(message, texts.too_long(utf16_len(text), CONFESSION_MAX_LENGTH))
        return
    # Telegram's entities go with the draft: the doxxing guard reads them at Send.
    entities = trimmed_entities(message.text or "", message.entities)
    data = await _update_draft(state, text=text, media_kind=None, file_id=None, entities=entities)
    # State moves on only after the member saw the preview: if the answer
    # fails, the redelivered text finds the draft still being written.
    await reply(message, texts.preview(text), reply_markup=preview_keyboard(data["draft"]))
    await state.set_state(Draft.previewing)


@router.message(StateFilter(Draft.writing), HasMedia())
async def write_media(message: Message, state: FSMContext, media_kind: str, file_id: str) -> None:
    """A photo, voice note or video (its caption the text): previewed by file_id."""
    caption = (message.caption or "").strip()
    if utf16_len(caption) > CAPTION_MAX_LENGTH:
        await reply(message, texts.too_long(utf16_len(caption), CAPTION_MAX_LENGTH))
        return
    entities = trimmed_entities(message.caption or "", message.caption_entities)
    data = await _update_draft(
        state, text=caption, media_kind=media_kind, file_id=file_id, entities=entities
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


async def _update_draft(state: FSMContext, **changes: Any) -> dict[str, Any]:
    """The draft's data with ``changes`` (aiogram's ``update_data``), under a new
    draft id if its data is gone (Redis lost it): the text still becomes a
    draft rather than an error."""
    data = {**await state.get_data(), **changes}
    data.setdefault("draft", _new_draft())
    await state.set_data(data)
    return data


@rest_router.message(StateFilter(Draft.writing))
async def write_other(message: Message) -> None:
    """Stickers, documents and the like are not confessions."""
    await reply(message, texts.ONLY_TEXT)


async def _draft(query: CallbackQuery, pressed: DraftAction, state: FSMContext) -> dict[str, Any]:
    """The draft under the pressed preview, or {} (the member was told) when it is gone."""
    data = await state.get_data()
    if data.get("draft") != pressed.draft or (
        pressed.action != DraftButton.CANCEL
        and (await state.get_state() != Draft.previewing.state or "text" not in data)
    ):
        await answer_query(query, texts.DRAFT_GONE, alert=True)
        return {}
    return data


# In every handler below the member-visible effect comes before the state
# change, so a redelivery after a failure finds the draft as it was.


@router.callback_query(Pressed(DraftAction, F.action == DraftButton.CANCEL))
async def cancel_draft(query: CallbackQuery, callback_data: DraftAction, state: FSMContext) -> None:
    """✖️ Cancel: the draft goes, nothing is sent."""
    if not await _draft(query, callback_data, state):
        return
    await answer_query(query)
    if isinstance(query.message, Message):
        await edit_message(query.message, texts.CANCELLED, None)
    await state.clear()


@router.callback_query(Pressed(DraftAction, F.action == DraftButton.EDIT))
async def edit_draft(query: CallbackQuery, callback_data: DraftAction, state: FSMContext) -> None:
    """✏️ Edit: ask for the new text."""
    data = await _draft(query, callback_data, state)
    if not data:
        return
    await answer_query(query)
    if isinstance(query.message, Message):
        await reply(query.message, texts.EDIT_TEXT, reply_markup=cancel_keyboard(data["draft"]))
    await state.set_state(Draft.writing)


@router.callback_query(Pressed(DraftAction, F.action == DraftButton.SEND))
async def send_draft(
    query: CallbackQuery,
    callback_data: DraftAction,
    state: FSMContext,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """✅ Send: submit the draft; the community's rules may refuse it."""
    data = await _draft(query, callback_data, state)
    if not data:
        return
    message = query.message if isinstance(query.message, Message) else None
    # The same draft always submits with the same key: a redelivered Send
    # gets the confession stored the first time.
    try:
        response = await services.submit(
            community,
            query.from_user.id,
            data["text"],
            key=f"draft:{data['draft']}",
            media_kind=data.get("media_kind") or "",
            file_id=data.get("file_id") or "",
            entities=data.get("entities") or (),
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
