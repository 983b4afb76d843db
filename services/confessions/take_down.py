"""Taking a confession down after reports (issue 16): the admins' "🗑 Take down" on
a reported confession's card. One conditional UPDATE (approved or published →
deleted: of two admins, one wins) and the channel post's deletion queued
through the notifier; a post still on its way is deleted when it lands
(RecordPublication finds the confession deleted)."""

from __future__ import annotations

import grpc
from sqlalchemy import text

from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.moderate import Moderation
from veil.core.db import Database
from veil.core.outbox import OutgoingCall, Priority, channel_post_key
from veil.v1 import confessions_pb2 as pb

_TAKE_DOWN = text(
    """
WITH t AS (
    UPDATE confessions SET status = 'deleted', updated_at = now()
    WHERE community_id = :community_id AND number = :number
      AND status IN ('approved', 'published')
    RETURNING id, community_id, channel_message_id
)
SELECT t.id, t.channel_message_id, k.channel_chat_id
FROM t JOIN communities k ON k.id = t.community_id
"""
)


async def take_down(db: Database, community_id: int, number: int) -> OutgoingCall | bool | None:
    """Mark confession ``number`` deleted; the post's deletion to queue (None without a
    post yet), or False when it was not approved or published (nothing changed)."""
    async with db.write_one() as conn:
        row = (
            (await conn.execute(_TAKE_DOWN, {"community_id": community_id, "number": number}))
            .mappings()
            .one_or_none()
        )
    if row is None:
        return False
    if not row["channel_message_id"]:
        return None
    return OutgoingCall(
        community_id=community_id,
        method="deleteMessage",
        chat_id=int(row["channel_chat_id"]),
        params={"message_id": int(row["channel_message_id"])},
        # The key a post landing after the confession went uses too: one deletion.
        idempotency_key=f"unpublish:{row['id']}",
        # Replaces a counter edit still waiting: the post is going.
        collapse_key=channel_post_key(community_id, int(row["id"])),
        priority=Priority.INTERACTIVE,
    )


class TakeDownRpcs:
    """ConfessionsService's take-down of a reported confession (a part of
    :class:`ConfessionsServicer`, as the Mini App's RPCs are)."""

    _repository: ConfessionsRepository
    _moderation: Moderation

    async def TakeDownConfession(
        self, request: pb.TakeDownConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.TakeDownConfessionResponse:
        """Delete a reported confession and its channel post (once, whoever asks first)."""
        call = await take_down(self._repository.db, request.community_id, request.number)
        if call is False:
            return pb.TakeDownConfessionResponse(done=False)
        if isinstance(call, OutgoingCall):
            await self._moderation.outbox.send([call])
        return pb.TakeDownConfessionResponse(done=True)
