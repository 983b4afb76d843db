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
from services.gateway.safety import WRITE_TO_ADMINS


class DraftAction(CallbackData, prefix="d"):
    """A button under a confession preview: send, edit or cancel.

    ``draft`` names the draft the button belongs to, so a button under an old
    preview can never act on a newer draft.
    """

    action: str
    draft: str


class NotificationsChoice(CallbackData, prefix="ns"):
    """/settings: turn optional notifications on (1) or off (0).

    The button carries the target value, not "toggle", so a redelivered press
    changes nothing.
    """

    on: int


class EraseChoice(CallbackData, prefix="er"):
    """/deleteme: ``erase`` (confirmed) or ``keep``."""

    action: str


MAIN_MENU = ReplyKeyboardMarkup(
    keyboard=[
        [KeyboardButton(text=texts.NEW_CONFESSION)],
        [KeyboardButton(text=texts.MY_CONFESSIONS), KeyboardButton(text=texts.HELP)],
        [KeyboardButton(text=WRITE_TO_ADMINS)],
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


def notifications_keyboard(enabled: bool) -> InlineKeyboardMarkup:
    """The one button of /settings: the opposite of the current value."""
    label = "🔕 Turn notifications off" if enabled else "🔔 Turn notifications on"
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=label, callback_data=NotificationsChoice(on=int(not enabled)).pack()
                )
            ]
        ]
    )


def erase_keyboard() -> InlineKeyboardMarkup:
    """Confirm or abandon /deleteme."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="🗑 Erase everything", callback_data=EraseChoice(action="erase").pack()
                ),
                InlineKeyboardButton(
                    text="✖️ Keep my data", callback_data=EraseChoice(action="keep").pack()
                ),
            ]
        ]
    )
