"""Queueing one message in one statement (the common Enqueue: a card, a notice, an edit).

A new message with a collapse key collapses the older queued ones of its
community in a CTE of the same statement. Only a repeated idempotency key (a
retried call) needs a second statement, to read the first message's id. A
statement runs atomically on its own: no BEGIN/COMMIT round trips.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, literal, null, select, update
from sqlalchemy.dialects.postgresql import insert

from services.notifier.models import outbox
from veil.core.db import Database


async def enqueue_one(
    db: Database, values: dict[str, Any], *, queued: str, collapsed: str
) -> tuple[int, bool]:
    """Queue the message with column ``values``: (its id, whether it is new)."""
    row = {**values, "status": queued}
    inserted = (
        insert(outbox)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[outbox.c.idempotency_key])
        .returning(outbox.c.id)
    )
    collapse_key = values.get("collapse_key")
    if collapse_key is None:
        statement: Any = inserted
    else:
        new = inserted.cte("new")
        new_id = select(new.c.id).scalar_subquery()
        collapsing = (
            update(outbox)
            .where(
                outbox.c.collapse_key == collapse_key,
                outbox.c.community_id == values["community_id"],
                outbox.c.status == queued,
                outbox.c.id < new_id,
            )
            .values(
                status=collapsed,
                reason=literal("collapsed by ") + cast(new_id, Text),
                sealed=null(),
            )
            .cte("collapsing")
        )
        statement = select(new.c.id).add_cte(collapsing)
    async with db.write_one() as conn:
        new_row = (await conn.execute(statement)).scalar_one_or_none()
        if new_row is not None:
            return int(new_row), True
        existing = select(outbox.c.id).where(outbox.c.idempotency_key == values["idempotency_key"])
        return int((await conn.execute(existing)).scalar_one()), False
