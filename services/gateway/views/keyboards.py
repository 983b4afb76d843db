"""The member's keyboards (their callback data is veil/contracts/callbacks.py's)."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from services.gateway.views import texts
from veil.contracts.callbacks import (
    DraftAction,
    DraftButton,
    EraseButton,
    EraseChoice,
    NotificationsChoice,
)

MAIN_MENU = ReplyKeyboardMarkup(
    keyboard=[
        [KeyboardButton(text=texts.NEW_CONFESSION)],
        [KeyboardButton(text=texts.MY_CONFESSIONS), KeyboardButton(text=texts.HELP)],
        [KeyboardButton(text=texts.WRITE_TO_ADMINS)],
    ],
    resize_keyboard=True,
    is_persistent=True,
)


def _button(text: str, action: DraftButton, draft: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=DraftAction(action=action, draft=draft).pack()
    )


def preview_keyboard(draft: str) -> InlineKeyboardMarkup:
    """Send / Edit / Cancel under a preview."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button("✅ Send", DraftButton.SEND, draft),
                _button("✏️ Edit", DraftButton.EDIT, draft),
                _button("✖️ Cancel", DraftButton.CANCEL, draft),
            ]
        ]
    )


def cancel_keyboard(draft: str) -> InlineKeyboardMarkup:
    """Cancel while writing."""
    return InlineKeyboardMarkup(inline_keyboard=[[_button("✖️ Cancel", DraftButton.CANCEL, draft)]])


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
                    text="🗑 Erase everything",
                    callback_data=EraseChoice(action=EraseButton.ERASE).pack(),
                ),
                InlineKeyboardButton(
                    text="✖️ Keep my data", callback_data=EraseChoice(action=EraseButton.KEEP).pack()
                ),
            ]
        ]
    )
