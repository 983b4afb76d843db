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

import grpc
from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import (
    FromAdmin,
    HasText,
    InAdminChat,
    Pressed,
    PrivateChat,
    TextIs,
    Typed,
)
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_message, reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import admin_texts, safety_texts, texts
from services.gateway.views.keyboards import MAIN_MENU
from veil.contracts.callbacks import ConversationAction, ConversationButton
from veil.core.links import WRITE_PAYLOAD

router = FeatureRouter(name="conversations")
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())

admin_router = FeatureRouter(name="conversations_admin")
admin_router.message.filter(InAdminChat())

# The head of a member's message in the admin chat (services/confessions/safety.py).
_LABEL = re.compile(r"^✉️ Guest (\d{1,17})\b")
_GUEST = re.compile(r"^\s*(?:Guest\s+)?(\d{1,17})\s*$", re.IGNORECASE)
# Menu buttons pressed while writing leave the message unwritten.
_MENU = frozenset({texts.NEW_CONFESSION, texts.MY_CONFESSIONS, texts.HELP, texts.WRITE_TO_ADMINS})


class Writing(StatesGroup):
    """A member writing to the admins."""

    message = State()


async def _ask(message: Message, state: FSMContext) -> None:
    await reply(message, safety_texts.WRITE_PROMPT)
    await state.set_state(Writing.message)


@router.message(CommandStart(deep_link=True, magic=F.args == WRITE_PAYLOAD))
@router.message(Command("write"))
@router.message(TextIs(texts.WRITE_TO_ADMINS))
async def begin(message: Message, state: FSMContext) -> None:
    """Ask for the message."""
    await _ask(message, state)


@router.message(StateFilter(Writing.message), Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    """Stop writing; nothing is sent."""
    await state.clear()
    await reply(message, safety_texts.WRITE_CANCELLED, reply_markup=MAIN_MENU)


@router.message(StateFilter(Writing.message), Typed())
async def written(
    message: Message, state: FSMContext, community: CommunityEntry, services: ServiceClients
) -> None:
    """Send the member's message to the admins."""
    assert message.from_user is not None
    text = (message.text or "").strip()
    if text in _MENU:
        await state.clear()
        raise SkipHandler
    if len(text) > safety_texts.WRITE_MAX_LENGTH:
        await reply(message, safety_texts.write_too_long(len(text)))
        return
    try:
        # The message's id in this chat: a redelivered message is sent once.
        await services.write_to_admins(
            community, message.from_user.id, text, key=f"m{message.message_id}"
        )
    except grpc.aio.AioRpcError as error:
        if error.code() not in (
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.INVALID_ARGUMENT,
        ):
            raise
        await state.clear()
        await reply(
            message,
            admin_texts.warning(error.details() or admin_texts.INVALID_VALUE),
            reply_markup=MAIN_MENU,
        )
        return
    await state.clear()
    await reply(message, safety_texts.WRITE_SENT, reply_markup=MAIN_MENU)


@router.callback_query(Pressed(ConversationAction, F.action == ConversationButton.REPLY))
async def member_reply(query: CallbackQuery, state: FSMContext) -> None:
    """↩️ Reply under the admins' answer: ask for the message."""
    await answer_query(query)
    if isinstance(query.message, Message):
        await _ask(query.message, state)


@router.callback_query(Pressed(ConversationAction, F.action == ConversationButton.END))
async def member_close(
    query: CallbackQuery, community: CommunityEntry, services: ServiceClients
) -> None:
    """✖️ Close under the admins' answer."""
    closed = await services.close_own_conversation(community, query.from_user.id)
    await answer_query(
        query, safety_texts.CONVERSATION_CLOSED if closed else safety_texts.NO_CONVERSATION
    )
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


@admin_router.message(HasText(), RepliesToConversation(), FromAdmin())
async def answer(
    message: Message, conversation: int, community: CommunityEntry, services: ServiceClients
) -> None:
    """An admin's reply: delivered to the member's private chat."""
    text = (message.text or "").strip()
    if len(text) > safety_texts.WRITE_MAX_LENGTH:
        await message.reply(safety_texts.ANSWER_TOO_LONG)
        return
    delivered = await services.answer_conversation(
        community, conversation, text, key=f"{message.chat.id}:{message.message_id}"
    )
    await message.reply(safety_texts.answered(conversation, delivered))


@admin_router.callback_query(
    Pressed(ConversationAction, F.action.in_({ConversationButton.CLOSE, ConversationButton.BLOCK})),
    FromAdmin(),
)
async def admin_press(
    query: CallbackQuery,
    callback_data: ConversationAction,
    card: Message,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """✖️ Close or ⛔ Block under a member's message."""
    number = callback_data.conversation
    admin = query.from_user.first_name
    if callback_data.action == ConversationButton.CLOSE:
        done = await services.close_conversation(community, number)
        note = safety_texts.conversation_closed_by(number, admin)
    else:
        done = await services.block_conversation(community, number)
        note = safety_texts.conversation_blocked_by(number, admin)
    await answer_query(query, safety_texts.DONE if done else safety_texts.ALREADY_DONE)
    if done:
        await reply(card, note)


@admin_router.callback_query(
    Pressed(ConversationAction, F.action.in_({ConversationButton.CLOSE, ConversationButton.BLOCK}))
)
async def refuse(query: CallbackQuery) -> None:
    """Close / Block pressed by someone not in the admin chat."""
    await answer_query(query, admin_texts.ONLY_ADMINS, alert=True)


@admin_router.message(Command("unblock"), FromAdmin())
async def unblock(
    message: Message, command: CommandObject, community: CommunityEntry, services: ServiceClients
) -> None:
    """/unblock Guest 17: the conversation's member may write to the admins again."""
    match = _GUEST.match(command.args or "")
    if match is None:
        await reply(message, safety_texts.UNBLOCK_USAGE)
        return
    number = int(match.group(1))
    done = await services.block_conversation(community, number, unblock=True)
    await reply(message, safety_texts.unblocked(number, done))


@admin_router.message(Command("unblock"))
async def not_admin(message: Message) -> None:
    """/unblock from someone not (or no longer) in the admin chat: no answer."""
