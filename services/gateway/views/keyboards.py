"""The member's keyboards (their callback data is veil/contracts/callbacks.py's)."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from services.gateway.views import texts
from services.gateway.views.buttons import press
from veil.contracts.callbacks import (
    REPORT_REASONS,
    CommentAction,
    CommentButton,
    ConfessionReport,
    DraftAction,
    DraftButton,
    EraseButton,
    EraseChoice,
    NotificationsChoice,
    ThreadView,
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
# What the menu's buttons send (each is a feature's own text filter).
MENU_TEXTS = frozenset(button.text for row in MAIN_MENU.keyboard for button in row)


def _button(text: str, action: DraftButton, draft: str) -> InlineKeyboardButton:
    return press(text, DraftAction(action=action, draft=draft).pack())


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
        inline_keyboard=[[press(label, NotificationsChoice(on=int(not enabled)).pack())]]
    )


def erase_keyboard() -> InlineKeyboardMarkup:
    """Confirm or abandon /deleteme."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                press("🗑 Erase everything", EraseChoice(action=EraseButton.ERASE).pack()),
                press("✖️ Keep my data", EraseChoice(action=EraseButton.KEEP).pack()),
            ]
        ]
    )


def report_reasons_keyboard(
    comment: int, number: int, page: int, sort: int
) -> InlineKeyboardMarkup:
    """⚠️ under a comment: one button per reason (each files the report), and
    ⬅️ Back to the page it was pressed on."""
    rows = [
        [
            press(
                texts.REPORT_REASON_LABELS[reason],
                CommentAction(CommentButton.REPORT, comment, number, page, sort, value=code).pack(),
            )
        ]
        for code, reason in enumerate(REPORT_REASONS, start=1)
    ]
    back = ThreadView(number=number, page=page, sort=sort).pack()
    rows.append([press(texts.BACK, back)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confession_report_keyboard(number: int) -> InlineKeyboardMarkup:
    """🚩 under a thread: one button per reason (each files the report)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                press(
                    texts.REPORT_REASON_LABELS[reason],
                    ConfessionReport(number=number, reason=code).pack(),
                )
            ]
            for code, reason in enumerate(REPORT_REASONS, start=1)
        ]
    )
