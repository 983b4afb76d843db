"""What the social service sends: notification texts, the admin card, the post's counter.

Pure functions: the servicer decides when, these decide what.
"""

from __future__ import annotations

import html
from typing import Any

from veil.contracts.callbacks import (
    HiddenAction,
    HiddenButton,
    SafetyTarget,
    warn_button,
)
from veil.contracts.lengths import QUOTE_LENGTH
from veil.core.links import comments_markup, deep_link
from veil.core.telegram_text import cut_escaped
from veil.v1 import social_pb2 as pb

__all__ = ["comment_notice", "comments_markup", "hidden_card", "hidden_card_markup", "snippet"]


def snippet(text: str, length: int = QUOTE_LENGTH) -> str:
    """The start of a member's text (``length`` UTF-16 units at most), HTML-escaped."""
    return cut_escaped(text, length)


def comment_notice(thread: pb.ThreadContext, pending: int, *, reply: bool) -> str:
    """ "New comment on #12" for a confession's author, "New reply …" for a commenter."""
    what = "repl" if reply else "comment"
    if pending <= 1:
        head = f"💬 New {what}{'y' if reply else ''} on confession #{thread.confession_number}"
    else:
        head = (
            f"💬 {pending} new {what}{'ies' if reply else 's'} "
            f"on confession #{thread.confession_number}"
        )
    link = deep_link(thread.bot_username, thread.confession_number)
    return f'{head}\n<a href="{link}">Open the thread</a>'


def hidden_card(
    thread: pb.ThreadContext,
    pseudonym: str,
    text: str,
    reports: int,
    *,
    total: int = 0,
    threshold: int = 0,
    reasons: str = "",
) -> str:
    """The admin chat's card for a comment that reports hid: their count, weighted
    total against the threshold (hundredths) and reasons, never who reported."""
    lines = [
        f"⚠️ A comment on confession #{thread.confession_number} was hidden after {reports} reports."
    ]
    if threshold:
        lines.append(f"⚖️ Weighted {total / 100:g} of {threshold / 100:g}")
    if reasons:
        lines.append(f"Reasons: {html.escape(reasons)}")
    return "\n".join(lines) + f"\n\n<b>{html.escape(pseudonym)}</b>: {html.escape(text)}"


# A hidden comment's card once its writer erased themselves.
WITHDRAWN_CARD = "⚠️ A hidden comment\n[withdrawn]"


def hidden_card_markup(comment_id: int, number: int) -> dict[str, Any]:
    """Restore / Delete / Delete and ban (see veil/contracts/callbacks.py)."""

    def button(label: str, action: HiddenButton) -> dict[str, str]:
        return {"text": label, "callback_data": HiddenAction(action, comment_id, number).pack()}

    return {
        "inline_keyboard": [
            [button("↩️ Restore", HiddenButton.RESTORE), button("🗑 Delete", HiddenButton.DELETE)],
            [button("🚫 Delete and ban", HiddenButton.BAN)],
            [warn_button(SafetyTarget.HIDDEN_COMMENT, comment_id)],
        ]
    }
