"""Texts that more than one process writes.

A card whose author erased their data is edited to the withdrawn text by the
confessions service (through the notifier, on /deleteme) and by the gateway
(when an admin presses a stale card). Both must write the same text, or the
two edits race and the card flips between them. The erased placeholder is
what the confessions service edits into a channel post and the social service
leaves in a comment's place; the gateway's /deleteme warning names it.

A decided card is written by the gateway (a press of the card's buttons edits
the pressed message) and by the confessions service (a decision taken in the
Mini App edits the card through the notifier): the same line, or a press on a
card decided in the app would edit it again to another text.
"""

from __future__ import annotations

from html import escape

from veil.contracts.lengths import CAPTION_LIMIT, MESSAGE_TEXT_LIMIT
from veil.core.telegram_text import append_line

WITHDRAWN_MARK = "[withdrawn]"
WITHDRAWN_NOTE = "🗑 Withdrawn by its author: there is nothing to decide."
DELETED_TEXT = "[deleted]"


def withdrawn_card(number: int) -> str:
    """The card (HTML) of confession ``number`` after its author withdrew it."""
    return f"🆕 <b>#{number}</b>\n\n{WITHDRAWN_MARK}\n\n{WITHDRAWN_NOTE}"


def decision_outcome(*, approved: bool, banned: bool, moderator: str, reason: str) -> str:
    """ "✅ Approved by Ann", "❌ Rejected by Bob: reason", "🚫 … author banned" (plain text)."""
    if approved:
        return f"✅ Approved by {moderator}"
    if banned:
        return f"🚫 Rejected and author banned by {moderator}"
    line = f"❌ Rejected by {moderator}"
    return f"{line}: {reason}" if reason else line


def decided_card(card_html: str, outcome: str, *, caption: bool) -> str:
    """The card as it stays after the decision (``outcome`` is plain text), within
    the text's (or the caption's) limit."""
    limit = CAPTION_LIMIT if caption else MESSAGE_TEXT_LIMIT
    return append_line(card_html, escape(outcome), limit)
