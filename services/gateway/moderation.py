"""Moderation cards in the admin chat: their buttons and how a decision is shown.

The confessions service queues each card (``mod:<action>:<confession id>``
buttons, see services/confessions/domain.py); the gateway answers the presses.
Admins see each other's first names on decided cards; a card never shows who
wrote the confession.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.gateway.clients import ServiceClients
from veil.core.durations import format_duration
from veil.core.telegram_text import CAPTION_LIMIT, MESSAGE_TEXT_LIMIT, append_line
from veil.v1 import confessions_pb2

# ModReason.reason values that are not an index into the community's reasons.
TYPE_OWN = -1
BACK = -2


class ModAction(CallbackData, prefix="mod"):
    """A card button: ``approve``, ``reject``, ``reason`` (pick one) or ``ban``."""

    action: str
    confession: int


class ModReason(CallbackData, prefix="mr"):
    """A reject reason picked on a card: an index, TYPE_OWN or BACK."""

    confession: int
    reason: int


def card_keyboard(confession_id: int) -> InlineKeyboardMarkup:
    """The card's own buttons (as the confessions service sends them)."""

    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=label, callback_data=ModAction(action=action, confession=confession_id).pack()
        )

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button("✅ Approve", "approve"), button("❌ Reject", "reject")],
            [button("📝 Reject with reason", "reason"), button("🚫 Ban author", "ban")],
        ]
    )


def reasons_keyboard(confession_id: int, reasons: list[str]) -> InlineKeyboardMarkup:
    """One button per community reason, then "type one" and "back"."""

    def button(label: str, index: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=label, callback_data=ModReason(confession=confession_id, reason=index).pack()
        )

    rows = [[button(reason[:60], index)] for index, reason in enumerate(reasons)]
    rows.append([button("✍️ Type a reason", TYPE_OWN), button("⬅️ Back", BACK)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def outcome(response: confessions_pb2.ModerateConfessionResponse) -> str:
    """ "✅ Approved by Ann", "❌ Rejected by Bob: reason", "🚫 … author banned" (plain text)."""
    who = response.moderator
    if response.confession.status in (
        confessions_pb2.CONFESSION_STATUS_APPROVED,
        confessions_pb2.CONFESSION_STATUS_PUBLISHED,
    ):
        return f"✅ Approved by {who}"
    if response.action == confessions_pb2.MODERATION_ACTION_BAN:
        return f"🚫 Rejected and author banned by {who}"
    line = f"❌ Rejected by {who}"
    return f"{line}: {response.reason}" if response.reason else line


def decided_card(
    card_html: str, response: confessions_pb2.ModerateConfessionResponse, *, caption: bool
) -> str:
    """The card as it stays after the decision, within the text's (or caption's) limit."""
    limit = CAPTION_LIMIT if caption else MESSAGE_TEXT_LIMIT
    return append_line(card_html, escape(outcome(response)), limit)


def ban_line(label: str, reason: str, until: datetime | None, *, ban_id: int = 0) -> str:
    """One line of /bans (with the ban's id, which /unban takes)."""
    when = f"until {until:%d %b %Y %H:%M} UTC" if until is not None else "permanent"
    extra = f" — {escape(reason)}" if reason else ""
    number = f"<code>{ban_id}</code> " if ban_id else ""
    return f"• {number}<b>{escape(label)}</b> · {when}{extra}"


def until_of(seconds: int | None) -> datetime | None:
    """The end of a ban lasting ``seconds`` from now (None: permanent)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() + seconds, UTC)


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


# The decisions a card button or the Mini App can ask for.
ACTIONS = {
    "approve": confessions_pb2.MODERATION_ACTION_APPROVE,
    "reject": confessions_pb2.MODERATION_ACTION_REJECT,
    "ban": confessions_pb2.MODERATION_ACTION_BAN,
}


async def request_decision(
    services: ServiceClients,
    community_id: int,
    confession_id: int,
    action: str,
    *,
    moderator: str,
    reason: str = "",
) -> confessions_pb2.ModerateConfessionResponse:
    """Ask the confessions service for ``action`` on a confession: exactly one
    decision wins; the answer says which one stands (and who made it)."""
    response: confessions_pb2.ModerateConfessionResponse = (
        await services.confessions.ModerateConfession(
            confessions_pb2.ModerateConfessionRequest(
                community_id=community_id,
                confession_id=confession_id,
                action=ACTIONS[action],
                reason=reason,
                moderator=moderator,
            )
        )
    )
    return response


def is_withdrawn(response: confessions_pb2.ModerateConfessionResponse) -> bool:
    """The author erased their data while the confession waited: nobody decided it."""
    return (
        not response.won and response.confession.status == confessions_pb2.CONFESSION_STATUS_DELETED
    )
