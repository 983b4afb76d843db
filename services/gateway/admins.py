"""Who may act as an admin: members of the community's admin chat.

Telegram is asked with ``getChatMember``; the answer (yes or no) is cached in
Redis Cluster for ``admin_cache_seconds`` under a keyed hash of the bot, chat
and user, so no Telegram id is written to Redis and a busy admin chat costs one
Bot API call per admin per interval.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ChatMemberRestricted
from redis.asyncio.cluster import RedisCluster

from veil.core.hashing import keyed_token

_MEMBER_STATUSES = frozenset(
    {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


async def is_admin_chat_member(bot: Bot, admin_chat_id: int, user_id: int) -> bool:
    """True when ``user_id`` belongs to the admin chat (asked of Telegram)."""
    try:
        member = await bot.get_chat_member(admin_chat_id, user_id)
    except TelegramBadRequest:
        # "user not found" / "chat not found": not a member we can vouch for.
        return False
    if isinstance(member, ChatMemberRestricted):
        # Restricted users keep that status after leaving; only is_member says they stayed.
        return member.is_member
    return member.status in _MEMBER_STATUSES


class AdminCheck:
    """``is_admin_chat_member`` with its answers cached in Redis."""

    def __init__(self, redis: RedisCluster, id_key: bytes, ttl_seconds: int) -> None:
        self._redis = redis
        self._id_key = id_key
        self._ttl = ttl_seconds

    async def __call__(self, bot: Bot, admin_chat_id: int, user_id: int) -> bool:
        """True when ``user_id`` belongs to ``admin_chat_id`` (cached for the TTL)."""
        key = f"admin:{{{keyed_token(self._id_key, 'admin', bot.id, admin_chat_id, user_id)}}}"
        cached = await self._redis.get(key)
        if cached is not None:
            return bool(cached == b"1")
        member = await is_admin_chat_member(bot, admin_chat_id, user_id)
        await self._redis.set(key, b"1" if member else b"0", ex=self._ttl)
        return member
