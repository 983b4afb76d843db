"""A chat that answered 403: what is queued for it is dropped.

Whether a member blocked the bot is the confessions service's fact
(``members.unreachable_since``): the worker tells it (``MembersService.MarkUnreachable``),
it stops queuing their notices and clears the mark when they write again. The
notifier keeps no copy; it only acts on the answer it got.
"""

from __future__ import annotations

from sqlalchemy import null, update

from services.notifier.models import outbox
from services.notifier.recipients import chat_key
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.rows import DROPPED, QUEUED, SENDING


class Reachability(RepositoryBase):
    """The effect of a 403 on the outbox."""

    async def drop_blocked(
        self, community_id: int, chat_id: int, message_id: int, description: str
    ) -> int:
        """The chat answered 403: drop its pending messages; returns how many."""
        key = chat_key(self._keys, community_id, chat_id)
        async with self._db.write_one() as conn:
            result = await conn.execute(
                update(outbox)
                .where(
                    outbox.c.community_id == community_id,
                    outbox.c.chat_key == key,
                    # The message that got the 403, and every one still waiting;
                    # not one another worker has in flight (its own answer decides).
                    (outbox.c.id == message_id) | (outbox.c.status == QUEUED),
                    outbox.c.status.in_([QUEUED, SENDING]),
                )
                .values(
                    status=DROPPED,
                    reason="blocked",
                    last_error=description,
                    lease_until=None,
                    sealed=null(),
                )
            )
        return int(result.rowcount)
