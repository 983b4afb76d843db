"""Whether a thread is open: its confession is approved or published, not withdrawn.

The confessions service owns a confession's status; the social service asks it
before it stores a reaction or a report, so that a press on a thread message
shown before its confession was withdrawn (the author erased their data) or
on a forged button changes nothing.
"""

from __future__ import annotations

import grpc

from veil.core.errors import NotFoundError
from veil.v1 import confessions_pb2, confessions_pb2_grpc, social_pb2

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
