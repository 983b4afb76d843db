"""Texts that more than one process writes.

A card whose author erased their data is edited to the withdrawn text by the
confessions service (through the notifier, on /deleteme) and by the gateway
(when an admin presses a stale card). Both must write the same text, or the
two edits race and the card flips between them. The erased placeholder is
what the confessions service edits into a channel post and the social service
leaves in a comment's place; the gateway's /deleteme warning names it.
"""

from __future__ import annotations

WITHDRAWN_MARK = "[withdrawn]"
WITHDRAWN_NOTE = "🗑 Withdrawn by its author: there is nothing to decide."
DELETED_TEXT = "[deleted]"


def withdrawn_card(number: int) -> str:
    """The card (HTML) of confession ``number`` after its author withdrew it."""
    return f"🆕 <b>#{number}</b>\n\n{WITHDRAWN_MARK}\n\n{WITHDRAWN_NOTE}"
