"""Groups as Telegram runs them for bots: privacy mode, restricted members.

With privacy mode on (BotFather's default), a bot that is not an admin of a
group receives only commands (un-addressed, or addressed to it), replies to
its own messages and messages that mention it. An admin bot, or one whose
privacy mode is off, receives every message. Button presses always arrive.
"""

from __future__ import annotations

from typing import Any

from tools.telegram_emulator.model import BotState, Chat, Message

_RESTRICTIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


def restricted_member(user: dict[str, Any], *, is_member: bool) -> dict[str, Any]:
    """A ``ChatMemberRestricted`` that may send nothing; ``is_member`` False once they left."""
    return {
        "status": "restricted",
        "user": user,
        "is_member": is_member,
        **dict.fromkeys(_RESTRICTIONS, False),
        "until_date": 0,
    }


def _command_for(bot: BotState, text: str) -> bool:
    """A command this bot receives: un-addressed, or ``/cmd@<this bot>``."""
    _, at, addressee = text.split()[0].partition("@")
    return not at or addressee.lower() == bot.username.lower()


def bot_receives(bot: BotState, chat: Chat, message: Message) -> bool:
    """Whether Telegram delivers a member's ``message`` in ``chat`` to ``bot``.

    Telegram delivers un-addressed commands to a privacy-mode bot only when it
    was the last bot to write in the group; the emulated groups hold one bot.
    """
    if chat.type == "private":
        return True
    if not chat.bot_is_member:
        return False
    if chat.bot_is_admin or not bot.privacy_mode:
        return True
    text = message.text or message.caption or ""
    if text.startswith("/"):
        return _command_for(bot, text)
    if message.reply_to_message_id is not None:
        replied = chat.messages.get(message.reply_to_message_id)
        if replied is not None and replied.from_bot:
            return True
    return f"@{bot.username}".lower() in text.lower()
