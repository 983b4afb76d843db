"""Queueing Bot API calls: one statement for one message or a batch, a transaction for a
batch that repeats a key within itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier.models import WEIGHTY_BELOW, outbox
from services.notifier.recipients import (
    chat_key,
    seal_call,
)
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.enqueue_many import enqueue_many, fits_one_statement
from services.notifier.repository.rows import (
    COLLAPSED,
    QUEUED,
    STANDING,
    NewMessage,
)
from veil.core.sealing import Keyring


class Enqueue(RepositoryBase):
    """Writes of new messages into the outbox."""

    async def enqueue(self, messages: list[NewMessage]) -> tuple[list[int], int]:
        """Queue messages in one statement; returns (ids in order, how many were new).

        A batch repeating an idempotency key within itself takes one
        transaction instead (see enqueue_many.py).

        Whether the recipient blocked the bot is not the notifier's to know: the
        confessions service skips such members, and a 403 drops what is queued
        (see reachability.py). A new message with a collapse key collapses older
        *queued* (not leased) messages of the same community with that key,
        unless they are weightier (a lower priority number); one that finds a
        weightier message with its key queued, being sent or sent is stored
        collapsed.
        """
        batch = [_values(m, self._keys) for m in messages]
        if fits_one_statement(batch):
            return await enqueue_many(self._db, batch)
        ids: list[int] = []
        accepted = 0
        async with self._db.write() as conn:
            # The weightiest standing message per collapse key, read once for
            # the batch and kept up to date as its messages are stored.
            weightiest = await _standing_priorities(conn, batch)
            # The batch's rows as already sealed: each sealing mints a nonce and
            # an HMAC, so it is done once per message.
            for message, values in zip(messages, batch, strict=True):
                if message.collapse_key is not None:
                    slot = (message.community_id, message.collapse_key)
                    if weightiest.get(slot, _NONE) < message.priority:
                        # As enqueue_many does: a lesser message never undoes a
                        # weightier one with its collapse key; it is dropped.
                        values = {**values, "status": COLLAPSED, "sealed": None}
                    else:
                        weightiest[slot] = message.priority
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
                    if message.collapse_key is not None and values.get("status") != COLLAPSED:
                        await conn.execute(
                            update(outbox)
                            .where(
                                outbox.c.collapse_key == message.collapse_key,
                                outbox.c.community_id == message.community_id,
                                outbox.c.status == QUEUED,
                                outbox.c.id < new_id,
                                outbox.c.priority >= message.priority,
                            )
                            .values(status=COLLAPSED, reason=f"collapsed by {new_id}", sealed=None)
                        )
                ids.append(int(new_id))
        return ids, accepted


# Above every priority: no weighty message with that collapse key.
_NONE = 1 << 15


async def _standing_priorities(
    conn: AsyncConnection, batch: list[dict[str, Any]]
) -> dict[tuple[int, str], int]:
    """(community, collapse key) → the weightiest priority queued, being sent
    or sent, for the batch's collapse keys (background ones left out: nothing
    is lesser than they are)."""
    keys = sorted({str(v["collapse_key"]) for v in batch if v.get("collapse_key") is not None})
    if not keys:
        return {}
    found = await conn.execute(
        select(outbox.c.community_id, outbox.c.collapse_key, func.min(outbox.c.priority))
        .where(
            outbox.c.collapse_key.in_(keys),
            # Literals, so that the partial index of weighty messages serves.
            text(f"priority < {WEIGHTY_BELOW}"),
            outbox.c.status.in_(STANDING),
        )
        .group_by(outbox.c.community_id, outbox.c.collapse_key)
    )
    return {(int(r[0]), str(r[1])): int(r[2]) for r in found}


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
