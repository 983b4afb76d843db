"""Callback data and texts of warns, shadow bans and conversations with the admins.

The confessions and social services write these buttons as plain strings
(``sf:<action>:<c|h>:<id>`` on cards, ``cv:<action>:<conversation>``); the
classes below are their one reading in the gateway.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram.filters.callback_data import CallbackData

from veil.core.durations import format_duration
from veil.v1 import safety_pb2

WRITE_TO_ADMINS = "✉️ Write to the admins"
WRITE_PROMPT = (
    "✉️ Write your message to the admins as one message (up to 1000 characters). "
    "They see it under a label made for this conversation, never your name or your "
    "pseudonyms. /cancel to stop."
)
WRITE_SENT = "✉️ Sent to the admins. Their answer will come here."
WRITE_CANCELLED = "Cancelled: nothing was sent."
CONVERSATION_CLOSED = "✖️ Conversation closed."
NO_CONVERSATION = "You have no open conversation with the admins."


class SafetyAction(CallbackData, prefix="sf"):
    """A card button: ``warn`` or ``shadow`` the author of confession ``target``
    (``kind`` "c") or the writer of hidden comment ``target`` (``kind`` "h")."""

    action: str
    kind: str
    target: int


class ConversationAction(CallbackData, prefix="cv"):
    """Admin chat: ``close`` / ``block`` conversation N. Member's chat: ``reply`` / ``end``."""

    action: str
    conversation: int


def warn_line(warn: safety_pb2.Warn) -> str:
    """One line of /bans for a warn (its id, which /unwarn takes)."""
    expires: datetime = warn.expires_at.ToDatetime()
    extra = f" — {escape(warn.reason)}" if warn.reason else ""
    return (
        f"• <code>w{warn.id}</code> ⚠️ <b>{escape(warn.label)}</b> · "
        f"counts until {expires:%d %b %Y %H:%M} UTC{extra}"
    )


def safety_rules_text(rules: safety_pb2.SafetyRules) -> str:
    """What ``/settings warns`` shows, with how to change each rule."""
    return (
        "<b>Warns</b>\n"
        f"• warn_expiry: a warn counts for {format_duration(rules.warn_expiry_seconds)} "
        "(<code>/settings warn_expiry 30d</code>)\n"
        f"• warn_limit: the {rules.warn_limit}th warn in force bans "
        "(<code>/settings warn_limit 3</code>)\n"
        f"• warn_ban: that ban lasts {format_duration(rules.warn_ban_seconds)} "
        "(<code>/settings warn_ban 7d</code>)"
    )
