"""aiogram FSM storage on the Redis Cluster: opaque keys, TTLs, two round trips per update.

aiogram's default key builder writes raw chat and user ids into Redis keys; the
builder here replaces them with keyed hashes, and every state and data record
expires, so Redis never holds a member's Telegram id.

Each key carries the member's hash tag (the update guard's, services/gateway/
guard.py), so the webhook reads the update's state and data in the guard's claim
script and writes the changes in the same script that marks the update done:
while an update is handled, reads of its member's records are served from what
the claim read (and what the handlers wrote), and writes wait in ``UpdateFsm``
until the update succeeded. A failed update leaves the FSM as it was, so
Telegram's redelivery starts from the same state.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, KeyBuilder, StateType, StorageKey
from redis.asyncio.cluster import RedisCluster

from veil.contracts.cards import MemberTags


class OpaqueKeyBuilder(KeyBuilder):
    """``fsm:{<member tag>}:<hash of chat, thread, …>:<part>``; a member's keys share a slot."""

    def __init__(self, id_key: bytes) -> None:
        self._tags = MemberTags(id_key)

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        """The Redis key of ``part`` of the conversation ``key``."""
        tag = self._tags(key.bot_id, key.user_id)
        rest = self._tags.tokens(
            key.chat_id, key.thread_id or "", key.business_connection_id or "", key.destiny
        )
        return f"fsm:{{{tag}}}:{rest}:{part or ''}"


@dataclass
class UpdateFsm:
    """The FSM records of one update's member: read by the claim, written with "done".

    ``together``: the conversation's state and data keys, which the claim read.
    """

    tag: str
    values: dict[str, bytes | None] = field(default_factory=dict)
    writes: dict[str, tuple[bytes | None, int]] = field(default_factory=dict)
    closed: bool = False
    together: tuple[str, ...] = ()

    def owns(self, redis_key: str) -> bool:
        """Whether ``redis_key`` is one of this member's (same slot as the claim)."""
        return not self.closed and redis_key.startswith(f"fsm:{{{self.tag}}}:")

    def to_write(self) -> dict[str, tuple[bytes | None, int]]:
        """What "done" writes: the handlers' changes and, when they changed the
        conversation's state or its data, the other one as this update saw it.

        aiogram writes the two apart, and a handler often only one of them (✏️
        Edit moves the state back to writing and keeps the draft). Written
        alone, the state outlived the data it needs by the data's older TTL,
        and its handler met a draft without its text; and of two updates of
        one member handled at once, the state of one could end beside the data
        of the other. Written together, the pair always comes from one update
        and expires at once.
        """
        ttl = next((self.writes[key][1] for key in self.together if key in self.writes), None)
        if ttl is None:
            return self.writes
        pair = {key: (self.values.get(key), ttl) for key in self.together}
        return {**pair, **self.writes}


# The update being handled in this task (contextvars follow the task, so
# concurrent updates never see each other's records).
_current: contextvars.ContextVar[UpdateFsm | None] = contextvars.ContextVar(
    "veil_update_fsm", default=None
)


def handling(update_fsm: UpdateFsm) -> contextvars.Token[UpdateFsm | None]:
    """Serve this task's FSM reads and writes of the member from ``update_fsm``."""
    return _current.set(update_fsm)


def done_handling(token: contextvars.Token[UpdateFsm | None]) -> None:
    """Back to plain Redis reads and writes (after the update's records were written)."""
    update_fsm = _current.get()
    if update_fsm is not None:
        update_fsm.closed = True
    _current.reset(token)


class VeilStorage(BaseStorage):
    """State and data on the cluster, each record with a TTL, batched per update."""

    def __init__(self, redis: RedisCluster, id_key: bytes, ttl_seconds: int) -> None:
        self.redis = redis
        self.key_builder = OpaqueKeyBuilder(id_key)
        self._ttl = ttl_seconds

    def keys(self, key: StorageKey) -> tuple[str, str]:
        """The Redis keys of the state and the data of ``key``."""
        return self.key_builder.build(key, "state"), self.key_builder.build(key, "data")

    async def _get(self, redis_key: str) -> bytes | None:
        update_fsm = _current.get()
        if update_fsm is not None and update_fsm.owns(redis_key):
            if redis_key not in update_fsm.values:
                update_fsm.values[redis_key] = await self._fetch(redis_key)
            return update_fsm.values[redis_key]
        return await self._fetch(redis_key)

    async def _fetch(self, redis_key: str) -> bytes | None:
        value = await self.redis.get(redis_key)
        return value.encode() if isinstance(value, str) else value

    async def _set(self, redis_key: str, value: bytes | None) -> None:
        update_fsm = _current.get()
        if update_fsm is not None and update_fsm.owns(redis_key):
            update_fsm.values[redis_key] = value
            update_fsm.writes[redis_key] = (value, self._ttl)
        elif value is None:
            await self.redis.delete(redis_key)
        else:
            await self.redis.set(redis_key, value, ex=self._ttl)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Set (None: clear) the state."""
        name = state.state if isinstance(state, State) else state
        await self._set(self.key_builder.build(key, "state"), name.encode() if name else None)

    async def get_state(self, key: StorageKey) -> str | None:
        """The state, or None."""
        value = await self._get(self.key_builder.build(key, "state"))
        return value.decode() if value is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the data (empty: delete it)."""
        encoded = json.dumps(dict(data), separators=(",", ":")).encode() if data else None
        await self._set(self.key_builder.build(key, "data"), encoded)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The data ({} when none)."""
        value = await self._get(self.key_builder.build(key, "data"))
        return dict(json.loads(value)) if value is not None else {}

    async def close(self) -> None:
        """The cluster client is the gateway's: it closes it."""


def create_storage(redis: RedisCluster, id_key: bytes, ttl_seconds: int) -> VeilStorage:
    """FSM storage on ``redis`` whose records expire after ``ttl_seconds``."""
    return VeilStorage(redis, id_key, ttl_seconds)
