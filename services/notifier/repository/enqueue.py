"""Queueing Bot API calls: one statement for one message or a batch, a transaction otherwise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from services.notifier.models import outbox, unreachable_chats
from services.notifier.recipients import (
    chat_key,
    seal_call,
)
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.enqueue_many import enqueue_many, fits_one_statement
from services.notifier.repository.enqueue_one import enqueue_one
from services.notifier.repository.rows import (
    COLLAPSED,
    DROPPED,
    QUEUED,
    NewMessage,
)
from veil.core.sealing import Keyring


class Enqueue(RepositoryBase):
    """Writes of new messages into the outbox."""

    async def enqueue(self, messages: list[NewMessage]) -> tuple[list[int], int]:
        """Queue messages in one statement; returns (ids in order, how many were new).

        A batch repeating a key or a collapse key within itself takes one
        transaction instead (see enqueue_many.py).

        A message to a chat that blocked the bot is stored as ``dropped`` at once.
        A new message with a collapse key collapses older *queued* (not leased)
        messages of the same community with that key.
        """
        if len(messages) == 1:
            new_id, new = await enqueue_one(
                self._db,
                _values(messages[0], self._keys),
                queued=QUEUED,
                dropped=DROPPED,
                collapsed=COLLAPSED,
            )
            return [new_id], int(new)
        batch = [_values(m, self._keys) for m in messages]
        if fits_one_statement(batch):
            return await enqueue_many(
                self._db, batch, queued=QUEUED, dropped=DROPPED, collapsed=COLLAPSED
            )
        ids: list[int] = []
        accepted = 0
        async with self._db.write() as conn:
            blocked = await self._blocked_chats(conn, messages)
            for message in messages:
                values = _values(message, self._keys)
                if (message.community_id, values["chat_key"]) in blocked:
                    # Never sent: it keeps no recipient.
                    values |= {"status": DROPPED, "reason": "blocked", "sealed": None}
                statement = (
                    insert(outbox)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=[outbox.c.idempotency_key])
                    .returning(outbox.c.id)
                )
                new_id = (await conn.execute(statement)).scalar_one_or_none()
                if new_id is None:
                    existing = select(outbox.c.id).where(
                        outbox.c.idempotency_key == message.idempotency_key
                    )
                    new_id = (await conn.execute(existing)).scalar_one()
                else:
                    accepted += 1
                    if message.collapse_key is not None:
                        await conn.execute(
                            update(outbox)
                            .where(
                                outbox.c.collapse_key == message.collapse_key,
                                outbox.c.community_id == message.community_id,
                                outbox.c.status == QUEUED,
                                outbox.c.id < new_id,
                            )
                            .values(status=COLLAPSED, reason=f"collapsed by {new_id}", sealed=None)
                        )
                ids.append(int(new_id))
        return ids, accepted

    async def _blocked_chats(self, conn: Any, messages: list[NewMessage]) -> set[tuple[int, bytes]]:
        keys = self._keys
        pairs = {(m.community_id, chat_key(keys, m.community_id, m.chat_id)) for m in messages}
        communities = {c for c, _ in pairs}
        chats = {c for _, c in pairs}
        rows = await conn.execute(
            select(unreachable_chats.c.community_id, unreachable_chats.c.chat_key).where(
                unreachable_chats.c.community_id.in_(communities),
                unreachable_chats.c.chat_key.in_(chats),
            )
        )
        return {(int(r.community_id), bytes(r.chat_key)) for r in rows} & pairs


def _values(message: NewMessage, keys: Keyring) -> dict[str, Any]:
    """The outbox columns of a new message: its recipient keyed and sealed."""
    values: dict[str, Any] = {
        "community_id": message.community_id,
        "chat_key": chat_key(keys, message.community_id, message.chat_id),
        "method": message.method,
        "sealed": seal_call(keys, message.idempotency_key, message.chat_id, message.params),
        "priority": message.priority,
        "idempotency_key": message.idempotency_key,
        "collapse_key": message.collapse_key,
        "trace_context": message.trace_context or {},
        "edit_of": message.edit_of,
    }
    if message.not_before is not None:
        values["not_before"] = message.not_before
    return values
