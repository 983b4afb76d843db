"""The member behind an update, asked of the confessions service at most once.

An outer middleware gives every handler a :class:`MemberLookup` as ``member``.
It asks nothing by itself: the first handler (or filter) that awaits it reads
the member's card (services/gateway/cards.py: read by the update's claim, and
a thread's card with one GET) and only without one makes the update's
``RegisterMember`` call; later awaits get the same answer. An update that
never needs the member costs no call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services.gateway.cards import Cards, MemberCardSlot
from services.gateway.clients import ServiceClients
from services.gateway.registry import CommunityEntry
from veil.v1 import confessions_pb2

# Handler data keys: the cards of the deployment, the card of the update.
CARDS_KEY = "cards"
MEMBER_CARD_KEY = "member_card"


class MemberLookup:
    """``await member(thread=N)``: the member, their standing, and thread N's confession."""

    def __init__(
        self,
        services: ServiceClients,
        community: CommunityEntry,
        user: User,
        cards: Cards | None = None,
        slot: MemberCardSlot | None = None,
    ) -> None:
        self._services = services
        self._community = community
        self._user = user
        self._cards = cards
        self._slot = slot
        self._known: confessions_pb2.RegisterMemberResponse | None = None
        self._thread = 0
        # Whether the answer is the service's own (no card counts the member's
        # approved confessions).
        self._asked = False

    async def __call__(
        self, thread: int = 0, *, again: bool = False, rules: bool = False, counted: bool = False
    ) -> confessions_pb2.RegisterMemberResponse:
        """The member; with ``thread``, that thread's confession in the same call.

        The answer of this update's first call is reused unless it lacks the
        thread asked for, or ``again`` asks for a fresh one (after a refusal,
        the thread may have closed meanwhile). ``rules`` asks for the thread's
        ``comment_rules`` too (the community's rules card, or the service);
        ``counted`` for the member's approved confessions, which no card holds
        (a report's weight): only the service's own answer has them.
        """
        known = self._known
        if (
            known is not None
            and not again
            and (not thread or thread == self._thread)
            and (self._asked or not counted)
            and (not rules or known.HasField("comment_rules"))
        ):
            return known
        keep = _Missing()
        if not again and not counted:
            carded, keep = await self._carded(thread, rules=rules)
            if carded is not None:
                self._known, self._thread, self._asked = carded, thread, False
                return carded
        known = await self._services.member(self._community, self._user.id, thread)
        self._known, self._thread, self._asked = known, thread, True
        if self._slot is not None:
            self._slot.keep(known)
        if self._cards is not None:
            if keep.thread and known.HasField("thread"):
                await self._cards.keep_thread(self._community.id, thread, known.thread)
            if keep.rules and known.HasField("comment_rules"):
                await self._cards.keep_rules(self._community.id, known.comment_rules)
        return known

    async def _carded(
        self, thread: int, *, rules: bool
    ) -> tuple[confessions_pb2.RegisterMemberResponse | None, _Missing]:
        """The answer the cards give (the thread's confession and, with ``rules``,
        the community's comment rules included) or None, and which cards to
        keep once the service answered (no key stood for them, or none was
        looked for)."""
        member = self._known or (self._slot.member() if self._slot is not None else None)
        if not thread:
            return member, _Missing()
        if member is None or self._cards is None:
            return None, _Missing(thread=True, rules=rules)
        if rules:
            (no_thread, card), (no_rules, comment_rules) = await asyncio.gather(
                self._cards.thread(self._community.id, thread),
                self._cards.rules(self._community.id),
            )
        else:
            no_thread, card = await self._cards.thread(self._community.id, thread)
            no_rules, comment_rules = False, None
        if card is None or (rules and comment_rules is None):
            return None, _Missing(thread=no_thread, rules=no_rules)
        carded = confessions_pb2.RegisterMemberResponse()
        carded.CopyFrom(member)
        carded.thread.CopyFrom(card)
        if comment_rules is None:
            carded.ClearField("comment_rules")
        else:
            carded.comment_rules.CopyFrom(comment_rules)
        return carded, _Missing()


@dataclass(frozen=True)
class _Missing:
    """The cards no key stood for: the service's answer is kept in them."""

    thread: bool = False
    rules: bool = False


class MemberMiddleware(BaseMiddleware):
    """Puts a :class:`MemberLookup` into the handler data of every update with a sender."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        community = data.get("community")
        services = data.get("services")
        if user is not None and community is not None and services is not None:
            data["member"] = MemberLookup(
                services, community, user, data.get(CARDS_KEY), data.get(MEMBER_CARD_KEY)
            )
        return await handler(event, data)
