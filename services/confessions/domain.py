"""Rules of the confessions domain that do not need the database."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.confessions import safety_rules
from services.confessions.models import FILTER_ACTIONS
from veil.contracts.lengths import (
    CAPTION_LIMIT,
    CAPTION_MAX_LENGTH,
    CONFESSION_MAX_LENGTH,
    MESSAGE_TEXT_LIMIT,
    REJECT_REASON_MAX_LENGTH,
)
from veil.core import pii
from veil.core.durations import parse_duration
from veil.core.errors import InvalidInputError, MemberRefusal
from veil.core.telegram_text import cut_escaped, utf16_len, visible_len

# The confessions' word filter, shared with comments (veil/core/word_filter.py).
from veil.core.word_filter import filtered_word as filtered_word


def parse_bot_id(bot_token: str) -> int:
    """The bot's Telegram id: the digits before ':' in its token."""
    head, sep, tail = bot_token.partition(":")
    if not sep or not head.isdigit() or len(tail) < 20:
        raise InvalidInputError("bot token must look like 123456:ABC… (from @BotFather)")
    return int(head)


def clean_idempotency_key(key: str) -> str:
    """An idempotency key is required and short."""
    if not 1 <= len(key) <= 128:
        raise InvalidInputError("idempotency_key must be 1..128 characters")
    return key


# -- moderation ---------------------------------------------------------------

MEDIA_KINDS = ("photo", "voice", "video")
# Room a card keeps for the decision line the gateway appends ("❌ Rejected by
# <first name, ≤ 64>: <reason, ≤ 100>"), so deciding never has to cut the card.
DECISION_RESERVE = 200
FLAGGED_WORD_SHOWN = 60
DEFAULT_REASONS = (
    "Could identify someone",
    "Hateful or harassing",
    "Spam or advertising",
    "Not a confession",
)
MAX_FILTER_WORDS = 200
MAX_REASONS = 8
MAX_REASON_LENGTH = REJECT_REASON_MAX_LENGTH
_SEND_METHODS = {"photo": "sendPhoto", "voice": "sendVoice", "video": "sendVideo"}


@dataclass(frozen=True)
class Rules:
    """A community's rules (see ``CommunityRules`` in confessions.proto)."""

    cooldown_seconds: int = 0
    daily_cap: int = 0
    max_length: int = CONFESSION_MAX_LENGTH
    filter_words: tuple[str, ...] = ()
    filter_action: str = "flag"
    reject_reasons: tuple[str, ...] = DEFAULT_REASONS
    publish_interval_minutes: int = 0
    # pii, commentfilter, reports, previews (services/confessions/safety_rules.py).
    safety: safety_rules.SafetyRules = field(default_factory=safety_rules.SafetyRules)


def clean_media(kind: str, file_id: str) -> tuple[str, str] | None:
    """A media confession's (kind, file_id), None for text; anything else is refused."""
    if not kind and not file_id:
        return None
    if kind not in MEDIA_KINDS or not 1 <= len(file_id) <= 256:
        raise InvalidInputError("media must be a photo, voice or video with its file_id")
    return kind, file_id


def check_text(text: str, max_length: int, *, media: bool) -> str:
    """Trim the text and hold it to the community's length (a caption to Telegram's too)."""
    cleaned = text.strip()
    if not cleaned and not media:
        raise InvalidInputError("confession text is empty")
    limit = min(max_length, CAPTION_MAX_LENGTH) if media else max_length
    # Characters as Telegram counts them (UTF-16 units: most emoji are two).
    length = utf16_len(cleaned)
    if length > limit:
        raise MemberRefusal(
            f"Your confession is {length} characters; this community allows at most {limit}.",
            fixable=True,
        )
    return cleaned


def card(
    number: int,
    text: str,
    *,
    media_kind: str | None,
    approved: int,
    rejected: int,
    flagged_word: str | None,
    pii_found: str | None = None,
    shadowed: bool = False,
) -> str:
    """The admin chat's card: number, text, the author's history in numbers only.

    The card fits Telegram's limit (a caption's for media) with room left for
    the decision line; a confession too long for that is shown cut with "…".
    """

    def layout(body: str) -> str:
        lines = [f"🆕 <b>#{number}</b>" + (f" · {media_kind}" if media_kind else "")]
        if body:
            lines += ["", body]
        lines += ["", f"👤 Author so far: ✅ {approved} approved · ❌ {rejected} rejected"]
        if flagged_word is not None:
            word = cut_escaped(flagged_word, FLAGGED_WORD_SHOWN)
            lines.append(f"⚠️ Flagged: contains “{word}”")
        if pii_found:
            lines.append(html.escape(pii.flag_line(pii_found)))
        if shadowed:
            lines.append(SHADOW_MARK)
        return "\n".join(lines)

    limit = CAPTION_LIMIT if media_kind is not None else MESSAGE_TEXT_LIMIT
    room = limit - DECISION_RESERVE - (visible_len(layout("-")) - 1)
    return layout(cut_escaped(text, room))


# The card line of a confession sent while its author was shadow-banned.
SHADOW_MARK = "👻 Shadow-banned author: never published unless you approve it"


def send_call(
    media: tuple[str, str] | None, text: str, reply_markup: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """(method, params) showing ``text`` (HTML) alone or as the caption of ``media``."""
    params: dict[str, Any] = {"parse_mode": "HTML", "reply_markup": reply_markup}
    if media is None:
        return "sendMessage", params | {"text": text}
    kind, file_id = media
    return _SEND_METHODS[kind], params | {kind: file_id, "caption": text}


def post_text(number: int, text: str, *, media: bool = False) -> str:
    """The channel post: "#N" and the text, HTML-escaped (a caption for media)."""
    head = f"<b>#{number}</b>"
    if not text:
        return head
    # Texts are held to the community's length; the cut only guards the limit.
    limit = CAPTION_LIMIT if media else MESSAGE_TEXT_LIMIT
    return f"{head}\n\n{cut_escaped(text, limit - visible_len(head) - 2)}"


def published_notice(number: int, post: str, comments: str) -> str:
    """The author's "approved" message, with links to the post and its thread."""
    return (
        f"✅ Your confession <b>#{number}</b> was approved and is in the channel.\n"
        f'<a href="{post}">See the post</a> · <a href="{comments}">Comments</a>'
    )


def rejected_notice(number: int, reason: str) -> str:
    """The author's "rejected" message, with the admins' reason when they gave one."""
    head = f"❌ Your confession <b>#{number}</b> was not published."
    return f"{head}\nReason: {html.escape(reason)}" if reason else head


def banned_notice(title: str, until: datetime | None) -> str:
    """Told once when a member is banned."""
    when = f" until {until:%d %b %Y %H:%M} UTC" if until is not None else ""
    return (
        f"🚫 The admins of <b>{html.escape(title)}</b> banned you{when}: you cannot send "
        "confessions or comments there."
    )


def banned_refusal(until: datetime | None) -> str:
    """The answer to a banned member's attempt."""
    when = f" until {until:%d %b %Y %H:%M} UTC" if until is not None else ""
    return f"🚫 You are banned in this community{when} and cannot send confessions."


# Impact points: an approved confession is what a community is for; a comment
# keeps a thread alive; a reaction is someone else saying the comment mattered.
POINTS_PER_APPROVED = 10
POINTS_PER_COMMENT = 2
POINTS_PER_REACTION = 1


def impact_points(approved: int, comments: int, reactions: int) -> int:
    """10 per approved confession + 2 per comment written + 1 per reaction received."""
    return (
        POINTS_PER_APPROVED * approved
        + POINTS_PER_COMMENT * comments
        + POINTS_PER_REACTION * max(reactions, 0)
    )


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.split(",") if w.strip()]


def apply_rule(rules: Rules, name: str, value: str) -> dict[str, Any]:
    """The column values that setting rule ``name`` to the admin's ``value`` changes."""
    name, value = name.strip().lower(), value.strip()
    if name in safety_rules.NAMES:
        return safety_rules.apply(name, value)
    verb, _, rest = value.partition(" ")
    if name == "cooldown":
        seconds = 0 if value.lower() in ("off", "0") else parse_duration(value)
        return {"cooldown_seconds": seconds}
    if name == "cap":
        return {"daily_cap": _integer(value, "cap", 0, 1000, off=True)}
    if name == "maxlen":
        return {"max_length": _integer(value, "maxlen", 1, CONFESSION_MAX_LENGTH)}
    if name == "filter":
        if value.lower() not in FILTER_ACTIONS:
            raise InvalidInputError("filter must be flag or reject")
        return {"filter_action": value.lower()}
    if name == "words":
        return {"filter_words": _edit_words(rules.filter_words, verb, rest)}
    if name == "reasons":
        return {"reject_reasons": _edit_reasons(rules.reject_reasons, verb, rest)}
    if name == "publish":
        if value.lower() in ("now", "off", "0"):
            return {"publish_interval_minutes": 0}
        minutes = parse_duration(value, default_unit="m") // 60
        if not 1 <= minutes <= 1440:
            raise InvalidInputError("publish takes now, or an interval of 1m to 24h")
        return {"publish_interval_minutes": minutes}
    raise InvalidInputError(
        f"unknown setting {name!r}: cooldown, cap, maxlen, filter, words, reasons, publish, "
        "pii, commentfilter, reports or previews"
    )


def _edit_words(current: Sequence[str], verb: str, rest: str) -> list[str]:
    """The filter words after ``words add|remove|clear``."""
    words = list(current)
    if verb == "add":
        for word in _words(rest):
            if len(word) > 50:
                raise InvalidInputError("a filter word may have at most 50 characters")
            if word.casefold() not in (w.casefold() for w in words):
                words.append(word)
    elif verb == "remove":
        gone = {w.casefold() for w in _words(rest)}
        words = [w for w in words if w.casefold() not in gone]
    elif verb == "clear":
        words = []
    else:
        raise InvalidInputError("use: words add a, b · words remove a · words clear")
    if len(words) > MAX_FILTER_WORDS:
        raise InvalidInputError(f"at most {MAX_FILTER_WORDS} filter words")
    return words


def _edit_reasons(current: Sequence[str], verb: str, rest: str) -> list[str]:
    """The rejection reasons after ``reasons add|remove|reset``."""
    reasons = list(current)
    if verb == "add" and rest.strip():
        if len(rest.strip()) > MAX_REASON_LENGTH:
            raise InvalidInputError(f"a reason may have at most {MAX_REASON_LENGTH} characters")
        reasons.append(rest.strip())
    elif verb == "remove":
        index = _integer(rest, "reason number", 1, len(reasons))
        del reasons[index - 1]
    elif verb == "reset":
        reasons = list(DEFAULT_REASONS)
    else:
        raise InvalidInputError("use: reasons add <text> · reasons remove <n> · reasons reset")
    if len(reasons) > MAX_REASONS:
        raise InvalidInputError(f"at most {MAX_REASONS} reasons")
    return reasons


def _integer(value: str, what: str, low: int, high: int, *, off: bool = False) -> int:
    if off and value.lower() == "off":
        return 0
    if not value.isdigit() or not low <= int(value) <= high:
        extra = " (or off)" if off else ""
        raise InvalidInputError(f"{what} must be a whole number from {low} to {high}{extra}")
    return int(value)
