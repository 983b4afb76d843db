"""Rules of the confessions domain that do not need the database."""

from __future__ import annotations

from veil.core.errors import InvalidInputError


def parse_bot_id(bot_token: str) -> int:
    """The bot's Telegram id: the digits before ':' in its token."""
    head, sep, tail = bot_token.partition(":")
    if not sep or not head.isdigit() or len(tail) < 20:
        raise InvalidInputError("bot token must look like 123456:ABC… (from @BotFather)")
    return int(head)


def clean_confession_text(text: str, max_length: int) -> str:
    """Trim and check a confession's text against the community limit."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInputError("confession text is empty")
    if len(cleaned) > max_length:
        raise InvalidInputError(
            f"confession text is {len(cleaned)} characters; the limit is {max_length}"
        )
    return cleaned


def clean_idempotency_key(key: str) -> str:
    """An idempotency key is required and short."""
    if not 1 <= len(key) <= 128:
        raise InvalidInputError("idempotency_key must be 1..128 characters")
    return key
