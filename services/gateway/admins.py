"""Who may press admin buttons: members of the community's admin chat."""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramBadRequest

_MEMBER_STATUSES = frozenset(
    {
        ChatMemberStatus.CREATOR,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.RESTRICTED,
    }
)


async def is_admin_chat_member(bot: Bot, admin_chat_id: int, user_id: int) -> bool:
    """True when ``user_id`` belongs to the admin chat (asked of Telegram)."""
    try:
        member = await bot.get_chat_member(admin_chat_id, user_id)
    except TelegramBadRequest:
        # "user not found" / "chat not found": not a member we can vouch for.
        return False
    return member.status in _MEMBER_STATUSES
