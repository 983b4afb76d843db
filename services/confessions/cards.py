"""Retiring the gateway's cards (veil/contracts/cards.py) around a change.

A change the gateway's cached answers would miss (a ban, notifications turned
off or on, a member found unreachable, an erasure, a thread taken down, a
community's rules changed) retires
the cards it touches twice: a tombstone *before* the change, which a failure
to write stops before anything changed (the caller's retry starts again), and
one *after* it commits, so that even a transaction that ran longer than a
tombstone lives leaves no stale card behind. Any update that read the old row
ends within the tombstone's life, so its answer is never kept.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from services.confessions.communities_repository import CommunitiesRepository
from veil.contracts.cards import (
    TOMBSTONE,
    TOMBSTONE_SECONDS,
    member_card_key,
    member_tag,
    rules_card_key,
    thread_card_key,
)
from veil.core.errors import CommunityNotFoundError

log = logging.getLogger(__name__)


class CardRetirement:
    """Writes the tombstones of members' and threads' cards."""

    def __init__(self, redis: RedisCluster, id_key: bytes, communities: CommunitiesRepository):
        self._redis = redis
        self._id_key = id_key
        self._communities = communities
        # A community's bot id never changes (communities are keyed by it).
        self._bots: dict[int, int] = {}

    async def member_keys(self, community_id: int, telegram_user_id: int) -> list[str]:
        """The card key of the member ``telegram_user_id`` of ``community_id``
        (none for a community that does not exist: no gateway serves it)."""
        bot_id = self._bots.get(community_id)
        if bot_id is None:
            try:
                bot_id = await self._communities.bot_id(community_id)
            except CommunityNotFoundError:
                return []
            self._bots[community_id] = bot_id
        return [member_card_key(member_tag(self._id_key, bot_id, telegram_user_id))]

    @staticmethod
    def thread_keys(community_id: int, numbers: Iterable[int]) -> list[str]:
        """The card keys of threads ``numbers`` of ``community_id``."""
        return [thread_card_key(community_id, number) for number in numbers]

    @staticmethod
    def rules_keys(community_id: int) -> list[str]:
        """The card key of ``community_id``'s rules for comments."""
        return [rules_card_key(community_id)]

    async def retire(self, keys: list[str]) -> None:
        """Tombstone ``keys`` (before a change: raises, so nothing changes)."""
        for key in keys:
            await self._redis.set(key, TOMBSTONE, ex=TOMBSTONE_SECONDS)

    async def retire_again(self, keys: list[str]) -> None:
        """Tombstone ``keys`` once more after the change committed; a failure is
        only logged (the tombstones written before the change stand)."""
        try:
            await self.retire(keys)
        except RedisError as error:
            log.warning(
                "cards not retired after a change", extra={"error_type": type(error).__name__}
            )

    @contextlib.asynccontextmanager
    async def around(self, keys: list[str]) -> AsyncIterator[None]:
        """Retire ``keys`` before the change the block makes and again after it."""
        await self.retire(keys)
        yield
        await self.retire_again(keys)
