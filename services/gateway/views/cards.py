"""Moderation cards in the admin chat: their buttons and how a decision is shown.

The confessions service queues each card with the buttons of
``veil.contracts.callbacks.card_markup``; the gateway answers the presses.
Admins see each other's first names on decided cards; a card never shows who
wrote the confession.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.gateway.views.buttons import press
from veil.contracts import texts
from veil.contracts.callbacks import BACK, TYPE_OWN, ModReason, card_markup
from veil.contracts.texts import decision_outcome
from veil.v1 import confessions_pb2

# A reason button shows at most this much of the reason.
REASON_LABEL_LENGTH = 60
_APPROVED = (
    confessions_pb2.CONFESSION_STATUS_APPROVED,
    confessions_pb2.CONFESSION_STATUS_PUBLISHED,
)


def card_keyboard(confession_id: int) -> InlineKeyboardMarkup:
    """The card's own buttons, exactly as the confessions service sends them."""
    return InlineKeyboardMarkup.model_validate(card_markup(confession_id))


def reasons_keyboard(confession_id: int, reasons: list[str]) -> InlineKeyboardMarkup:
    """One button per community reason, then "type one" and "back"."""

    def button(label: str, index: int) -> InlineKeyboardButton:
        return press(label, ModReason(confession=confession_id, reason=index).pack())

    rows = [[button(reason[:REASON_LABEL_LENGTH], index)] for index, reason in enumerate(reasons)]
    rows.append([button("✍️ Type a reason", TYPE_OWN), button("⬅️ Back", BACK)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def outcome(response: confessions_pb2.ModerateConfessionResponse) -> str:
    """The decision that stands, in the card's words (plain text)."""
    return decision_outcome(
        approved=response.confession.status in _APPROVED,
        banned=response.action == confessions_pb2.MODERATION_ACTION_BAN,
        moderator=response.moderator,
        reason=response.reason,
    )


def decided_card(
    card_html: str, response: confessions_pb2.ModerateConfessionResponse, *, caption: bool
) -> str:
    """The card as it stays after the decision, within the text's (or caption's) limit."""
    return texts.decided_card(card_html, outcome(response), caption=caption)
