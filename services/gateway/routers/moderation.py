"""Moderation card buttons in the admin chat: approve, reject (with a reason), ban author.

Only members of the community's admin chat may press them (getChatMember,
cached in Redis); anyone else gets an alert and nothing changes. Of two admins
pressing at once, the confessions service lets exactly one decision win; the
card then shows it and who made it, and the other admin hears who was first.
"""

from __future__ import annotations

from html import escape
from typing import Any

import grpc
from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ForceReply, Message, ReplyParameters, User

from services.gateway import texts
from services.gateway.admins import AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.filters import HasText, InAdminChat
from services.gateway.moderation import (
    ACTIONS,
    BACK,
    TYPE_OWN,
    ModAction,
    ModReason,
    card_keyboard,
    decided_card,
    is_withdrawn,
    outcome,
    reasons_keyboard,
    request_decision,
)
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_card, edit_message
from veil.core.cards import withdrawn_card
from veil.v1 import confessions_pb2

router = Router(name="moderation")
# The typed reason is a message in the admin chat; card presses check the chat themselves.
router.message.filter(InAdminChat())

MAX_REASON = 100


class Rejecting(StatesGroup):
    """An admin typing a reject reason in the admin chat (state keyed to that admin)."""

    typing = State()


async def _decide(
    services: ServiceClients,
    community: CommunityEntry,
    admin: User,
    confession_id: int,
    action: str,
    reason: str = "",
) -> confessions_pb2.ModerateConfessionResponse:
    return await request_decision(
        services, community.id, confession_id, action, moderator=admin.first_name, reason=reason
    )


@router.callback_query(ModAction.filter())
async def press(
    query: CallbackQuery,
    callback_data: ModAction,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """A card button: decide, or show the reasons to pick from."""
    card = await admins.card(query, community)
    if card is None:
        return
    if callback_data.action == "reason":
        rules = await services.communities.GetCommunityRules(
            confessions_pb2.GetCommunityRulesRequest(community_id=community.id)
        )
        await answer_query(query)
        await edit_message(
            card, None, reasons_keyboard(callback_data.confession, list(rules.reject_reasons))
        )
        return
    if callback_data.action not in ACTIONS:
        await answer_query(query, "Unknown action.", alert=True)
        return
    await _finish(query, card, services, community, callback_data.confession, callback_data.action)


async def _finish(
    query: CallbackQuery,
    card: Message,
    services: ServiceClients,
    community: CommunityEntry,
    confession_id: int,
    action: str,
    reason: str = "",
) -> None:
    try:
        response = await _decide(
            services, community, query.from_user, confession_id, action, reason
        )
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        await answer_query(query, "That confession is gone.", alert=True)
        return
    if is_withdrawn(response):
        await answer_query(query, texts.WITHDRAWN, alert=True)
        await edit_message(card, withdrawn_card(response.confession.number), None)
        return
    if response.won:
        await answer_query(query, outcome(response))
    else:
        await answer_query(query, f"Already handled by {response.moderator}.", alert=True)
    # The loser edits too: if the winner's edit was lost, the card still ends
    # up showing the decision (an identical edit is "not modified": done).
    decided = decided_card(card.html_text, response, caption=card.caption is not None)
    await edit_message(card, decided, None)


@router.callback_query(ModReason.filter())
async def pick_reason(
    query: CallbackQuery,
    callback_data: ModReason,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
    state: FSMContext,
) -> None:
    """A reason button under a card: reject with it, or type one, or go back."""
    card = await admins.card(query, community)
    if card is None:
        return
    if callback_data.reason == BACK:
        await answer_query(query)
        await edit_message(card, None, card_keyboard(callback_data.confession))
        return
    if callback_data.reason == TYPE_OWN:
        await answer_query(query, "Reply to my message with the reason.")
        prompt = await _ask_reason(card, query.from_user)
        # The prompt came first: a redelivered press asks again, nothing is lost.
        await state.set_state(Rejecting.typing)
        await state.set_data(
            {
                "confession": callback_data.confession,
                "prompt": prompt.message_id,
                "card": card.message_id,
                "card_html": card.html_text,
                "caption": card.caption is not None,
            }
        )
        return
    rules = await services.communities.GetCommunityRules(
        confessions_pb2.GetCommunityRulesRequest(community_id=community.id)
    )
    if not 0 <= callback_data.reason < len(rules.reject_reasons):
        await answer_query(query, "That reason is no longer offered.", alert=True)
        await edit_message(
            card, None, reasons_keyboard(callback_data.confession, list(rules.reject_reasons))
        )
        return
    await _finish(
        query,
        card,
        services,
        community,
        callback_data.confession,
        "reject",
        rules.reject_reasons[callback_data.reason],
    )


async def _ask_reason(card: Message, admin: User) -> Message:
    """Ask ``admin`` for the reason, forcing their answer to be a reply to the prompt.

    A bot that is not an admin of the admin chat hears only commands and
    replies to its own messages (Telegram's privacy mode): a reply reaches it
    either way. ``selective`` shows the reply field to the mentioned admin only.
    """
    mention = f'<a href="tg://user?id={admin.id}">{escape(admin.first_name)}</a>'
    return await card.answer(
        f"✍️ {mention}, type the reason for rejecting this confession "
        f"(up to {MAX_REASON} characters) as a reply to this message, or /cancel.",
        reply_markup=ForceReply(selective=True, input_field_placeholder="Reason for rejecting"),
        reply_parameters=ReplyParameters(
            message_id=card.message_id, allow_sending_without_reply=True
        ),
    )


def _is_reply_to_prompt(message: Message, data: dict[str, Any]) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.message_id == data.get("prompt")


@router.message(StateFilter(Rejecting.typing), Command("cancel"))
async def cancel_reason(message: Message, state: FSMContext) -> None:
    """Stop typing a reason; the card stays pending."""
    await message.answer("Cancelled. The confession is still waiting.")
    await state.clear()


@router.message(StateFilter(Rejecting.typing), HasText())
async def typed_reason(
    message: Message,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
    state: FSMContext,
) -> None:
    """The reason an admin typed as a reply to the prompt: reject with it, update the card."""
    assert message.from_user is not None
    data = await state.get_data()
    if not _is_reply_to_prompt(message, data):
        # Talk among admins (heard when the bot is an admin): never a reason by accident.
        return
    if not await admins(community.bot, community.admin_chat_id, message.from_user.id):
        await state.clear()
        return
    reason = (message.text or "").strip()
    if len(reason) > MAX_REASON:
        # Asked again as a reply to the admin, so the shorter one reaches the bot too.
        again = await message.reply(
            f"Please keep the reason under {MAX_REASON} characters: reply to this message.",
            reply_markup=ForceReply(selective=True, input_field_placeholder="Reason for rejecting"),
        )
        await state.update_data(prompt=again.message_id)
        return
    try:
        response = await _decide(
            services, community, message.from_user, int(data["confession"]), "reject", reason
        )
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        await message.answer("That confession is gone.")
        await state.clear()
        return
    number = response.confession.number
    withdrawn = is_withdrawn(response)
    if withdrawn:
        await message.answer(texts.WITHDRAWN)
    elif response.won:
        await message.answer(f"❌ Rejected #{number}: the author is told why.")
    else:
        await message.answer(f"#{number} was already handled by {escape(response.moderator)}.")
    await edit_card(
        community.bot,
        community.admin_chat_id,
        int(data["card"]),
        html=withdrawn_card(number)
        if withdrawn
        else decided_card(str(data["card_html"]), response, caption=bool(data.get("caption"))),
        markup=None,
        caption=bool(data.get("caption")),
    )
    await state.clear()
