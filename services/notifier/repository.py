"""All SQL of the notifier service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.notifier.models import outbox
from veil.core.db import Database


@dataclass(frozen=True)
class NewMessage:
    """One Bot API call to queue."""

    community_id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    idempotency_key: str
    collapse_key: str | None
    not_before: datetime | None


@dataclass(frozen=True)
class QueueStatRow:
    """Depth and oldest age of one (community, priority) queue."""

    community_id: int
    priority: int
    depth: int
    oldest_age_seconds: float


class NotifierRepository:
    """Reads and writes of the ``notifier`` schema."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, messages: list[NewMessage]) -> tuple[list[int], int]:
        """Queue messages in one transaction; returns (ids in order, how many were new)."""
        ids: list[int] = []
        accepted = 0
        async with self._db.write() as conn:
            for message in messages:
                values: dict[str, Any] = {
                    "community_id": message.community_id,
                    "chat_id": message.chat_id,
                    "method": message.method,
                    "params": message.params,
                    "priority": message.priority,
                    "idempotency_key": message.idempotency_key,
                    "collapse_key": message.collapse_key,
                }
                if message.not_before is not None:
                    values["not_before"] = message.not_before
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
                ids.append(int(new_id))
        return ids, accepted

    async def queue_stats(self) -> list[QueueStatRow]:
        """Depth and oldest age per (community, priority) of queued messages."""
        statement = (
            select(
                outbox.c.community_id,
                outbox.c.priority,
                func.count().label("depth"),
                func.extract("epoch", func.now() - func.min(outbox.c.created_at)).label("age"),
            )
            .where(outbox.c.status == "queued")
            .group_by(outbox.c.community_id, outbox.c.priority)
            .order_by(outbox.c.community_id, outbox.c.priority)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            QueueStatRow(int(r.community_id), int(r.priority), int(r.depth), float(r.age))
            for r in rows
        ]
