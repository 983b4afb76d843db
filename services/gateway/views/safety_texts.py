"""What the bot says about warns, shadow bans and conversations with the admins.

The rest of the bot's texts are in :mod:`services.gateway.views.texts` (the
menu's "✉️ Write to the admins" among them); HTML parse mode unless marked.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from veil.core.durations import format_duration
from veil.v1 import safety_pb2

# -- warns and shadow bans (admin chat) ----------------------------------------

WARN_USAGE = (
    "Use <code>/warn #12 [reason]</code> (the author of confession #12) or "
    "<code>/warn Misty Heron 417 [reason]</code> (a pseudonym from a thread)."
)
SHADOW_USAGE = (
    "Use <code>/shadowban #12 [7d] [reason]</code> or "
    "<code>/shadowban Misty Heron 417 [12h] [reason]</code>."
)
UNWARN_USAGE = "Use <code>/unwarn w7</code> (a warn's id, as /bans lists it)."
NOBODY_TO_ACT_ON = "Nobody to act on: the writer erased their data."  # plain text


def warned(label: str, reason: str) -> str:
    """The admin chat's line after a warn."""
    extra = f" — {escape(reason)}" if reason else ""
    return f"⚠️ Warned <b>{escape(label)}</b>{extra}. They are told (not by whom)."


def warned_alert(label: str, created: bool) -> str:
    """The press's answer to ⚠️ Warn (plain text)."""
    return f"⚠️ Warned {label}." if created else f"{label} was warned already."


def unwarned(warn_id: int, removed: bool) -> str:
    """The answer to /unwarn."""
    return f"✅ Warn w{warn_id} removed." if removed else f"No such warn: w{warn_id}."


def shadow_banned(line: str) -> str:
    """The answer to /shadowban, from its :func:`ban_line`."""
    return "👻 Shadow-banned " + line.removeprefix("• ")


def shadow_alert(label: str) -> str:
    """The press's answer to 👻 Shadow-ban (plain text)."""
    return f"👻 Shadow-banned {label}."


def warns_head(count: int) -> str:
    """The head of /bans' warns."""
    return f"<b>Warns</b> ({count})"


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


# -- writing to the admins ----------------------------------------------------------

WRITE_MAX_LENGTH = 1000
WRITE_PROMPT = (
    f"✉️ Write your message to the admins as one message (up to {WRITE_MAX_LENGTH} "
    "characters). They see it under a label made for this conversation, never your name "
    "or your pseudonyms. /cancel to stop."
)
WRITE_SENT = "✉️ Sent to the admins. Their answer will come here."
WRITE_CANCELLED = "Cancelled: nothing was sent."
CONVERSATION_CLOSED = "✖️ Conversation closed."  # plain text
NO_CONVERSATION = "You have no open conversation with the admins."  # plain text
UNBLOCK_USAGE = "Use <code>/unblock Guest 17</code>."
DONE = "Done."  # plain text
ALREADY_DONE = "Already done."  # plain text


def write_too_long(length: int) -> str:
    """A member's message over the limit."""
    return (
        f"That is {length} characters; a message holds up to {WRITE_MAX_LENGTH}. Please shorten it."
    )


ANSWER_TOO_LONG = f"Please keep an answer under {WRITE_MAX_LENGTH} characters."


def answered(conversation: int, delivered: bool) -> str:
    """The admin chat's reply to an admin's answer."""
    if delivered:
        return f"✅ Sent to Guest {conversation}."
    return f"Guest {conversation}'s conversation is closed: nothing was sent."


def conversation_closed_by(conversation: int, admin: str) -> str:
    """The admin chat's note after ✖️ Close."""
    return f"✖️ Guest {conversation}: conversation closed by {escape(admin)}."


def conversation_blocked_by(conversation: int, admin: str) -> str:
    """The admin chat's note after ⛔ Block."""
    return f"⛔ Guest {conversation}: blocked by {escape(admin)}."


def unblocked(conversation: int, done: bool) -> str:
    """The answer to /unblock."""
    if done:
        return f"✅ Guest {conversation} may write again."
    return f"Guest {conversation} is not blocked."
