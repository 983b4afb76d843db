"""What the bot says in the admin chat: moderation, bans, rules and the moderation Mini App's entry.

The member-facing texts are in :mod:`services.gateway.views.texts`, warns, shadow bans and
conversations in :mod:`services.gateway.views.safety_texts`. HTML parse mode unless marked.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from veil.contracts.callbacks import HiddenButton, VerdictButton
from veil.contracts.lengths import REJECT_REASON_MAX_LENGTH
from veil.core.durations import format_duration
from veil.v1 import confessions_pb2

ONLY_ADMINS = "Only the community's admins can do this."
CONFESSION_GONE = "That confession is gone."
HANDLED_BY_ANOTHER_ADMIN = "Already handled by another admin."
REASON_NO_LONGER_OFFERED = "That reason is no longer offered."
REPLY_WITH_REASON = "Reply to my message with the reason."
REASON_PLACEHOLDER = "Reason for rejecting"
REASON_CANCELLED = "Cancelled. The confession is still waiting."
REASON_TOO_LONG = (
    f"Please keep the reason under {REJECT_REASON_MAX_LENGTH} characters: reply to this message."
)
NOT_HIDDEN = "Already handled (or not hidden)."
# What a hidden comment's card says after each decision (plain text).
HIDDEN_OUTCOMES = {
    HiddenButton.RESTORE: "↩️ Restored",
    HiddenButton.DELETE: "🗑 Deleted",
    HiddenButton.BAN: "🚫 Deleted, writer banned",
    # The card of a comment a rule flagged (it may still be visible).
    HiddenButton.FLAG_KEEP: "✔️ Kept",
    HiddenButton.FLAG_DELETE: "🗑 Deleted",
    HiddenButton.FLAG_BAN: "🚫 Deleted, writer banned",
}
# What a reported confession's card says after each verdict (plain text).
VERDICT_OUTCOMES = {
    VerdictButton.TAKE_DOWN: "🗑 Taken down",
    VerdictButton.KEEP: "✔️ Kept",
}
NOT_TAKEN_DOWN = "Already handled, or no longer in the channel."


def ask_reason(mention: str) -> str:
    """The prompt for a typed reject reason; ``mention`` is HTML."""
    return (
        f"✍️ {mention}, type the reason for rejecting this confession "
        f"(up to {REJECT_REASON_MAX_LENGTH} characters) as a reply to this message, or /cancel."
    )


def handled_by(moderator: str) -> str:
    """A card press after another admin decided (plain text)."""
    return f"Already handled by {moderator}."


def rejected_with_reason(number: int) -> str:
    """A typed reason took effect."""
    return f"❌ Rejected #{number}: the author is told why."


def already_handled(number: int, moderator: str) -> str:
    """A typed reason came after another admin's decision."""
    return f"#{number} was already handled by {escape(moderator)}."


def hidden_decided(outcome: str, admin_first_name: str) -> str:
    """The line a hidden comment's card gets after a decision."""
    return f"{outcome} by {escape(admin_first_name)}."


BAN_USAGE = (
    "Use <code>/ban #12 [7d] [reason]</code> (the author of confession #12) or "
    "<code>/ban Misty Heron 417 [12h] [reason]</code> (a pseudonym from a thread)."
)
UNBAN_USAGE = (
    "Use <code>/unban #12</code>, <code>/unban Misty Heron 417</code> (the label a ban was "
    "made with) or <code>/unban 7</code> (a ban's id, as /bans lists it)."
)
NOBODY_BANNED = "Nobody is banned."
AMBIGUOUS_NAME = "Ambiguous name."
INVALID_VALUE = "Invalid value."
SAVED = "✅ Saved."


def nobody_found(target: str) -> str:
    """/ban or /unban naming nobody (plain text: escaped by :func:`warning`)."""
    return f"Nobody found for {target}."


def warning(text: str) -> str:
    """A refusal of an admin command, with the (escaped) reason."""
    return f"⚠️ {escape(text)}"


def banned(line: str) -> str:
    """/ban took effect; ``line`` is a :func:`ban_line`."""
    return "🚫 Banned " + line.removeprefix("• ")


def unbanned(label: str, done: bool) -> str:
    """/unban's answer."""
    return f"✅ Unbanned {escape(label)}." if done else f"No such ban: {escape(label)}."


def bans_head(count: int) -> str:
    """The first line of /bans."""
    return f"<b>Bans</b> ({count})"


def ban_line(
    label: str, reason: str, until: datetime | None, *, ban_id: int = 0, shadow: bool = False
) -> str:
    """One line of /bans (with the ban's id, which /unban takes); 👻 marks a shadow ban."""
    when = f"until {until:%d %b %Y %H:%M} UTC" if until is not None else "permanent"
    extra = f" — {escape(reason)}" if reason else ""
    number = f"<code>{ban_id}</code> " if ban_id else ""
    ghost = "👻 " if shadow else ""
    return f"• {ghost}{number}<b>{escape(label)}</b> · {when}{extra}"


def rules_text(rules: confessions_pb2.CommunityRules) -> str:
    """What /settings shows, with how to change each rule."""

    action = (
        "reject" if rules.filter_action == confessions_pb2.WORD_FILTER_ACTION_REJECT else "flag"
    )
    words = ", ".join(escape(w) for w in rules.filter_words) or "none"
    reasons = "\n".join(f"  {i}. {escape(r)}" for i, r in enumerate(rules.reject_reasons, 1))
    publish = (
        f"at most one post per {rules.publish_interval_minutes} min"
        if rules.publish_interval_minutes
        else "at once"
    )
    return (
        "<b>Community rules</b>\n"
        f"cooldown: {format_duration(rules.cooldown_seconds)}\n"
        f"cap: {rules.daily_cap or 'off'} per day\n"
        f"maxlen: {rules.max_length} characters\n"
        f"filter: {action} · words: {words}\n"
        f"publish: {publish}\n"
        f"{safety_text(rules)}\n"
        f"reasons:\n{reasons}\n\n"
        "Change one with <code>/settings &lt;name&gt; &lt;value&gt;</code>, e.g. "
        "<code>/settings cooldown 10m</code>, <code>/settings cap 3</code>, "
        "<code>/settings maxlen 1000</code>, <code>/settings filter reject</code>, "
        "<code>/settings words add foo, bar</code>, <code>/settings reasons add Too long</code>, "
        "<code>/settings publish 30m</code>, <code>/settings publish now</code>, "
        "<code>/settings pii redact</code>, <code>/settings commentfilter off</code>, "
        "<code>/settings reports 2.5</code> or <code>/settings previews on</code>."
    )


def safety_text(rules: confessions_pb2.CommunityRules) -> str:
    """The trust-and-safety rules' lines of /settings (issue 16)."""
    threshold = (
        f"{rules.report_threshold_hundredths / 100:g}"
        if rules.report_threshold_hundredths
        else "default"
    )
    return (
        f"pii: {rules.pii_action or 'flag'} (phone numbers, e-mails, @mentions, links)\n"
        f"commentfilter: {'on' if rules.filter_comments else 'off'} "
        "(the word filter on comments)\n"
        f"reports: {threshold} (weighted reports that hide a comment)\n"
        f"previews: {'on' if rules.link_previews else 'off'} (link previews in posts)"
    )


# -- the moderation Mini App's entry points -----------------------------------

OPEN_MODERATION = "🗂 Open moderation"
MODERATION_MENU = "Moderation"
MODERATION_APP = (
    "🗂 The moderation app: the queue oldest first, decisions, figures. "
    "It is also under the menu button of this chat."
)


def queue_size(pending: int) -> str:
    """/panel in the admin chat."""
    return (
        f"🗂 <b>{pending}</b> confession(s) waiting for review.\n"
        "The moderation app opens in your private chat with me (Telegram allows "
        "Mini App buttons only there)."
    )
