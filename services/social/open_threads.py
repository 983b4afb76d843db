"""Whether a thread is open: its confession is approved or published, not withdrawn.

The confessions service owns a confession's status. The social service keeps
the state of the threads it holds comments for (thread_states.py) and refuses
a reaction or a report on a closed one by itself; only for a thread whose
author it does not know (comments from before that) it asks the confessions
service, so that a press on a thread message shown before its confession was
withdrawn (the author erased their data) or on a forged button changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from services.social.thread_states import ThreadStateUnknownError
from veil.core.errors import NotFoundError
from veil.v1 import confessions_pb2, confessions_pb2_grpc, social_pb2

T = TypeVar("T")

_OPEN = frozenset(
    {confessions_pb2.CONFESSION_STATUS_APPROVED, confessions_pb2.CONFESSION_STATUS_PUBLISHED}
)


async def require_open(
    confessions: confessions_pb2_grpc.ConfessionsServiceStub, thread: social_pb2.ThreadContext
) -> None:
    """Raise NotFoundError unless ``thread`` names an open confession of its community."""
    try:
        found = await confessions.GetConfession(
            confessions_pb2.GetConfessionRequest(
                community_id=thread.community_id, number=thread.confession_number
            )
        )
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        found = None
    if (
        found is None
        or found.confession.id != thread.confession_id
        or found.confession.status not in _OPEN
    ):
        raise NotFoundError(f"confession #{thread.confession_number} is not open")


async def on_open_thread(
    confessions: confessions_pb2_grpc.ConfessionsServiceStub,
    thread: social_pb2.ThreadContext,
    attempt: Callable[[bool], Awaitable[T]],
) -> T:
    """Run ``attempt(known_open)``: first on the state kept here, and once more
    after the confessions service confirmed a thread whose state is unknown."""
    try:
        return await attempt(False)
    except ThreadStateUnknownError:
        await require_open(confessions, thread)
        return await attempt(True)
