"""Telegram links and the channel post's "💬 Comments" button, shared by every service."""

from __future__ import annotations

from typing import Any


def deep_link(bot_username: str, number: int) -> str:
    """The "💬 Comments" link under a channel post: opens the thread in the bot."""
    return f"https://t.me/{bot_username}?start=c_{number}"


def comments_markup(bot_username: str, number: int, count: int = 0) -> dict[str, Any]:
    """The channel post's inline keyboard, with the live comment count once there is one."""
    label = f"💬 Comments ({count})" if count else "💬 Comments"
    return {"inline_keyboard": [[{"text": label, "url": deep_link(bot_username, number)}]]}


def post_link(channel_chat_id: int, message_id: int) -> str:
    """A link to a channel post by ids (``t.me/c/…``), for channels with or without a name."""
    internal = str(channel_chat_id).removeprefix("-100").lstrip("-")
    return f"https://t.me/c/{internal}/{message_id}"


# The /start payload of "✉️ Write to the admins" (rejection and ban notices link to it).
WRITE_PAYLOAD = "write"


def write_markup(bot_username: str) -> dict[str, Any]:
    """A "✉️ Write to the admins" button: a deep link into the bot's private chat."""
    url = f"https://t.me/{bot_username}?start={WRITE_PAYLOAD}"
    return {"inline_keyboard": [[{"text": "✉️ Write to the admins", "url": url}]]}
