"""What the worker asks the confessions service: bot tokens, and "this member blocked us"."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from veil.v1 import confessions_pb2, confessions_pb2_grpc

log = logging.getLogger(__name__)

Request = TypeVar("Request", bound=Message)
Response = TypeVar("Response", bound=Message)


class BotTokens:
    """Each community's bot token, from ``ListCommunities(include_secrets=True)``.

    Reloaded every ``refresh_seconds``, and when a message names a community the
    worker does not know yet (added after the last reload). Only the services
    queue messages, so a miss is a new community, not a flood to guard against;
    misses that arrive while a reload is under way wait for it instead of
    starting another.
    """

    def __init__(
        self,
        communities: confessions_pb2_grpc.CommunitiesServiceStub,
        *,
        refresh_seconds: float,
    ) -> None:
        self._communities = communities
        self._tokens: dict[int, str] = {}
        self._loaded_at = 0.0
        # When the reload that produced ``_tokens`` was started.
        self._load_started = float("-inf")
        self._refresh_seconds = refresh_seconds
        self._lock = asyncio.Lock()

    async def token(self, community_id: int) -> str | None:
        """The community's bot token, or None when the community does not exist."""
        token = self._tokens.get(community_id)
        if token is None or time.monotonic() - self._loaded_at >= self._refresh_seconds:
            await self.refresh(asked_at=time.monotonic())
            token = self._tokens.get(community_id)
        return token

    async def refresh(self, asked_at: float | None = None) -> None:
        """Reload every token, unless a reload started after ``asked_at`` already."""
        async with self._lock:
            if asked_at is not None and self._load_started >= asked_at:
                return
            started = time.monotonic()
            response = await self._communities.ListCommunities(
                confessions_pb2.ListCommunitiesRequest(include_secrets=True)
            )
            self._tokens = {c.id: c.bot_token for c in response.communities}
            self._load_started = started
            self._loaded_at = time.monotonic()


class MemberDirectory:
    """Tells the confessions service that a member blocked the bot.

    The confessions service owns the fact: ``MembersService.MarkUnreachable``
    makes it skip notices to the member until they write to the bot again. The
    notifier keeps no copy (it drops what is queued for the chat on each 403),
    so the call is retried a few times: a fact lost here is only learnt again
    from the next notice's 403.
    """

    def __init__(self, members: confessions_pb2_grpc.MembersServiceStub, attempts: int = 5) -> None:
        self._members = members
        self._attempts = attempts

    async def mark_unreachable(self, community_id: int, telegram_user_id: int) -> bool:
        """Tell confessions; returns whether it was told."""
        request = confessions_pb2.MarkUnreachableRequest(
            community_id=community_id, telegram_user_id=telegram_user_id
        )
        answer = await with_retries(
            self._members.MarkUnreachable, request, community_id, self._attempts
        )
        return answer is not None


class Publications:
    """Tells the confessions service the message id of a confession's channel post.

    Called after the post was sent and recorded as sent; retried a few times,
    because the post's id exists nowhere else (the confession stays
    ``approved`` without it, and its comment counter cannot be edited).
    """

    def __init__(
        self, confessions: confessions_pb2_grpc.ConfessionsServiceStub, attempts: int = 5
    ) -> None:
        self._confessions = confessions
        self._attempts = attempts

    async def record(self, community_id: int, confession_id: int, message_id: int) -> bool | None:
        """Report the post; whether the confessions service stored it (None: no answer)."""
        request = confessions_pb2.RecordPublicationRequest(
            community_id=community_id, confession_id=confession_id, channel_message_id=message_id
        )
        response = await with_retries(
            self._confessions.RecordPublication, request, community_id, self._attempts
        )
        return None if response is None else bool(response.published)


async def with_retries(
    call: Callable[[Request], Awaitable[Response]],
    request: Request,
    community_id: int,
    attempts: int,
) -> Response | None:
    """``call(request)``, tried up to ``attempts`` times with growing pauses;
    None when it never succeeded (each failure is logged)."""
    for attempt in range(1, attempts + 1):
        try:
            return await call(request)
        except grpc.aio.AioRpcError as error:
            log.warning(
                "call to the confessions service failed",
                extra={
                    "community": community_id,
                    "request": type(request).__name__,
                    "code": error.code().name,
                    "attempt": attempt,
                },
            )
            if attempt < attempts:
                await asyncio.sleep(min(5.0, 0.2 * 2**attempt))
    return None
