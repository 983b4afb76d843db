"""Moderation cards in the admin chat: their buttons and how a decision is shown.

The confessions service queues each card with the buttons of
``veil.contracts.callbacks.card_markup``; the gateway answers the presses.
Admins see each other's first names on decided cards; a card never shows who
wrote the confession.
"""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from veil.contracts.callbacks import BACK, TYPE_OWN, ModReason, card_markup
from veil.contracts.lengths import CAPTION_LIMIT, MESSAGE_TEXT_LIMIT
from veil.core.telegram_text import append_line
from veil.v1 import confessions_pb2

# A reason button shows at most this much of the reason.
REASON_LABEL_LENGTH = 60


def card_keyboard(confession_id: int) -> InlineKeyboardMarkup:
    """The card's own buttons, exactly as the confessions service sends them."""
    return InlineKeyboardMarkup.model_validate(card_markup(confession_id))


def reasons_keyboard(confession_id: int, reasons: list[str]) -> InlineKeyboardMarkup:
    """One button per community reason, then "type one" and "back"."""

    def button(label: str, index: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=label, callback_data=ModReason(confession=confession_id, reason=index).pack()
        )

    rows = [[button(reason[:REASON_LABEL_LENGTH], index)] for index, reason in enumerate(reasons)]
    rows.append([button("✍️ Type a reason", TYPE_OWN), button("⬅️ Back", BACK)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def outcome(response: confessions_pb2.ModerateConfessionResponse) -> str:
    """ "✅ Approved by Ann", "❌ Rejected by Bob: reason", "🚫 … author banned" (plain text)."""
    who = response.moderator
    if response.confession.status in (
        confessions_pb2.CONFESSION_STATUS_APPROVED,
        confessions_pb2.CONFESSION_STATUS_PUBLISHED,
    ):
        return f"✅ Approved by {who}"
    if response.action == confessions_pb2.MODERATION_ACTION_BAN:
        return f"🚫 Rejected and author banned by {who}"
    line = f"❌ Rejected by {who}"
    return f"{line}: {response.reason}" if response.reason else line


def decided_card(
    card_html: str, response: confessions_pb2.ModerateConfessionResponse, *, caption: bool
) -> str:
    """The card as it stays after the decision, within the text's (or caption's) limit."""
    limit = CAPTION_LIMIT if caption else MESSAGE_TEXT_LIMIT
    return append_line(card_html, escape(outcome(response)), limit)
