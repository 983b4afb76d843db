"""The member behind an update, asked of the confessions service at most once.

An outer middleware gives every handler a :class:`MemberLookup` as ``member``.
It asks nothing by itself: the first handler (or filter) that awaits it makes
the one ``RegisterMember`` call of the update, and later awaits get the same
answer. An update that never needs the member costs no call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services.gateway.clients import ServiceClients
from services.gateway.registry import CommunityEntry
from veil.v1 import confessions_pb2


class MemberLookup:
    """``await member(thread=N)``: the member, their standing, and thread N's confession."""

    def __init__(self, services: ServiceClients, community: CommunityEntry, user: User) -> None:
        self._services = services
        self._community = community
        self._user = user
        self._known: confessions_pb2.RegisterMemberResponse | None = None
        self._thread = 0

    async def __call__(
        self, thread: int = 0, *, again: bool = False
    ) -> confessions_pb2.RegisterMemberResponse:
        """The member; with ``thread``, that thread's confession in the same call.

        The answer of this update's first call is reused unless it lacks the
        thread asked for, or ``again`` asks for a fresh one (after a refusal,
        the thread may have closed meanwhile).
        """
        known = self._known
        if known is None or again or (thread and thread != self._thread):
            known = await self._services.member(self._community, self._user.id, thread)
            self._known, self._thread = known, thread
        return known


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
            data["member"] = MemberLookup(services, community, user)
        return await handler(event, data)
