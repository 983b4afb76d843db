"""Taking a confession down after reports (issue 16): the admins' "🗑 Take down" on
a reported confession's card. One conditional UPDATE (approved or published →
deleted: of two admins, one wins) and the channel post's deletion queued
through the notifier; a post still on its way is deleted when it lands
(RecordPublication finds the confession deleted).

The status and the queue live in two services, so no transaction holds both:
a call that fails after the UPDATE committed (the notifier unreachable, the
pod killed) would lose the deletion if a retry did nothing. So the statement
also answers for a confession that stands taken down (``taken_down_at``), and
every call while it stands queues the deletion again under the same
idempotency key: the retried press finishes the work, and the notifier keeps
one deletion per key (exactly once).
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from sqlalchemy import text

from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.moderate import Moderation
from veil.core.db import Database
from veil.core.outbox import OutgoingCall, Priority, channel_post_key
from veil.v1 import confessions_pb2 as pb

# The outer SELECT sees the snapshot before the UPDATE: the second branch
# answers only for a confession an earlier call took down.
_TAKE_DOWN = text(
    """
WITH t AS (
    UPDATE confessions SET status = 'deleted', taken_down_at = now(), updated_at = now()
    WHERE community_id = :community_id AND number = :number
      AND status IN ('approved', 'published')
    RETURNING id, community_id, channel_message_id
)
SELECT t.id, t.channel_message_id, k.channel_chat_id, true AS won
FROM t JOIN communities k ON k.id = t.community_id
UNION ALL
SELECT c.id, c.channel_message_id, k.channel_chat_id, false AS won
FROM confessions c JOIN communities k ON k.id = c.community_id
WHERE c.community_id = :community_id AND c.number = :number
  AND c.status = 'deleted' AND c.taken_down_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM t)
"""
)


@dataclass(frozen=True)
class TakenDown:
    """A confession that stands taken down, and the post's deletion to queue."""

    confession_id: int
    # True when this call took it down (False: an earlier call did).
    won: bool
    # None while it has no post yet (the post is deleted when it lands).
    deletion: OutgoingCall | None


async def take_down(db: Database, community_id: int, number: int) -> TakenDown | None:
    """Mark confession ``number`` deleted (taken down); None when it is neither
    approved or published nor taken down already (nothing changed)."""
    async with db.write_one() as conn:
        row = (
            (await conn.execute(_TAKE_DOWN, {"community_id": community_id, "number": number}))
            .mappings()
            .one_or_none()
        )
    if row is None:
        return None
    deletion = None
    if row["channel_message_id"]:
        deletion = OutgoingCall(
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
    return TakenDown(int(row["id"]), bool(row["won"]), deletion)


class TakeDownRpcs:
    """ConfessionsService's take-down of a reported confession (a part of
    :class:`ConfessionsServicer`, as the Mini App's RPCs are)."""

    _repository: ConfessionsRepository
    _moderation: Moderation

    async def TakeDownConfession(
        self, request: pb.TakeDownConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.TakeDownConfessionResponse:
        """Delete a reported confession and its channel post (once, whoever asks
        first); a repeated call queues the post's deletion again (the same key)."""
        cards = self._moderation.cards
        # The thread's card goes with it (the gateway's answer to "which thread").
        async with cards.around(cards.thread_keys(request.community_id, [request.number])):
            taken = await take_down(self._repository.db, request.community_id, request.number)
        if taken is None:
            return pb.TakeDownConfessionResponse(done=False)
        if taken.deletion is not None:
            await self._moderation.outbox.send([taken.deletion])
        return pb.TakeDownConfessionResponse(
            done=taken.won, taken_down=True, confession_id=taken.confession_id
        )
