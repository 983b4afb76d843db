"""Admin-chat card texts that more than one process writes.

A card whose author erased their data is edited to the withdrawn text by the
confessions service (through the notifier, on /deleteme) and by the gateway
(when an admin presses a stale card). Both must write the same text, or the
two edits race and the card flips between them.
"""

from __future__ import annotations

WITHDRAWN_MARK = "[withdrawn]"
WITHDRAWN_NOTE = "🗑 Withdrawn by its author: there is nothing to decide."


def withdrawn_card(number: int) -> str:
    """The card (HTML) of confession ``number`` after its author withdrew it."""
    return f"🆕 <b>#{number}</b>\n\n{WITHDRAWN_MARK}\n\n{WITHDRAWN_NOTE}"
