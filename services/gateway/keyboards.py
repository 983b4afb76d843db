"""Keyboards and callback data."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from services.gateway import texts


class DraftAction(CallbackData, prefix="d"):
    """A button under a confession preview: send, edit or cancel.

    ``draft`` names the draft the button belongs to, so a button under an old
    preview can never act on a newer draft.
    """

    action: str
    draft: str


MAIN_MENU = ReplyKeyboardMarkup(
    keyboard=[
        [KeyboardButton(text=texts.NEW_CONFESSION)],
        [KeyboardButton(text=texts.MY_CONFESSIONS), KeyboardButton(text=texts.HELP)],
    ],
    resize_keyboard=True,
    is_persistent=True,
)


def _button(text: str, action: str, draft: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=DraftAction(action=action, draft=draft).pack()
    )


def preview_keyboard(draft: str) -> InlineKeyboardMarkup:
    """Send / Edit / Cancel under a preview."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button("✅ Send", "send", draft),
                _button("✏️ Edit", "edit", draft),
                _button("✖️ Cancel", "cancel", draft),
            ]
        ]
    )


def cancel_keyboard(draft: str) -> InlineKeyboardMarkup:
    """Cancel while writing."""
    return InlineKeyboardMarkup(inline_keyboard=[[_button("✖️ Cancel", "cancel", draft)]])
