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
from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ForceReply, Message, ReplyParameters, User

from services.gateway.admins import AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.filters import FromAdmin, HasText, InAdminChat, Pressed
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_card, edit_message, reply
from services.gateway.routing import FeatureRouter
from services.gateway.service_types import is_withdrawn, not_found
from services.gateway.views import admin_texts, texts
from services.gateway.views.cards import card_keyboard, decided_card, outcome, reasons_keyboard
from veil.contracts.callbacks import BACK, TYPE_OWN, CardButton, ModAction, ModReason
from veil.contracts.lengths import REJECT_REASON_MAX_LENGTH
from veil.contracts.texts import withdrawn_card

router = FeatureRouter(name="moderation")
# The typed reason is a message in the admin chat; card presses check the chat themselves.
router.message.filter(InAdminChat())

_DECISION = F.action.in_({CardButton.APPROVE, CardButton.REJECT, CardButton.BAN})


class Rejecting(StatesGroup):
    """An admin typing a reject reason in the admin chat (state keyed to that admin)."""

    typing = State()


@router.callback_query(Pressed(ModAction, F.action == CardButton.REASON), FromAdmin())
async def show_reasons(
    query: CallbackQuery,
    callback_data: ModAction,
    card: Message,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """📝 Reject with reason: the community's reasons replace the card's buttons."""
    rules = await services.rules(community)
    await answer_query(query)
    await edit_message(
        card, None, reasons_keyboard(callback_data.confession, list(rules.reject_reasons))
    )


@router.callback_query(Pressed(ModAction, _DECISION), FromAdmin())
async def decide(
    query: CallbackQuery,
    callback_data: ModAction,
    card: Message,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """✅ Approve, ❌ Reject or 🚫 Ban author."""
    await _finish(query, card, services, community, callback_data.confession, callback_data.action)


@router.callback_query(Pressed(ModReason, F.reason == BACK), FromAdmin())
async def back(query: CallbackQuery, callback_data: ModReason, card: Message) -> None:
    """⬅️ Back from the reasons to the card's own buttons."""
    await answer_query(query)
    await edit_message(card, None, card_keyboard(callback_data.confession))


@router.callback_query(Pressed(ModReason, F.reason == TYPE_OWN), FromAdmin())
async def type_reason(
    query: CallbackQuery, callback_data: ModReason, card: Message, state: FSMContext
) -> None:
    """✍️ Type a reason: ask for it as a reply to the bot's prompt."""
    await answer_query(query, admin_texts.REPLY_WITH_REASON)
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


@router.callback_query(Pressed(ModReason, ~F.reason.in_({BACK, TYPE_OWN})), FromAdmin())
async def pick_reason(
    query: CallbackQuery,
    callback_data: ModReason,
    card: Message,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """A listed reason: reject with it (unless the list changed meanwhile)."""
    rules = await services.rules(community)
    if not 0 <= callback_data.reason < len(rules.reject_reasons):
        await answer_query(query, admin_texts.REASON_NO_LONGER_OFFERED, alert=True)
        await edit_message(
            card, None, reasons_keyboard(callback_data.confession, list(rules.reject_reasons))
        )
        return
    reason = rules.reject_reasons[callback_data.reason]
    await _finish(
        query, card, services, community, callback_data.confession, CardButton.REJECT, reason
    )


@router.callback_query(Pressed(ModAction))
@router.callback_query(Pressed(ModReason))
async def refuse(query: CallbackQuery) -> None:
    """A card button pressed by someone not in the admin chat (or outside it)."""
    await answer_query(query, admin_texts.ONLY_ADMINS, alert=True)


async def _finish(
    query: CallbackQuery,
    card: Message,
    services: ServiceClients,
    community: CommunityEntry,
    confession_id: int,
    action: CardButton,
    reason: str = "",
) -> None:
    try:
        response = await services.moderate(
            community, confession_id, action, moderator=query.from_user.first_name, reason=reason
        )
    except grpc.aio.AioRpcError as error:
        if not not_found(error):
            raise
        await answer_query(query, admin_texts.CONFESSION_GONE, alert=True)
        return
    if is_withdrawn(response):
        await answer_query(query, texts.WITHDRAWN, alert=True)
        await edit_message(card, withdrawn_card(response.confession.number), None)
        return
    if response.won:
        await answer_query(query, outcome(response))
    else:
        await answer_query(query, admin_texts.handled_by(response.moderator), alert=True)
    # The loser edits too: if the winner's edit was lost, the card still ends
    # up showing the decision (an identical edit is "not modified": done).
    decided = decided_card(card.html_text, response, caption=card.caption is not None)
    await edit_message(card, decided, None)


async def _ask_reason(card: Message, admin: User) -> Message:
    """Ask ``admin`` for the reason, forcing their answer to be a reply to the prompt.

    A bot that is not an admin of the admin chat hears only commands and
    replies to its own messages (Telegram's privacy mode): a reply reaches it
    either way. ``selective`` shows the reply field to the mentioned admin only.
    """
    mention = f'<a href="tg://user?id={admin.id}">{escape(admin.first_name)}</a>'
    return await card.answer(
        admin_texts.ask_reason(mention),
        reply_markup=ForceReply(
            selective=True, input_field_placeholder=admin_texts.REASON_PLACEHOLDER
        ),
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
    await reply(message, admin_texts.REASON_CANCELLED)
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
        # Talk among admins (heard when the bot is an admin): never a reason by
        # accident, and never a Redis read for it (so no FromAdmin before this).
        return
    if not await FromAdmin()(message, community, admins):
        await state.clear()
        return
    reason = (message.text or "").strip()
    if len(reason) > REJECT_REASON_MAX_LENGTH:
        # Asked again as a reply to the admin, so the shorter one reaches the bot too.
        again = await message.reply(
            admin_texts.REASON_TOO_LONG,
            reply_markup=ForceReply(
                selective=True, input_field_placeholder=admin_texts.REASON_PLACEHOLDER
            ),
        )
        await state.update_data(prompt=again.message_id)
        return
    await _reject_with(message, community, services, state, data, reason)


async def _reject_with(
    message: Message,
    community: CommunityEntry,
    services: ServiceClients,
    state: FSMContext,
    data: dict[str, Any],
    reason: str,
) -> None:
    """Reject with the typed reason, say how it went, and bring the card in line."""
    assert message.from_user is not None
    try:
        response = await services.moderate(
            community,
            int(data["confession"]),
            CardButton.REJECT,
            moderator=message.from_user.first_name,
            reason=reason,
        )
    except grpc.aio.AioRpcError as error:
        if not not_found(error):
            raise
        await reply(message, admin_texts.CONFESSION_GONE)
        await state.clear()
        return
    number = response.confession.number
    withdrawn = is_withdrawn(response)
    if withdrawn:
        await reply(message, texts.WITHDRAWN)
    elif response.won:
        await reply(message, admin_texts.rejected_with_reason(number))
    else:
        await reply(message, admin_texts.already_handled(number, response.moderator))
    caption = bool(data.get("caption"))
    await edit_card(
        community.bot,
        community.admin_chat_id,
        int(data["card"]),
        html=withdrawn_card(number)
        if withdrawn
        else decided_card(str(data["card_html"]), response, caption=caption),
        markup=None,
        caption=caption,
    )
    await state.clear()
