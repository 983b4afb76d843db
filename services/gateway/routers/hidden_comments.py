"""The admin chat's card of a comment that reports hid: restore, delete, or delete and ban;
and of a comment a community rule flagged: keep, delete, or delete and ban.

The social service sends both cards (their buttons: veil/contracts/callbacks.py);
of two admins (or an admin and the Mini App) deciding at once, one wins.
"""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import FromAdmin, Pressed
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text
from services.gateway.routing import FeatureRouter
from services.gateway.service_types import ThreadNotFoundError
from services.gateway.views import admin_texts
from veil.contracts.callbacks import HiddenAction, HiddenButton
from veil.core.telegram_text import append_line

router = FeatureRouter(name="hidden-comments")


@router.callback_query(Pressed(HiddenAction), FromAdmin())
async def decide(
    query: CallbackQuery,
    callback_data: HiddenAction,
    card: Message,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """Restore, delete, or delete and ban the hidden comment (keep, delete, or
    delete and ban a flagged one)."""
    # Keeping a flagged comment changes nothing but the card.
    keep = callback_data.action == HiddenButton.FLAG_KEEP
    if not keep and not await _decide(query, callback_data, community, services):
        return
    outcome = admin_texts.HIDDEN_OUTCOMES[callback_data.action]
    await answer_query(query, outcome)
    line = admin_texts.hidden_decided(outcome, query.from_user.first_name)
    await edit_text(card, append_line(card.html_text, line))


async def _decide(
    query: CallbackQuery,
    callback_data: HiddenAction,
    community: CommunityEntry,
    services: ServiceClients,
) -> bool:
    """Ask the social service; False (the press answered) when it was not done."""
    try:
        thread = await services.thread(community, callback_data.number)
    except ThreadNotFoundError:
        await answer_query(query, admin_texts.CONFESSION_GONE, alert=True)
        return False
    if not await services.moderate_comment(thread, callback_data.comment, callback_data.action):
        await answer_query(query, admin_texts.HANDLED_BY_ANOTHER_ADMIN, alert=True)
        return False
    return True


@router.callback_query(Pressed(HiddenAction))
async def refuse(query: CallbackQuery) -> None:
    """A hidden comment's button pressed by someone not in the admin chat."""
    await answer_query(query, admin_texts.ONLY_ADMINS, alert=True)
