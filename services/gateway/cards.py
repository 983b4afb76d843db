"""The gateway's side of the cards (veil/contracts/cards.py): reading them, and
keeping the answers RegisterMember gave.

A member card is read by the update's claim and written with its "done"
(:class:`MemberCardSlot` carries it between the two); a thread card costs one
GET, and one ``SET NX`` after a miss; so does the rules card, which only a
comment being written reads (beside the thread's, at the same time). A card
that cannot be read is a miss: the update asks the service, as it would
without cards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import DecodeError
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from veil.contracts.cards import (
    MEMBER_CARD,
    RULES_CARD,
    RULES_CARD_SECONDS,
    THREAD_CARD,
    THREAD_CARD_SECONDS,
    rules_card_key,
    thread_card_key,
)
from veil.v1 import common_pb2, confessions_pb2

log = logging.getLogger(__name__)

_Card = TypeVar(
    "_Card",
    confessions_pb2.RegisterMemberResponse,
    confessions_pb2.GetConfessionResponse,
    common_pb2.CommentRules,
)


@dataclass
class MemberCardSlot:
    """One update's member card: as its claim read it, and the one to write with "done"."""

    key: str
    read: bytes | None
    new: bytes | None = None

    def member(self) -> confessions_pb2.RegisterMemberResponse | None:
        """The member the card holds; None without a card (none, retired or unreadable)."""
        return _parsed(self.read, MEMBER_CARD, confessions_pb2.RegisterMemberResponse)

    def keep(self, response: confessions_pb2.RegisterMemberResponse) -> None:
        """Write ``response`` as the member's card with "done", if it may be kept
        and no key stands there (a retired card's tombstone is left alone)."""
        card = member_card(response)
        if self.read is None and card is not None:
            self.new = card


def member_card(response: confessions_pb2.RegisterMemberResponse) -> bytes | None:
    """The member card of ``response`` (its member and standing); None for a
    member under a ban or a shadow ban, whose ban ends by the clock rather
    than by a change the confessions service could retire the card for.

    The card leaves out what changes without a retirement: the approved
    confessions (a report's weight, which reports ask the service for).
    """
    standing = response.standing
    if standing.banned or standing.shadowed:
        return None
    card = confessions_pb2.RegisterMemberResponse(member=response.member, standing=standing)
    card.member.ClearField("confessions_approved")
    return MEMBER_CARD + card.SerializeToString()


def thread_kept(thread: confessions_pb2.GetConfessionResponse) -> bool:
    """Whether a thread's confession may be kept: published, so it only changes
    by being taken down or erased (both retire its card)."""
    return bool(
        thread.confession.status == confessions_pb2.CONFESSION_STATUS_PUBLISHED
        and thread.channel_message_id
    )


class Cards:
    """Thread cards on the cluster (member cards ride with the claim)."""

    def __init__(self, redis: RedisCluster) -> None:
        self._redis = redis

    async def thread(
        self, community_id: int, number: int
    ) -> tuple[bool, confessions_pb2.GetConfessionResponse | None]:
        """(whether no key stands, the thread's card or None)."""
        value = await self._get(thread_card_key(community_id, number))
        card = _parsed(value, THREAD_CARD, confessions_pb2.GetConfessionResponse)
        return value is None, card

    async def rules(self, community_id: int) -> tuple[bool, common_pb2.CommentRules | None]:
        """(whether no key stands, the community's comment rules or None)."""
        value = await self._get(rules_card_key(community_id))
        return value is None, _parsed(value, RULES_CARD, common_pb2.CommentRules)

    async def keep_thread(
        self, community_id: int, number: int, thread: confessions_pb2.GetConfessionResponse
    ) -> None:
        """Store thread ``number``'s card where no key stands (never over a tombstone)."""
        if thread_kept(thread):
            await self._keep(
                thread_card_key(community_id, number),
                THREAD_CARD + thread.SerializeToString(),
                THREAD_CARD_SECONDS,
            )

    async def keep_rules(self, community_id: int, rules: common_pb2.CommentRules) -> None:
        """Store the community's comment rules where no key stands."""
        await self._keep(
            rules_card_key(community_id), RULES_CARD + rules.SerializeToString(), RULES_CARD_SECONDS
        )

    async def _get(self, key: str) -> bytes | None:
        """The key's value; a key that cannot be read is a miss (as a retired one)."""
        try:
            value = await self._redis.get(key)
        except RedisError as error:
            log.warning("card unreadable", extra={"error_type": type(error).__name__})
            return b""
        if isinstance(value, str):  # the client decodes nothing; mypy cannot know
            value = value.encode()
        return value

    async def _keep(self, key: str, value: bytes, seconds: int) -> None:
        try:
            await self._redis.set(key, value, ex=seconds, nx=True)
        except RedisError as error:
            log.warning("card not kept", extra={"error_type": type(error).__name__})


def _parsed(value: bytes | None, kind: bytes, message: type[_Card]) -> _Card | None:
    if value is None or value[:1] != kind:
        return None
    try:
        return message.FromString(value[1:])
    except DecodeError:
        return None
