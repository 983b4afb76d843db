"""What the queue keeps of people, and for how long.

* **Erasure** (``NotifierService.Erase``, for ``/deleteme``): every message to the
  member's chat (found by its keyed hash) goes, whatever its state (its text, the
  sealed chat id, idempotency and collapse keys derived from the member), with
  its dead letters. Messages to others that carry the
  member's content (their confessions' cards, channel posts) are named by key,
  their messages to the admins by key prefix: their sealed parameters are emptied
  and, if still waiting, they are not sent any more; the admin-chat messages
  already sent are deleted (the service queues a deleteMessage for each). Their
  keys stay (they name confessions and conversations, not people), so a retried
  enqueue stays a no-op.
* **Retention**: finished messages (sent, dead, dropped, collapsed) go after
  ``VEIL_OUTBOX_RETENTION_DAYS``, dead letters after
  ``VEIL_DEAD_LETTER_RETENTION_DAYS``; the notifier service prunes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

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


@dataclass(frozen=True)
class Erased:
    """What an erasure did: messages to the member deleted, messages named by key or
    prefix scrubbed, and (key, message id) of the sent ones posted by the member."""

    deleted: int
    scrubbed: int
    posted: list[tuple[str, int]]


class QueueErasure:
    """Erasure of a member's traces and pruning of finished messages."""

    def __init__(self, db: Database, keys: Keyring) -> None:
        self._db = db
        self._keys = keys

    async def erase(
        self,
        community_id: int,
        chat_ids: Sequence[int],
        keys: Sequence[str],
        *,
        posted_in: int = 0,
        posted_prefixes: Sequence[str] = (),
    ) -> Erased:
        """What went (see the module's docstring)."""
        deleted = 0
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
            named: list[ColumnElement[bool]] = [outbox.c.idempotency_key.in_(keys)] if keys else []
            if posted_prefixes:
                # Only what was posted in that chat (its keyed hash) under a prefix.
                in_chat = outbox.c.chat_key == chat_key(self._keys, community_id, posted_in)
                named += [
                    in_chat & outbox.c.idempotency_key.startswith(prefix, autoescape=True)
                    for prefix in posted_prefixes
                ]
            if not named:
                return Erased(deleted, 0, [])
            scrubbed, sent = await _scrub(
                conn, (outbox.c.community_id == community_id) & or_(*named)
            )
        posted = [
            (key, message_id)
            for key, message_id in sent
            if any(key.startswith(prefix) for prefix in posted_prefixes)
        ]
        return Erased(deleted, scrubbed, posted)

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


async def _scrub(
    conn: AsyncConnection, named: ColumnElement[bool]
) -> tuple[int, list[tuple[str, int]]]:
    """Empty the named messages' parameters (and their dead letters'); a waiting one is
    never sent now (an edit of it is dropped, see drop_edit). Returns how many, and
    (key, Telegram's message id) of those already sent."""
    await conn.execute(
        update(outbox)
        .where(named, outbox.c.status == QUEUED)
        .values(status=COLLAPSED, reason="erased")
    )
    rows = (
        await conn.execute(
            update(outbox)
            .where(named)
            .values(sealed=None, last_error=None)
            .returning(
                outbox.c.id, outbox.c.idempotency_key, outbox.c.status, outbox.c.sent_message_id
            )
        )
    ).all()
    if rows:
        await conn.execute(
            update(dead_letters)
            .where(dead_letters.c.outbox_id.in_([row.id for row in rows]))
            .values(params={})
        )
    sent = [
        (str(row.idempotency_key), int(row.sent_message_id))
        for row in rows
        if row.status == SENT and row.sent_message_id
    ]
    return len(rows), sent
