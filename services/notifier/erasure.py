"""What the queue keeps of people, and for how long.

* **Erasure** (``NotifierService.Erase``, for ``/deleteme``): every message to the
  member's chat (found by its keyed hash) goes, whatever its state (its text, the
  sealed chat id, idempotency and collapse keys derived from the member), with
  its dead letters and the chat's 403 mark. Messages to others that carry the
  member's content (their confessions' cards, channel posts) are named by key:
  their sealed parameters are emptied and, if still waiting, they are not sent
  any more. Their keys stay (they name confessions, not people), so a retried enqueue stays a no-op.
* **Retention**: finished messages (sent, dead, dropped, collapsed) go after
  ``VEIL_OUTBOX_RETENTION_DAYS``, dead letters after
  ``VEIL_DEAD_LETTER_RETENTION_DAYS``; the notifier service prunes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update

from services.notifier.models import dead_letters, outbox
from services.notifier.recipients import chat_key
from services.notifier.repository.rows import COLLAPSED, DEAD, DROPPED, QUEUED, SENT
from veil.core.db import Database
from veil.core.sealing import Keyring

_BATCH = 1000
_MAX_BATCHES = 20
# Finished messages: nothing will happen to them any more.
DONE = (SENT, DEAD, DROPPED, COLLAPSED)


def _days_ago(days: float) -> object:
    return func.now() - func.make_interval(0, 0, 0, 0, 0, 0, days * 86400)


class QueueErasure:
    """Erasure of a member's traces and pruning of finished messages."""

    def __init__(self, db: Database, keys: Keyring) -> None:
        self._db = db
        self._keys = keys

    async def erase(
        self, community_id: int, chat_ids: Sequence[int], keys: Sequence[str]
    ) -> tuple[int, int]:
        """(messages deleted, messages scrubbed); see the module's docstring."""
        deleted = scrubbed = 0
        chat_keys = [chat_key(self._keys, community_id, chat_id) for chat_id in chat_ids]
        async with self._db.write() as conn:
            if chat_keys:
                to_them = (outbox.c.community_id == community_id) & outbox.c.chat_key.in_(chat_keys)
                result = await conn.execute(delete(outbox).where(to_them))
                deleted = int(result.rowcount or 0)
                await conn.execute(
                    delete(dead_letters).where(
                        dead_letters.c.community_id == community_id,
                        dead_letters.c.chat_key.in_(chat_keys),
                    )
                )
            if keys:
                named = (outbox.c.community_id == community_id) & outbox.c.idempotency_key.in_(keys)
                # Still waiting: never sent now (an edit of it is dropped, see drop_edit).
                await conn.execute(
                    update(outbox)
                    .where(named, outbox.c.status == QUEUED)
                    .values(status=COLLAPSED, reason="erased")
                )
                ids = (
                    await conn.execute(
                        update(outbox)
                        .where(named)
                        .values(sealed=None, last_error=None)
                        .returning(outbox.c.id)
                    )
                ).all()
                scrubbed = len(ids)
                if ids:
                    await conn.execute(
                        update(dead_letters)
                        .where(dead_letters.c.outbox_id.in_([row.id for row in ids]))
                        .values(params={})
                    )
        return deleted, scrubbed

    async def drop_edit(self, message_id: int, worker: str) -> None:
        """An edit of a message that was never sent (erased first): nothing to edit."""
        async with self._db.write() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id, outbox.c.leased_by == worker)
                .values(status=DROPPED, reason="nothing to edit", lease_until=None, sealed=None)
            )

    async def prune(self, outbox_days: float, dead_letter_days: float) -> dict[str, int]:
        """Delete finished messages and dead letters older than their retention."""
        removed = {"outbox": 0, "dead_letters": 0}
        old_messages = (
            select(outbox.c.id)
            .where(outbox.c.status.in_(DONE), outbox.c.created_at < _days_ago(outbox_days))
            .limit(_BATCH)
        )
        old_letters = (
            select(dead_letters.c.outbox_id)
            .where(dead_letters.c.created_at < _days_ago(dead_letter_days))
            .limit(_BATCH)
        )
        async with self._db.write() as conn:
            for table, statement in (
                ("outbox", delete(outbox).where(outbox.c.id.in_(old_messages))),
                (
                    "dead_letters",
                    delete(dead_letters).where(dead_letters.c.outbox_id.in_(old_letters)),
                ),
            ):
                for _ in range(_MAX_BATCHES):
                    count = int((await conn.execute(statement)).rowcount or 0)
                    removed[table] += count
                    if count < _BATCH:
                        break
        return removed
