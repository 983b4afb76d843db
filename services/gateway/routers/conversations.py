"""Writing to the admins (appeals and questions), both sides.

A member writes from the menu ("✉️ Write to the admins", ``/write``, or the
button on a rejection or ban notice, a ``/start write`` deep link); the admin
chat gets it under the conversation's label ("Guest 17"), never the member's
name, id or pseudonyms. An admin answers by replying to that message (a reply
to the bot's own message reaches it in privacy mode); the member gets the
answer in their private chat. Either side closes; admins block.
"""

from __future__ import annotations

import re
from html import escape

import grpc
from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from services.gateway import texts
from services.gateway.admins import AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.filters import HasText, InAdminChat, PrivateChat, TextIs
from services.gateway.keyboards import MAIN_MENU
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_message
from services.gateway.routers.context import actor
from services.gateway.safety import (
    CONVERSATION_CLOSED,
    NO_CONVERSATION,
    WRITE_CANCELLED,
    WRITE_PROMPT,
    WRITE_SENT,
    WRITE_TO_ADMINS,
    ConversationAction,
)
from veil.core.links import WRITE_PAYLOAD
from veil.v1 import safety_pb2

router = Router(name="conversations")
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())

admin_router = Router(name="conversations_admin")
admin_router.message.filter(InAdminChat())

MAX_MESSAGE = 1000
# The head of a member's message in the admin chat (services/confessions/safety.py).
_LABEL = re.compile(r"^✉️ Guest (\d{1,17})\b")
_GUEST = re.compile(r"^\s*(?:Guest\s+)?(\d{1,17})\s*$", re.IGNORECASE)
# Menu buttons pressed while writing leave the message unwritten.
_MENU = frozenset({texts.NEW_CONFESSION, texts.MY_CONFESSIONS, texts.HELP, WRITE_TO_ADMINS})


class Writing(StatesGroup):
    """A member writing to the admins."""

    message = State()


async def _ask(message: Message, state: FSMContext) -> None:
    await message.answer(WRITE_PROMPT)
    await state.set_state(Writing.message)


@router.message(CommandStart(deep_link=True, magic=F.args == WRITE_PAYLOAD))
@router.message(Command("write"))
@router.message(TextIs(WRITE_TO_ADMINS))
async def begin(message: Message, state: FSMContext) -> None:
    """Ask for the message."""
    await _ask(message, state)


@router.message(StateFilter(Writing.message), Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    """Stop writing; nothing is sent."""
    await state.clear()
    await message.answer(WRITE_CANCELLED, reply_markup=MAIN_MENU)


@router.message(StateFilter(Writing.message), HasText())
async def written(
    message: Message, state: FSMContext, community: CommunityEntry, services: ServiceClients
) -> None:
    """Send the member's message to the admins."""
    assert message.from_user is not None
    text = (message.text or "").strip()
    if text in _MENU:
        await state.clear()
        raise SkipHandler
    if len(text) > MAX_MESSAGE:
        await message.answer(
            f"That is {len(text)} characters; a message holds up to {MAX_MESSAGE}. "
            "Please shorten it."
        )
        return
    try:
        await services.safety.WriteToAdmins(
            safety_pb2.WriteToAdminsRequest(
                actor=actor(community, message.from_user),
                text=text,
                # The message's id in this chat: a redelivered message is sent once.
                idempotency_key=f"m{message.message_id}",
            )
        )
    except grpc.aio.AioRpcError as error:
        if error.code() not in (
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.INVALID_ARGUMENT,
        ):
            raise
        await state.clear()
        await message.answer(f"⚠️ {escape(error.details() or 'Not sent.')}", reply_markup=MAIN_MENU)
        return
    await state.clear()
    await message.answer(WRITE_SENT, reply_markup=MAIN_MENU)


@router.callback_query(ConversationAction.filter(F.action.in_({"reply", "end"})))
async def member_press(
    query: CallbackQuery,
    callback_data: ConversationAction,
    state: FSMContext,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """↩️ Reply or ✖️ Close under the admins' answer."""
    if callback_data.action == "reply":
        await answer_query(query)
        if isinstance(query.message, Message):
            await _ask(query.message, state)
        return
    response = await services.safety.CloseConversation(
        safety_pb2.CloseConversationRequest(actor=actor(community, query.from_user))
    )
    await answer_query(query, CONVERSATION_CLOSED if response.closed else NO_CONVERSATION)
    if isinstance(query.message, Message):
        await edit_message(query.message, None, None)


def _conversation_of(message: Message, community: CommunityEntry) -> int | None:
    """The conversation a reply answers: the bot's message it replies to, headed "✉️ Guest N"."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != community.bot.id:
        return None
    match = _LABEL.match(replied.text or "")
    return int(match.group(1)) if match else None


class RepliesToConversation(Filter):
    """Matches an admin's reply to a member's message in the admin chat."""

    async def __call__(self, message: Message, community: CommunityEntry) -> bool | dict[str, int]:
        found = _conversation_of(message, community)
        return False if found is None else {"conversation": found}


@admin_router.message(HasText(), RepliesToConversation())
async def answer(
    message: Message,
    conversation: int,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """An admin's reply: delivered to the member's private chat."""
    assert message.from_user is not None
    if not await admins(community.bot, community.admin_chat_id, message.from_user.id):
        return
    text = (message.text or "").strip()
    if len(text) > MAX_MESSAGE:
        await message.reply(f"Please keep an answer under {MAX_MESSAGE} characters.")
        return
    response = await services.safety.AnswerConversation(
        safety_pb2.AnswerConversationRequest(
            community_id=community.id,
            conversation=conversation,
            text=text,
            idempotency_key=f"{message.chat.id}:{message.message_id}",
        )
    )
    await message.reply(
        f"✅ Sent to Guest {conversation}."
        if response.delivered
        else f"Guest {conversation}'s conversation is closed: nothing was sent."
    )


@admin_router.callback_query(ConversationAction.filter(F.action.in_({"close", "block"})))
async def admin_press(
    query: CallbackQuery,
    callback_data: ConversationAction,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """✖️ Close or ⛔ Block under a member's message."""
    card = await admins.card(query, community)
    if card is None:
        return
    number = callback_data.conversation
    if callback_data.action == "close":
        closed = await services.safety.CloseConversation(
            safety_pb2.CloseConversationRequest(community_id=community.id, conversation=number)
        )
        done = closed.closed
        note = f"✖️ Guest {number}: conversation closed by {query.from_user.first_name}."
    else:
        blocked = await services.safety.BlockConversation(
            safety_pb2.BlockConversationRequest(community_id=community.id, conversation=number)
        )
        done = blocked.done
        note = f"⛔ Guest {number}: blocked by {query.from_user.first_name}."
    await answer_query(query, "Done." if done else "Already done.")
    if done:
        await card.answer(escape(note))


@admin_router.message(Command("unblock"))
async def unblock(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/unblock Guest 17: the conversation's member may write to the admins again."""
    assert message.from_user is not None
    if not await admins(community.bot, community.admin_chat_id, message.from_user.id):
        return
    match = _GUEST.match(command.args or "")
    if match is None:
        await message.answer("Use <code>/unblock Guest 17</code>.")
        return
    number = int(match.group(1))
    response = await services.safety.BlockConversation(
        safety_pb2.BlockConversationRequest(
            community_id=community.id, conversation=number, unblock=True
        )
    )
    await message.answer(
        f"✅ Guest {number} may write again."
        if response.done
        else f"Guest {number} is not blocked."
    )
