"""Bot API methods that read chats and their members."""

from __future__ import annotations

from typing import Any

from tools.telegram_emulator.errors import bad_request
from tools.telegram_emulator.groups import restricted_member
from tools.telegram_emulator.model import BotState, Chat
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.state import Emulator


def _member(bot: BotState, chat: Chat, user_id: int) -> dict[str, Any]:
    if user_id == bot.id:
        user, is_admin, present = bot.me(), chat.bot_is_admin, chat.bot_is_member
    else:
        user = bot.user(user_id)
        is_admin = user_id in chat.admins
        present = (
            is_admin or user_id in chat.members or (chat.type == "private" and chat.id == user_id)
        )
    if chat.type == "private" and chat.id == user_id and chat.blocked:
        present = True
    if user_id in chat.restricted:
        return restricted_member(user.to_api(), is_member=chat.restricted[user_id])
    if not present:
        return {"status": "left", "user": user.to_api()}
    if not is_admin:
        return {"status": "member", "user": user.to_api()}
    if user_id != bot.id and user_id == min(chat.admins):
        return {"status": "creator", "user": user.to_api(), "is_anonymous": False}
    rights = dict.fromkeys(
        (
            "can_be_edited",
            "is_anonymous",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_post_messages",
            "can_edit_messages",
            "can_pin_messages",
            "can_send_welcome_messages",
        ),
        True,
    )
    rights["is_anonymous"] = rights["can_be_edited"] = False
    return {"status": "administrator", "user": user.to_api(), **rights}


def get_chat_member(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getChatMember."""
    chat = bot.chat(params.required("chat_id"))
    user_id = params.integer("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    return _member(bot, chat, user_id)


def get_chat_administrators(em: Emulator, bot: BotState, params: Params) -> list[dict[str, Any]]:
    """getChatAdministrators."""
    chat = bot.chat(params.required("chat_id"))
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    admins = sorted(chat.admins) + ([bot.id] if chat.bot_is_admin else [])
    return [_member(bot, chat, user_id) for user_id in admins]


def get_chat(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getChat (a ChatFullInfo)."""
    chat = bot.chat(params.required("chat_id"))
    return chat.to_api() | {
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }
