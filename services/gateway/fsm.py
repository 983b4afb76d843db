"""aiogram FSM storage on the Redis Cluster, with opaque keys and TTLs.

aiogram's default key builder writes raw chat and user ids into Redis keys; the
builder here replaces them with a keyed hash, and every state and data record
expires, so Redis never holds a member's Telegram id.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio.client import Redis
from redis.asyncio.cluster import RedisCluster

from veil.core.hashing import keyed_token


class OpaqueKeyBuilder(KeyBuilder):
    """``fsm:{<hash of bot, chat, user, thread>}:<part>``; both parts share a slot."""

    def __init__(self, id_key: bytes) -> None:
        self._id_key = id_key

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        """The Redis key of ``part`` of the conversation ``key``."""
        tag = keyed_token(
            self._id_key,
            key.bot_id,
            key.chat_id,
            key.user_id,
            key.thread_id or "",
            key.business_connection_id or "",
            key.destiny,
        )
        return f"fsm:{{{tag}}}:{part or ''}"


def create_storage(redis: RedisCluster, id_key: bytes, ttl_seconds: int) -> RedisStorage:
    """FSM storage on ``redis`` whose records expire after ``ttl_seconds``."""
    # RedisStorage only calls get/set/delete, which the cluster client has too.
    client = cast(Redis, cast(Any, redis))
    return RedisStorage(
        client, key_builder=OpaqueKeyBuilder(id_key), state_ttl=ttl_seconds, data_ttl=ttl_seconds
    )
